# ngx_consent_module
#
#   make            build build/ngx_http_consent_module.so against nginx-dev
#   make deps       install the Debian packages (idempotent)
#   make test       deps + build, then the C unit tests, short fuzz runs
#                   and the t/ suite
#   make test-asan  the t/ suite with the module under ASan and UBSan
#   make test-valgrind  the t/ suite with nginx under valgrind memcheck
#   make run        the local demo: redis + origin + nginx with the module
#   make bench      wrk: the module against plain proxy_pass, same nginx
#   make install    the module into Debian's modules dir, consentctl into
#                   /usr/sbin, rules into /etc/nginx/consent/
#
# NGINX_SRC may point at another nginx source tree (e.g. upstream 1.27) to
# build the module against it: make NGINX_SRC=/path/to/nginx BUILD=build-up

SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
BUILD      ?= build
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_consent_module.so
CTL        := $(BUILD)/consentctl

DEB_PKGS   := nginx nginx-dev libhiredis-dev libpcre2-dev libssl-dev \
              redis-server curl nghttp2-client wrk clang gcc make perl \
              libclang-rt-14-dev \
              python3 python3-werkzeug python3-django php-cgi ruby ruby-rack \
              nodejs

SRCS       := $(wildcard ngx_consent_module/*.c ngx_consent_module/*.h \
                         ngx_consent_module/consent_core/*.c \
                         ngx_consent_module/consent_core/*.h)

CORE_SRCS  := $(wildcard ngx_consent_module/consent_core/*.c)
CTL_SRCS   := $(wildcard ngx_consent_module/consentctl/*.c)
CTL_HDRS   := $(wildcard ngx_consent_module/consentctl/*.h \
                         ngx_consent_module/consent_core/*.h)

TEST_FUZZ_SECONDS ?= 10
# fuzz targets run side by side, one per core
FUZZ_JOBS   ?= 2
MODULES_DIR ?= /usr/lib/nginx/modules
CONF_DIR    ?= /etc/nginx/consent
SBIN_DIR    ?= /usr/sbin

.PHONY: all deps test test-asan test-valgrind unit e2e run bench \
        bench-instructions fuzz install clean

all: $(MODULE) $(CTL)

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
	@# a new file, not the old one rewritten: running nginx processes map it
	cp $(NGX_BUILD)/objs/ngx_http_consent_module.so $@.tmp && mv $@.tmp $@

# the operators' tool: the pure core plus hiredis, no nginx
$(CTL): $(CTL_SRCS) $(CORE_SRCS) $(CTL_HDRS)
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	    -D_GNU_SOURCE -DPCRE2_CODE_UNIT_WIDTH=8 \
	    -Ingx_consent_module/consent_core -Ingx_consent_module/consentctl \
	    -o $@ $(CTL_SRCS) $(CORE_SRCS) -lhiredis -lpcre2-8 -lcrypto

unit:
	$(MAKE) -C lua-free-tests test

e2e: $(MODULE) $(CTL)
	prove -r t

# a short run of every fuzz target: a regression in a parser shows here,
# the long runs are make fuzz
test: deps
	$(MAKE) $(MODULE) $(CTL)
	$(MAKE) unit
	$(MAKE) -C lua-free-tests -j$(FUZZ_JOBS) fuzz \
	    FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(MAKE) e2e

run: deps
	$(MAKE) $(MODULE) $(CTL)
	./docker/demo/run.sh

bench: deps
	$(MAKE) $(MODULE)
	./bench/all.sh

# callgrind instruction counts per request (needs valgrind)
bench-instructions: deps
	$(MAKE) $(MODULE)
	command -v valgrind >/dev/null || apt-get install -y -qq valgrind
	./bench/instructions.sh

fuzz:
	$(MAKE) -C lua-free-tests -j$(FUZZ_JOBS) fuzz

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

# The t/ suite with every nginx process (master, workers, nginx -t,
# nginx -s) under valgrind memcheck, the module as make builds it (-O -g).
# Any memory error or definite leak fails the run; t/valgrind.supp lists
# the few nginx-core leaks that are not the module's, each with its reason.
# A no-op dlclose() is preloaded so the module stays mapped at exit: its
# frames keep their names and what its globals point to is not "lost".
# Tests scale their timing margins by CONSENT_TIME_SCALE.
VG_BUILD      := build-valgrind
VG_TIME_SCALE ?= 4
VG_OPTS       := --tool=memcheck --trace-children=yes --error-exitcode=99 \
                 --leak-check=full --errors-for-leak-kinds=definite \
                 --show-leak-kinds=definite --keep-debuginfo=yes \
                 --num-callers=30 --suppressions=$(CURDIR)/t/valgrind.supp \
                 --log-file=$(CURDIR)/$(VG_BUILD)/reports/vg.%p

test-valgrind: deps
	command -v valgrind >/dev/null || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; }
	$(MAKE) $(MODULE) $(CTL)
	mkdir -p $(VG_BUILD)
	printf 'int dlclose(void *h) { (void) h; return 0; }\n' \
	    > $(VG_BUILD)/nodlclose.c
	$(CC) -shared -fPIC -O2 -o $(VG_BUILD)/nodlclose.so \
	    $(VG_BUILD)/nodlclose.c
	printf '#!/bin/sh\nLD_PRELOAD=%s exec valgrind %s /usr/sbin/nginx "$$@"\n' \
	    "$(CURDIR)/$(VG_BUILD)/nodlclose.so" "$(VG_OPTS)" \
	    > $(VG_BUILD)/nginx-vg
	chmod +x $(VG_BUILD)/nginx-vg
	rm -rf $(VG_BUILD)/reports && mkdir -p $(VG_BUILD)/reports
	@start=$$(date +%s); rc=0; \
	NGINX_BIN=$(CURDIR)/$(VG_BUILD)/nginx-vg \
	CONSENT_MODULE=$(CURDIR)/$(MODULE) \
	CONSENT_TIME_SCALE=$(VG_TIME_SCALE) prove -r t || rc=1; \
	n=$$(ls $(VG_BUILD)/reports | wc -l); \
	bad=$$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' \
	    $(VG_BUILD)/reports/vg.* 2>/dev/null); \
	cut=$$(grep -L 'ERROR SUMMARY' $(VG_BUILD)/reports/vg.* 2>/dev/null); \
	for f in $$bad; do echo "=== $$f"; cat $$f; done; \
	for f in $$cut; do echo "=== $$f: no summary (killed?)"; cat $$f; done; \
	echo "test-valgrind: $$n nginx processes, $$(echo $$bad | wc -w)" \
	    "with errors or definite leaks, $$(echo $$cut | wc -w) cut short," \
	    "$$(( $$(date +%s) - start ))s"; \
	[ $$rc = 0 ] && [ -z "$$bad" ] && [ -z "$$cut" ]

install: $(MODULE) $(CTL)
	install -d $(DESTDIR)$(MODULES_DIR) $(DESTDIR)$(CONF_DIR) \
	    $(DESTDIR)$(SBIN_DIR)
	install -m 644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/
	install -m 755 $(CTL) $(DESTDIR)$(SBIN_DIR)/consentctl
	install -m 644 ngx_consent_module/rules/default.rules \
	    $(DESTDIR)$(CONF_DIR)/default.rules

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(VG_BUILD)
	-$(MAKE) -C lua-free-tests clean
