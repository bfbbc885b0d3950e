# SPDX-License-Identifier: GPL-2.0-or-later
# The front door: make, make check, make demo, make bench. The C build is
# meson's (meson.build); guests are cross-compiled by tests/guests/Makefile.

EXECLOG_CACHE ?= $(HOME)/.cache/execlog
export EXECLOG_CACHE
QEMU_V1_INCLUDE ?= $(EXECLOG_CACHE)/qemu-7.2/include/qemu
QEMU_V4_INCLUDE ?= $(EXECLOG_CACHE)/qemu-10.0/include/qemu
# Build against your own QEMU tree too: make QEMU_SRC=/path/to/qemu
QEMU_SRC ?=
QEMU_CUSTOM_INCLUDE = $(if $(QEMU_SRC),$(abspath $(QEMU_SRC))/include/qemu,)

# make check WERROR=1: warnings are errors (CI builds so)
WERROR ?= 0

# make install: PREFIX/bin/execlog, PREFIX/LIBDIR/execlog/libexeclog-*.so,
# man pages and docs under PREFIX/share; DESTDIR stages it elsewhere.
# DEFAULT_PLUGIN: the build installed also as libexeclog.so (v1 or v4).
PREFIX ?= /usr/local
LIBDIR ?= lib
DESTDIR ?=
DEFAULT_PLUGIN ?= v1

BUILD := build
MESON_OPTS = -Dqemu_v1_include=$(QEMU_V1_INCLUDE) \
	-Dqemu_v4_include=$(QEMU_V4_INCLUDE) \
	-Dqemu_custom_include=$(QEMU_CUSTOM_INCLUDE) \
	-Dupstream_v1_execlog=$(wildcard $(EXECLOG_CACHE)/qemu-7.2/contrib/plugins/execlog.c) \
	-Dupstream_v4_execlog=$(wildcard $(EXECLOG_CACHE)/qemu-10.0/contrib/plugins/execlog.c) \
	-Dwerror=$(if $(filter 1,$(WERROR)),true,false) \
	-Dprefix=$(abspath $(PREFIX)) -Dlibdir=$(LIBDIR) \
	-Ddefault_plugin=$(DEFAULT_PLUGIN)

# The test tiers' builds, each a whole build with build/'s file names:
# ASan+UBSan (make sanitize), TSan (make tsan), and clang with libFuzzer
# (the fuzz targets that make check runs).
SAN_BUILD := build-sanitize
TSAN_BUILD := build-tsan
FUZZ_BUILD := build-fuzz
SAN_OPTS = -Dbuildtype=debugoptimized -Db_lundef=false \
	"-Dc_args=['-fno-omit-frame-pointer','-fno-sanitize-recover=all']"
ASAN_OPTS = -Db_sanitize=address,undefined $(SAN_OPTS)
TSAN_OPTS = -Db_sanitize=thread $(SAN_OPTS)
# How long each fuzz target runs in make check (seconds)
FUZZ_SECONDS ?= 20
export FUZZ_SECONDS

.PHONY: all setup build guests check demo bench clean sanitize tsan fuzz \
	install uninstall

all: build guests

# Installs what is missing (Debian packages, QEMU headers, QEMU 10.0).
setup:
	@scripts/setup.sh

$(BUILD)/build.ninja: meson.build meson_options.txt
	@if [ -f $@ ]; then meson setup --reconfigure $(BUILD) $(MESON_OPTS) >/dev/null; \
	else meson setup $(BUILD) $(MESON_OPTS) >/dev/null; fi

build: setup-if-needed $(BUILD)/build.ninja
	@meson configure $(BUILD) $(MESON_OPTS) >/dev/null
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)
	@ln -sf libexeclog-v1.so $(BUILD)/libexeclog.so

guests:
	@$(MAKE) -s -C tests/guests OUT=$(CURDIR)/$(BUILD)/guests

# setup runs when something it provides is missing.
.PHONY: setup-if-needed
setup-if-needed:
	@[ -f $(QEMU_V1_INCLUDE)/qemu-plugin.h ] && [ -f $(QEMU_V4_INCLUDE)/qemu-plugin.h ] \
	  && command -v meson >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null \
	  && command -v qemu-aarch64 >/dev/null && [ -x $(EXECLOG_CACHE)/qemu-system-aarch64-10.0 ] \
	  || scripts/setup.sh

check: setup all fuzz
	@tests/run.sh

# meson_dir DIR, CC, OPTIONS: configure (once) and build a tier's build
define meson_dir
	@if [ -f $(1)/build.ninja ]; then \
	  meson configure $(1) $(MESON_OPTS) $(3) >/dev/null; \
	else CC=$(2) meson setup $(1) $(MESON_OPTS) $(3) >/dev/null; fi
	@ninja -C $(1) >/dev/null || ninja -C $(1)
	@ln -sf libexeclog-v1.so $(1)/libexeclog.so
endef

# clang's libFuzzer build of the fuzz targets (skipped without clang: the
# fuzz test then says so)
fuzz: setup-if-needed
	@if command -v clang >/dev/null; then \
	  $(MAKE) -s fuzz-build; \
	else echo "make fuzz: no clang, the fuzz targets are not built"; fi

.PHONY: fuzz-build
fuzz-build:
	$(call meson_dir,$(FUZZ_BUILD),clang,$(ASAN_OPTS))

.PHONY: sanitize-build tsan-build
sanitize-build: setup-if-needed
	$(call meson_dir,$(SAN_BUILD),clang,$(ASAN_OPTS))
	@$(MAKE) -s -C tests/guests OUT=$(CURDIR)/$(SAN_BUILD)/guests

tsan-build: setup-if-needed
	$(call meson_dir,$(TSAN_BUILD),gcc,$(TSAN_OPTS))
	@$(MAKE) -s -C tests/guests OUT=$(CURDIR)/$(TSAN_BUILD)/guests

# Every test again against an ASan+UBSan build (clang: one runtime for both,
# so that UBSan's reports also go where ASan's do; QEMU runs with the ASan
# runtime preloaded; tests/tiers.sh sets that up), then the multi-vCPU tests
# (names with thread or smp) against a TSan build.
sanitize: sanitize-build
	@EXECLOG_BUILD=$(CURDIR)/$(SAN_BUILD) EXECLOG_SANITIZE=address tests/run.sh
	@$(MAKE) -s tsan

tsan: tsan-build
	@EXECLOG_BUILD=$(CURDIR)/$(TSAN_BUILD) EXECLOG_SANITIZE=thread tests/run.sh 'thread|smp'

# meson installs what meson.build marks (the plugins, the CLI, the man
# pages, the docs) and logs it in $(BUILD)/meson-logs/install-log.txt, which
# make uninstall removes again. An existing build is reconfigured only if
# PREFIX, LIBDIR or DEFAULT_PLUGIN differ from its own, so that
# 'make && sudo make install' leaves build/ as make left it (root's HOME has
# another cache, and a reconfiguration would write root's files into it).
INSTALL_OPTS = $(abspath $(PREFIX)) $(LIBDIR) $(DEFAULT_PLUGIN)
install:
	@if [ ! -f $(BUILD)/build.ninja ]; then $(MAKE) -s build; \
	elif [ "$$(meson introspect $(BUILD) --buildoptions | python3 -c \
	  'import json, sys; o = {x["name"]: x["value"] for x in json.load(sys.stdin)}; print(o["prefix"], o["libdir"], o["default_plugin"])')" \
	  != "$(INSTALL_OPTS)" ]; then \
	  meson configure $(BUILD) -Dprefix=$(abspath $(PREFIX)) -Dlibdir=$(LIBDIR) \
	    -Ddefault_plugin=$(DEFAULT_PLUGIN) >/dev/null && ninja -C $(BUILD) >/dev/null; fi
	@meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

uninstall:
	@ninja -C $(BUILD) uninstall

demo: all
	@tests/demo.sh

bench: setup all
	@bench/run.sh
	@bench/linux-boot.sh

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)

# make demo and make check in a pristine Debian 12 root that has only make
# and git (debootstrap from the machine's mirror; needs root and network).
.PHONY: fresh-check
fresh-check:
	@scripts/fresh-check.sh
