# ngx_consent_module
#
#   make            build build/ngx_http_consent_module.so against nginx-dev
#   make deps       install the Debian packages (idempotent)
#   make test       deps + build, then the C unit tests, short fuzz runs
#                   and the t/ suite
#   make test-asan  the t/ suite with the module under ASan and UBSan
#   make run        the local demo: redis + origin + nginx with the module
#   make bench      wrk: the module against plain proxy_pass, same nginx
#   make install    the module into Debian's modules dir, rules into
#                   /etc/nginx/consent/
#
# NGINX_SRC may point at another nginx source tree (e.g. upstream 1.27) to
# build the module against it: make NGINX_SRC=/path/to/nginx BUILD=build-up

SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
BUILD      ?= build
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_consent_module.so

DEB_PKGS   := nginx nginx-dev libhiredis-dev libpcre2-dev libssl-dev \
              redis-server curl nghttp2-client wrk clang gcc make perl \
              libclang-rt-14-dev

SRCS       := $(wildcard ngx_consent_module/*.c ngx_consent_module/*.h \
                         ngx_consent_module/consent_core/*.c \
                         ngx_consent_module/consent_core/*.h)

TEST_FUZZ_SECONDS ?= 10
MODULES_DIR ?= /usr/lib/nginx/modules
CONF_DIR    ?= /etc/nginx/consent

.PHONY: all deps test test-asan unit e2e run bench bench-instructions fuzz \
        install clean

all: $(MODULE)

deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	    echo "deps: all Debian packages present"; \
	fi

# configure once per source tree; nginx's own Makefile tracks the sources
# $(call configure_nginx,DIR,EXTRA): a fresh copy of NGINX_SRC in DIR,
# configured with its conf_flags (Debian's) plus EXTRA and this module
configure_nginx = \
	rm -rf $(1) && mkdir -p $(dir $(1)) && cp -r $(NGINX_SRC) $(1) && \
	cd $(1) && \
	if [ -f conf_flags ]; then . ./conf_flags; \
	else NGX_CONF_FLAGS=(--with-compat --with-http_v2_module \
	                     --with-http_ssl_module); fi; \
	conf=./configure; [ -x $$conf ] || conf=./auto/configure; \
	$$conf "$${NGX_CONF_FLAGS[@]}" $(2) \
	    --add-dynamic-module=$(CURDIR) >configure.log 2>&1 \
	    || { tail -30 configure.log; exit 1; }

$(NGX_BUILD)/objs/Makefile: config
	$(call configure_nginx,$(NGX_BUILD),)

$(MODULE): $(NGX_BUILD)/objs/Makefile $(SRCS)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	cp $(NGX_BUILD)/objs/ngx_http_consent_module.so $@

unit:
	$(MAKE) -C lua-free-tests test

e2e: $(MODULE)
	prove -r t

# a short run of every fuzz target: a regression in a parser shows here,
# the long runs are make fuzz
test: deps
	$(MAKE) $(MODULE)
	$(MAKE) unit
	$(MAKE) -C lua-free-tests fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(MAKE) e2e

run: deps
	$(MAKE) $(MODULE)
	./docker/demo/run.sh

bench: deps
	$(MAKE) $(MODULE)
	./bench/run.sh

# callgrind instruction counts per request (needs valgrind)
bench-instructions: deps
	$(MAKE) $(MODULE)
	command -v valgrind >/dev/null || apt-get install -y -qq valgrind
	./bench/instructions.sh

fuzz:
	$(MAKE) -C lua-free-tests fuzz

# The t/ suite with the module built with ASan and UBSan, loaded into
# Debian's nginx with the sanitizer runtimes preloaded (nginx-dev ships
# only what modules need, not the sources of nginx itself).  Any sanitizer
# report fails the run.
ASAN_BUILD := build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1
ASAN_MODULE := $(ASAN_BUILD)/nginx/objs/ngx_http_consent_module.so

ASAN_CONF := --with-cc-opt="$(ASAN_FLAGS)" \
              --with-ld-opt="-fsanitize=address,undefined"

$(ASAN_MODULE): config $(SRCS)
	rm -rf $(ASAN_BUILD)
	$(call configure_nginx,$(ASAN_BUILD)/nginx,$(ASAN_CONF))
	$(MAKE) -C $(ASAN_BUILD)/nginx -f objs/Makefile modules
	printf '#!/bin/sh\nLD_PRELOAD="%s %s" exec %s "$$@"\n' \
	    "$$(gcc -print-file-name=libasan.so)" \
	    "$$(gcc -print-file-name=libubsan.so)" /usr/sbin/nginx \
	    > $(ASAN_BUILD)/nginx-asan
	chmod +x $(ASAN_BUILD)/nginx-asan

test-asan: deps $(ASAN_MODULE)
	rm -rf $(ASAN_BUILD)/reports && mkdir -p $(ASAN_BUILD)/reports
	NGINX_BIN=$(CURDIR)/$(ASAN_BUILD)/nginx-asan \
	CONSENT_MODULE=$(CURDIR)/$(ASAN_MODULE) \
	ASAN_OPTIONS=detect_leaks=0:log_path=$(CURDIR)/$(ASAN_BUILD)/reports/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(ASAN_BUILD)/reports/ubsan \
	    prove -r t
	@if ls $(ASAN_BUILD)/reports/* >/dev/null 2>&1; then \
	    cat $(ASAN_BUILD)/reports/*; echo "sanitizer reports above"; \
	    exit 1; \
	fi; echo "test-asan: no sanitizer reports"

install: $(MODULE)
	install -d $(DESTDIR)$(MODULES_DIR) $(DESTDIR)$(CONF_DIR)
	install -m 644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/
	install -m 644 ngx_consent_module/rules/default.rules \
	    $(DESTDIR)$(CONF_DIR)/default.rules

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
	-$(MAKE) -C lua-free-tests clean
