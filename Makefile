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

BUILD := build
MESON_OPTS = -Dqemu_v1_include=$(QEMU_V1_INCLUDE) \
	-Dqemu_v4_include=$(QEMU_V4_INCLUDE) \
	-Dqemu_custom_include=$(QEMU_CUSTOM_INCLUDE) \
	-Dupstream_v1_execlog=$(wildcard $(EXECLOG_CACHE)/qemu-7.2/contrib/plugins/execlog.c) \
	-Dupstream_v4_execlog=$(wildcard $(EXECLOG_CACHE)/qemu-10.0/contrib/plugins/execlog.c)

.PHONY: all setup build guests check demo bench clean

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

check: setup all
	@tests/run.sh

demo: all
	@tests/demo.sh

bench: setup all
	@bench/run.sh
	@bench/linux-boot.sh

clean:
	rm -rf $(BUILD)

# make demo and make check in a pristine Debian 12 root that has only make
# and git (debootstrap from the machine's mirror; needs root and network).
.PHONY: fresh-check
fresh-check:
	@scripts/fresh-check.sh
