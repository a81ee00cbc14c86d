# ngx_consent_module
#
#   make            build build/ngx_http_consent_module.so against nginx-dev
#   make deps       install the Debian packages (idempotent)
#   make test       deps + build, then the C unit tests, the rules and IAB
#                   decoder checks, short fuzz runs and the t/ suite
#   make test-asan  nginx 1.22.1 built from source with ASan, UBSan and
#                   NGX_DEBUG_PALLOC, the module with it; the t/ suite
#   make test-upstream  upstream nginx 1.30.4 built from source with the
#                   module; the t/ suite
#   make test-valgrind  the t/ suite with nginx under valgrind memcheck
#   make test-browser  Debian's chromium (headless) against nginx with the
#                   module: t/browser/*.test.js
#   make image      the container images (podman, a local Debian base)
#   make test-image  make image, then the compose stack checked through
#   make run        the local demo: redis + origin + nginx with the module
#   make bench      wrk: the module against plain proxy_pass, same nginx
#   make rules      ocd.rules again from the committed Open Cookie Database
#   make rules-report  how the shipped rules cover that database
#   make install    the module into Debian's modules dir, consentctl into
#                   /usr/sbin, rules into /etc/nginx/consent/
#
# VENDOR holds the nginx tarballs test-asan and test-upstream build
# (default ../shared/vendor).
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
              nodejs zlib1g-dev libfaketime prometheus

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
VENDOR      ?= $(CURDIR)/../shared/vendor
# parallel jobs for building nginx itself
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps test test-asan test-upstream test-valgrind unit e2e run \
        bench bench-instructions fuzz install clean asan-nginx upstream-nginx \
        rules rules-check rules-report

all: $(MODULE) $(CTL)

# the Debian packages missing, and npm (bundled with NodeSource's nodejs,
# a package of its own in Debian) if there is no npm command
deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
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

# The shipped rules, in the order README gives; ocd.rules is made from the
# committed CSV (see ngx_consent_module/rules/NOTICE) by consentctl.
RULES_DIR   := ngx_consent_module/rules
OCD_CSV     := $(RULES_DIR)/ocd/open-cookie-database.csv
RULES_FILES := $(RULES_DIR)/ocd.rules $(RULES_DIR)/default.rules \
               $(RULES_DIR)/japan.rules $(RULES_DIR)/keep.rules

rules: $(CTL)
	$(CTL) rules import-ocd $(OCD_CSV) > $(RULES_DIR)/ocd.rules.tmp
	mv $(RULES_DIR)/ocd.rules.tmp $(RULES_DIR)/ocd.rules

# fails when the committed ocd.rules is not what the converter makes of
# the committed CSV, or when the rules miss the coverage targets
rules-check: $(CTL)
	$(CTL) rules import-ocd $(OCD_CSV) > $(BUILD)/ocd.rules
	@diff -u $(RULES_DIR)/ocd.rules $(BUILD)/ocd.rules \
	    || { echo "ocd.rules differs from what make rules makes" \
	              "of $(OCD_CSV)" >&2; exit 1; }
	$(MAKE) -C lua-free-tests build/rules_report
	./lua-free-tests/build/rules_report --check $(OCD_CSV) $(RULES_FILES)

rules-report: $(CTL)
	$(MAKE) -C lua-free-tests build/rules_report
	./lua-free-tests/build/rules_report --list $(OCD_CSV) $(RULES_FILES)

e2e: $(MODULE) $(CTL)
	prove -r t

# a short run of every fuzz target: a regression in a parser shows here,
# the long runs are make fuzz
test: deps
	$(MAKE) $(MODULE) $(CTL)
	$(MAKE) unit
	$(MAKE) rules-check
	$(MAKE) -C lua-free-tests iab-check
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

# say what is missing rather than "no rule to make target"
$(VENDOR)/nginx-%.tar.gz:
	@echo "missing $@: test-asan and test-upstream build nginx from" \
	    "the tarballs in VENDOR (../shared/vendor); make VENDOR=/path" >&2
	@exit 1

# nginx itself built from the vendored upstream sources (git archive
# snapshots, see $(VENDOR)/README.md), with this module as a dynamic module
# of the same tree, same flags.  SRC_CONF: what the t/ suite uses and
# Debian's other static modules; every path under the build tree (the
# tests run nginx with -p DIR anyway), nothing in /var.
# $(call src_nginx,DIR,VERSION,CONF): unpack nginx-VERSION into DIR once,
# then (re)configure it with SRC_CONF and CONF.  A re-configure that leaves
# the generated headers as they were keeps their mtimes, so that nginx's
# objects are not rebuilt; nginx's objs/Makefile tracks the module's
# sources itself, so a module change rebuilds only the module.
SRC_CONF := --with-debug --with-threads --with-pcre-jit --with-compat \
            --with-http_ssl_module --with-http_v2_module \
            --with-http_realip_module --with-http_auth_request_module \
            --with-http_sub_module --with-http_addition_module \
            --with-http_gunzip_module --with-http_gzip_static_module \
            --with-http_slice_module --with-http_stub_status_module \
            --with-http_secure_link_module --with-http_dav_module

src_nginx = \
	if [ ! -f $(1)/auto/configure ]; then \
	    rm -rf $(1) $(1).tmp && mkdir -p $(1).tmp && \
	    tar xzf $(VENDOR)/nginx-$(2).tar.gz -C $(1).tmp \
	        --strip-components=1 && mv $(1).tmp $(1); \
	fi && \
	cd $(1) && \
	for h in objs/ngx_auto_config.h objs/ngx_auto_headers.h; do \
	    [ ! -f $$h ] || cp -p $$h $$h.prev; done && \
	auto/configure --prefix=$(CURDIR)/$(1)/prefix $(SRC_CONF) $(3) \
	    --add-dynamic-module=$(CURDIR) >configure.log 2>&1 \
	    || { tail -30 configure.log; exit 1; }; \
	for h in objs/ngx_auto_config.h objs/ngx_auto_headers.h; do \
	    [ ! -f $$h.prev ] || ! cmp -s $$h $$h.prev || touch -r $$h.prev $$h; \
	    rm -f $$h.prev; done; \
	mkdir -p prefix/logs prefix/conf

# The t/ suite against nginx 1.22.1 (Debian 12's version) built from source
# with clang's ASan and UBSan and NGX_DEBUG_PALLOC (every pool allocation
# its own malloc(), so an overflow of a pool buffer is an overflow of a heap
# block), nginx and the module alike.  Any report fails the run: every ASan
# report, and UBSan's in the module (ubsan.supp drops those whose code is
# in the nginx executable: misaligned loads in its HTTP/2 and parser code,
# memcpy(p, NULL, 0) of empty strings).  clang, not gcc: gcc's UBSan
# writes to stderr, whatever log_path says, when ASan is there too.
# Leak checking is off: LeakSanitizer reports what nginx itself never frees
# at exit (the cycle of nginx -t and -s, each worker's environment) and
# makes nginx -t exit non-zero; suppressing that by stack would hide the
# module's config-time leaks too.  make test-valgrind checks leaks.
# The module is linked -Bsymbolic: it defines ngx_modules and
# ngx_module_names as nginx does (nginx dlsym()s them), and without it ASan
# takes the two for one global (an ODR violation, then an overflow of it
# at the first reload).
ASAN_VERSION ?= 1.22.1
ASAN_BUILD  := build-asan
ASAN_NGX    := $(ASAN_BUILD)/nginx-$(ASAN_VERSION)
ASAN_CC_OPT := -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1 \
               -DNGX_DEBUG_PALLOC=1
ASAN_LD_OPT := -fsanitize=address,undefined -Wl,-Bsymbolic
ASAN_UB_CHECKS := alignment bool bounds enum float-cast-overflow \
               integer-divide-by-zero invalid-builtin-use nonnull-attribute \
               null object-size pointer-overflow returns-nonnull-attribute \
               shift-base shift-exponent signed-integer-overflow \
               unreachable vla-bound
ASAN_REPORTS := $(CURDIR)/$(ASAN_BUILD)/reports
ASAN_SUPP   := $(CURDIR)/$(ASAN_BUILD)/ubsan.supp
ASAN_ENV    := ASAN_OPTIONS=detect_leaks=0:log_path=$(ASAN_REPORTS)/asan \
               UBSAN_OPTIONS=print_stacktrace=1:suppressions=$(ASAN_SUPP)
ASAN_ENV    := $(ASAN_ENV):log_path=$(ASAN_REPORTS)/ubsan
ASAN_CONF   := --with-cc=clang --with-cc-opt="$(ASAN_CC_OPT)" \
               --with-ld-opt="$(ASAN_LD_OPT)"

$(ASAN_NGX)/objs/Makefile: config Makefile \
                           $(VENDOR)/nginx-$(ASAN_VERSION).tar.gz
	$(call src_nginx,$(ASAN_NGX),$(ASAN_VERSION),$(ASAN_CONF))

asan-nginx: $(ASAN_NGX)/objs/Makefile
	$(MAKE) -C $(ASAN_NGX) -f objs/Makefile -j$(JOBS)

test-asan: deps
	$(MAKE) asan-nginx $(CTL)
	printf '%s:/objs/nginx$$\n' $(ASAN_UB_CHECKS) > $(ASAN_SUPP)
	rm -rf $(ASAN_BUILD)/reports && mkdir -p $(ASAN_BUILD)/reports
	@start=$$(date +%s); rc=0; \
	NGINX_BIN=$(CURDIR)/$(ASAN_NGX)/objs/nginx \
	CONSENT_MODULE=$(CURDIR)/$(ASAN_NGX)/objs/ngx_http_consent_module.so \
	$(ASAN_ENV) prove -r t || rc=1; \
	n=$$(ls $(ASAN_BUILD)/reports | wc -l); \
	for f in $$(ls $(ASAN_BUILD)/reports/* 2>/dev/null | head -5); do \
	    echo "=== $$f"; cat "$$f"; done; \
	[ $$n = 0 ] || { echo "=== all $$n reports (in $(ASAN_BUILD)/reports):"; \
	    cat $(ASAN_BUILD)/reports/* | grep -h '^SUMMARY' | sort | uniq -c; }; \
	echo "test-asan: $$n sanitizer reports, $$(( $$(date +%s) - start ))s"; \
	[ $$rc = 0 ] && [ $$n = 0 ]

# The t/ suite against upstream nginx 1.30.4 (the 1.23+ header API: linked
# lists of headers) built from source with the module, normal optimisation:
# the only run of the module's nginx_version >= 1023000 branches.
UP_VERSION ?= 1.30.4
UP_BUILD   := build-upstream
UP_NGX     := $(UP_BUILD)/nginx-$(UP_VERSION)

$(UP_NGX)/objs/Makefile: config Makefile $(VENDOR)/nginx-$(UP_VERSION).tar.gz
	$(call src_nginx,$(UP_NGX),$(UP_VERSION),--with-cc-opt="-O2 -g")

upstream-nginx: $(UP_NGX)/objs/Makefile
	$(MAKE) -C $(UP_NGX) -f objs/Makefile -j$(JOBS)

test-upstream: deps
	$(MAKE) upstream-nginx $(CTL)
	NGINX_BIN=$(CURDIR)/$(UP_NGX)/objs/nginx \
	CONSENT_MODULE=$(CURDIR)/$(UP_NGX)/objs/ngx_http_consent_module.so \
	    prove -r t

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
	printf '#!/bin/sh\nLD_PRELOAD=%s$${LD_PRELOAD:+:$$LD_PRELOAD} exec valgrind %s /usr/sbin/nginx "$$@"\n' \
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

# Real-browser tests: t/browser/*.test.js, each with its own nginx (the
# module, Debian's /usr/sbin/nginx, private ports, a temp prefix) and a
# headless Debian chromium (/usr/bin/chromium) driven by puppeteer-core,
# pinned in t/browser/package-lock.json; PUPPETEER_SKIP_DOWNLOAD: no
# browser of its own.  chromium without its Recommends (printing, avahi,
# upower...: some 120 packages on a fresh machine instead of 25).
# npm ci again only when the lock file changed.  Screenshots in
# build/browser/ and build/browser-screenshots/.
.PHONY: test-browser

BROWSER_DIR := t/browser

$(BROWSER_DIR)/node_modules/.package-lock.json: $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && PUPPETEER_SKIP_DOWNLOAD=1 \
	    npm ci --no-audit --no-fund --loglevel=error

test-browser: deps
	@dpkg-query -W -f='$${Status}' chromium 2>/dev/null \
	    | grep -q 'install ok installed' || { \
	    echo "installing: chromium"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends chromium; }
	$(MAKE) $(MODULE) $(BROWSER_DIR)/node_modules/.package-lock.json
	mkdir -p $(BUILD)/browser $(BUILD)/browser-screenshots
	CONSENT_MODULE=$(CURDIR)/$(MODULE) \
	BROWSER_ARTEFACTS=$(CURDIR)/$(BUILD)/browser \
	BROWSER_SCREENSHOTS=$(CURDIR)/$(BUILD)/browser-screenshots \
	    $(BROWSER_DIR)/run.sh

# Container images (docker/, README "Running in a container").  No
# registry is reachable here: docker/base.sh makes the Debian base from
# Debian's repository with mmdebstrap (once; when IMAGE_BASE is a
# localhost/ name), then docker/Dockerfile's targets are built on it: the
# product (runtime) and the demo stack's origin and redis.  podman reads
# docker/containers.conf (runc, ulimits below the sandbox's: see there).
# Docker image format: OCI images have no HEALTHCHECK.  Rootful podman,
# so no uidmap, slirp4netns or fuse-overlayfs; iptables for netavark.
.PHONY: image image-deps test-image

IMAGE_BASE   ?= localhost/debian:bookworm-slim
IMAGE_PREFIX ?= localhost/consent
IMAGE_PKGS   := podman runc netavark aardvark-dns iptables mmdebstrap \
                podman-compose curl
PODMAN_ENV   := CONTAINERS_CONF=$(CURDIR)/docker/containers.conf

image-deps:
	@missing=""; \
	for p in $(IMAGE_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends $$missing; \
	fi

image: image-deps
	case "$(IMAGE_BASE)" in localhost/*) \
	    $(PODMAN_ENV) ./docker/base.sh $(IMAGE_BASE);; esac
	@mkdir -p $(BUILD)
	@for t in runtime:nginx origin:origin redis:redis; do \
	    start=$$(date +%s); log=$(BUILD)/image-$${t#*:}.log; \
	    echo "podman build --target $${t%%:*} -t $(IMAGE_PREFIX)-$${t#*:}" \
	         "(log: $$log)"; \
	    $(PODMAN_ENV) podman build --format docker -f docker/Dockerfile \
	        --build-arg BASE=$(IMAGE_BASE) --target $${t%%:*} \
	        -t $(IMAGE_PREFIX)-$${t#*:}:latest . >$$log 2>&1 \
	        || { tail -40 $$log; exit 1; }; \
	    echo "  $(IMAGE_PREFIX)-$${t#*:}:latest in" \
	         "$$(( $$(date +%s) - start ))s"; \
	done

test-image: image
	$(PODMAN_ENV) IMAGE_PREFIX=$(IMAGE_PREFIX) ./docker/test-image.sh

install: $(MODULE) $(CTL)
	install -d $(DESTDIR)$(MODULES_DIR) $(DESTDIR)$(CONF_DIR) \
	    $(DESTDIR)$(SBIN_DIR)
	install -m 644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/
	install -m 755 $(CTL) $(DESTDIR)$(SBIN_DIR)/consentctl
	install -m 644 $(RULES_FILES) $(DESTDIR)$(CONF_DIR)/

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(UP_BUILD) $(VG_BUILD)
	-$(MAKE) -C lua-free-tests clean
