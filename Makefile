# tsrun - build, demo, test, bench.  Every target installs what it needs.
#   make demo    install missing packages, build, make bundles/busybox, run a container
#   make test    install, build and run the whole test suite (what .ci/run calls)
#   make bench   tsrun vs runc (and crun) benchmark table
#   make install PREFIX=/usr/local   links PREFIX/bin/tsrun to bin/tsrun (uninstall removes it)
#   make conformance, make cri   the OCI runtime-tools suite and Kubernetes' critest, tsrun beside runc
#                (not in make test: minutes long, built from sources CI cannot fetch; scripts/suites.sh)

SHELL := /bin/bash
NODE ?= node
APT_PACKAGES := gcc make libc6-dev libseccomp-dev busybox-static uidmap
STAMP := build/.stamps

.PHONY: all build deps apt-deps npm-deps shim ts front bundle-busybox demo install uninstall test test-unit test-integration bench conformance cri clean

all: build

# ---- dependencies -----------------------------------------------------------
deps: apt-deps npm-deps

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# npm ci only when node_modules does not match package-lock.json (by content, not
# mtime: a fresh checkout must not reinstall what is there)
npm-deps:
	@want=$$(sha256sum package-lock.json | cut -d' ' -f1); \
	have=$$(cat node_modules/.tsrun-lock 2>/dev/null); \
	if [ "$$want" != "$$have" ] || [ ! -d node_modules/yargs ]; then \
	  echo "npm ci"; \
	  npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config' || true; \
	  test -d node_modules/yargs || { echo "npm ci failed"; exit 1; }; \
	  echo "$$want" > node_modules/.tsrun-lock; \
	fi

# ---- build ------------------------------------------------------------------
build: deps shim ts front

shim:
	$(MAKE) -C native-shim

# bin/tsrun is the C front end (native-shim/front): a copy, replaced by rename
# (it may be running); scripts/build.js installs it too
front: shim
	@mkdir -p bin
	@cmp -s native-shim/build/tsrun bin/tsrun || { cp native-shim/build/tsrun bin/tsrun.tmp && mv -f bin/tsrun.tmp bin/tsrun; }

TS_SOURCES := $(shell find src scripts schema -type f 2>/dev/null)
TEST_SOURCES := $(shell find test -name '*.ts' 2>/dev/null)

ts: dist/tsrun.js build/.tsc

# the CLI: one bundled file with the ajv validators generated at build time
dist/tsrun.js: $(TS_SOURCES) $(TEST_SOURCES) package-lock.json | npm-deps
	$(NODE) scripts/build.js

# the type check (scripts/build.js also bundles the tests into build/test)
build/.tsc: $(TS_SOURCES) $(TEST_SOURCES) tsconfig.json dist/tsrun.js
	npx tsc -p tsconfig.json --noEmit
	@mkdir -p build && touch $@

# ---- the busybox bundle -----------------------------------------------------
bundle-busybox: build
	$(NODE) scripts/make-busybox-bundle.js bundles/busybox

demo: bundle-busybox
	@echo "--- tsrun run --bundle bundles/busybox demo   (layers: bundles/busybox/busybox.tar, data dir /var/lib/tsrun)"
	./bin/tsrun --root /run/tsrun-demo run --bundle bundles/busybox demo-$$$$ \
	  sh -c 'echo "hostname: $$(hostname)"; echo "root: $$(grep " / / " /proc/self/mountinfo | sed "s/.* - \([a-z]*\) .*/\1/")"; echo "ps inside the container:"; ps; echo "mounts: $$(wc -l < /proc/self/mountinfo)"'

# ---- install: a link, not a copy (bin/tsrun finds dist/ and the shim next to itself) ----
PREFIX ?= /usr/local
install: build
	@mkdir -p $(DESTDIR)$(PREFIX)/bin
	ln -sfn $(CURDIR)/bin/tsrun $(DESTDIR)$(PREFIX)/bin/tsrun
	@echo "tsrun: $$(command -v tsrun || echo $(DESTDIR)$(PREFIX)/bin/tsrun) -> $(CURDIR)/bin/tsrun"

uninstall:
	@if [ "$$(readlink $(DESTDIR)$(PREFIX)/bin/tsrun)" = "$(CURDIR)/bin/tsrun" ]; then rm -f $(DESTDIR)$(PREFIX)/bin/tsrun; echo "removed $(DESTDIR)$(PREFIX)/bin/tsrun"; \
	else echo "$(DESTDIR)$(PREFIX)/bin/tsrun is not this checkout's link: left alone"; fi

# ---- tests ------------------------------------------------------------------
TEST_FILES = $(shell find build/test -name '*.test.js' | sort)

test: build bundle-busybox
	$(NODE) scripts/run-tests.js

test-unit: build
	$(NODE) scripts/run-tests.js unit

test-integration: build bundle-busybox
	$(NODE) scripts/run-tests.js integration

bench: build bundle-busybox
	bash scripts/bench.sh

conformance: build
	bash scripts/suites.sh conformance

cri: build
	bash scripts/suites.sh cri

clean:
	rm -rf build dist
	$(MAKE) -C native-shim clean
