# SPDX-License-Identifier: GPL-2.0
#
# The user's entry points. The module itself is described by Kbuild; this
# file only drives kbuild, the checks and the VM tests.
#
#   make demo      install what is needed, boot a 6.1 VM, show /proc/aqueue
#   make check     every check: style, sparse, and the selftests in VMs
#                  (with the debug-kernel lane when its kernel is cached)
#   make bench     the benchmarks in a 6.1 VM (KERNELS= to choose), as ratios
#   make soak      the differential soak alone, SOAK_MINUTES=30 [SOAK_SEED=N]
#                  [KERNELS=6.1] (6.1-debug too)
#   make           build aqueue.ko for the running kernel (or KDIR=...)
#   make install   install it (INSTALL_MOD_PATH or DESTDIR) and run depmod
#   make load      insmod the freshly built module; make unload removes it
#   make dkms-install   copy the source to /usr/src and let DKMS build it
#   make package   the Debian packages aqueue-dkms and aqstat, in PACKAGE_DIR

SHELL := /bin/bash
TOP_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

KDIR ?= /lib/modules/$(shell uname -r)/build
# Only a checkout made by git describes itself; an unpacked tarball or a
# DKMS copy carries a VERSION file instead.
AQUEUE_VERSION ?= $(shell \
	{ [ -e '$(TOP_DIR)/.git' ] && git -C '$(TOP_DIR)' describe --tags --always --dirty 2>/dev/null; } || \
	cat '$(TOP_DIR)/VERSION' 2>/dev/null || echo unknown)

DESTDIR ?=
INSTALL_MOD_PATH ?= $(DESTDIR)
INSTALL_MOD_DIR ?= extra
DEPMOD ?= depmod

VMTEST := $(TOP_DIR)/tools/vmtest
# The kernel lanes, from the runner's list, tools/vmtest/kernels (through
# its lib.sh; doc/install.md, "Supported kernels"): expanded once, so that
# "make -p" shows them. KERNELS=... on the command line or in the
# environment wins. Empty where tools/ is not shipped (the DKMS source).
ifeq ($(origin KERNELS),undefined)
KERNELS := $(shell bash -c '. "$(VMTEST)/lib.sh" && echo "$$SUPPORTED_SERIES"' 2>/dev/null)
endif
DEMO_KERNEL ?= 6.1
# make check runs the demo on DEMO_KERNEL when it is among KERNELS.
DEMO_SERIES = $(firstword $(filter $(DEMO_KERNEL),$(KERNELS)) $(KERNELS))
export AQUEUE_RESULTS ?= $(TOP_DIR)/results
COUNTS := $(AQUEUE_RESULTS)/counts

# Debian's headers name the compiler the kernel was built with (gcc-10 for
# 5.10, which Debian 12 does not have): when it is not installed, the local
# gcc builds the module. CC=... on the command line still wins.
KERNEL_CC = $(shell sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' '$(KDIR)/.config' 2>/dev/null)
CC_FALLBACK = $(if $(filter command line,$(origin CC)),,$(if $(KERNEL_CC),$(if $(shell command -v '$(KERNEL_CC)' 2>/dev/null),,CC=gcc)))
# Recipes that run it start with "+": make does not see $(MAKE) through a
# variable, and without "+" it would not hand its jobserver on (DKMS runs
# make -jN).
KBUILD = $(MAKE) -C '$(KDIR)' M='$(TOP_DIR)' AQUEUE_VERSION='$(AQUEUE_VERSION)' $(CC_FALLBACK)

# Everything a fresh Debian 12 machine needs for "make demo" and "make check"
# (dkms to dpkg-dev: the DKMS test and "make package"; libssl-dev: the
# debug kernel's build, tools/vmtest/debug-kernel; shellcheck: make style;
# debootstrap: the build roots of the kernels newer than Debian 12; tmux:
# aqstat's test of -w in an 80x24 terminal). Not
# prometheus and prometheus-node-exporter: installed, they would start
# their services on every interface; the metrics checks unpack them into
# the cache instead (tools/prom/fetch).
DEPS := make gcc libc6-dev bc flex bison libelf-dev libssl-dev kmod dwarves sparse perl \
	git debian-archive-keyring linux-source-6.1 xz-utils gzip zstd cpio \
	rsync busybox-static qemu-system-x86 iproute2 python3 util-linux debootstrap \
	dkms dh-dkms debhelper lintian dpkg-dev shellcheck tmux

.PHONY: all module install load unload clean style sparse deps check demo soak \
	check-kdir bench dkms-source dkms-install dkms-uninstall package \
	debug-kernel check-debug

all: module

check-kdir:
	@[ -d '$(KDIR)' ] || { \
		echo "No kernel build tree at $(KDIR)."; \
		echo "Install the headers (apt-get install linux-headers-$$(uname -r))" \
			"or point KDIR at a kernel build tree."; \
		exit 1; } >&2

module: check-kdir
	+$(KBUILD) modules

# The release comes from the tree built against (Debian's kernel.release
# holds the upstream version, not the package's release).
KERNEL_RELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	'$(KDIR)/include/generated/utsrelease.h' 2>/dev/null)
# Distribution kernels sign modules with a key that never leaves the
# distribution: sign only when the tree holds its signing key.
SIGNING_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' \
	'$(KDIR)/include/config/auto.conf' 2>/dev/null)
NO_SIGNING = $(if $(SIGNING_KEY),$(if $(wildcard $(if $(filter /%,$(SIGNING_KEY)),,$(KDIR)/)$(SIGNING_KEY)),,CONFIG_MODULE_SIG_ALL=))

install: module
	+$(KBUILD) INSTALL_MOD_PATH='$(INSTALL_MOD_PATH)' \
		INSTALL_MOD_DIR='$(INSTALL_MOD_DIR)' $(NO_SIGNING) modules_install
	$(DEPMOD) -b '$(or $(INSTALL_MOD_PATH),/)' -a '$(or $(KERNEL_RELEASE),$(shell uname -r))'

load: module
	insmod '$(TOP_DIR)/aqueue.ko' $(AQUEUE_PARAMS)

unload:
	rmmod aqueue

# DKMS: the version is the one dkms.conf declares (and debian/changelog,
# which "make package" checks). dkms-source is also what the aqueue-dkms
# package ships in /usr/src/aqueue-VERSION.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' '$(TOP_DIR)/dkms.conf' 2>/dev/null)
DKMS_SOURCE = $(DESTDIR)/usr/src/aqueue-$(DKMS_VERSION)
DKMS_FILES := Makefile Kbuild dkms.conf $(wildcard $(TOP_DIR)/module/*.[ch] $(TOP_DIR)/include/*.h)

dkms-source:
	install -d '$(DKMS_SOURCE)/module' '$(DKMS_SOURCE)/include'
	cd '$(TOP_DIR)' && for f in $(patsubst $(TOP_DIR)/%,%,$(DKMS_FILES)); do \
		install -m 0644 "$$f" '$(DKMS_SOURCE)'/"$$f" || exit 1; done
	echo '$(DKMS_VERSION)' >'$(DKMS_SOURCE)/VERSION'

# For the running kernel, or KERNELRELEASE=...; "dkms status aqueue" shows it.
dkms-install: dkms-source
	dkms add aqueue/$(DKMS_VERSION)
	dkms install aqueue/$(DKMS_VERSION) $(if $(KERNELRELEASE),-k '$(KERNELRELEASE)')

dkms-uninstall:
	-dkms remove aqueue/$(DKMS_VERSION) --all
	rm -rf '$(DKMS_SOURCE)'

# The .deb files, built in a copy of the tree (dpkg-buildpackage writes
# into the parent directory), land in PACKAGE_DIR with lintian's report
# (LINTIAN=no leaves lintian out).
PACKAGE_DIR ?= $(TOP_DIR)/dist
package:
	'$(TOP_DIR)/tools/package/build' $(if $(filter no,$(LINTIAN)),--no-lintian) '$(PACKAGE_DIR)'

# No kbuild here: clean must work without any kernel tree installed.
clean:
	rm -f '$(TOP_DIR)'/aqueue.ko '$(TOP_DIR)'/aqueue.mod* \
		'$(TOP_DIR)'/aqueue.o '$(TOP_DIR)'/Module.symvers \
		'$(TOP_DIR)'/modules.order '$(TOP_DIR)'/.*.cmd \
		'$(TOP_DIR)'/module/*.o '$(TOP_DIR)'/module/.*.cmd \
		'$(TOP_DIR)'/module/.*.d
	rm -rf '$(TOP_DIR)'/.tmp_versions '$(TOP_DIR)'/tools/demo/build
	rm -f '$(TOP_DIR)'/selftests/unit/saturate

# checkpatch comes from Debian's linux-source package (see tools/vmtest).
# LINUX_VERSION_CODE is how an out-of-tree module tells kernels apart, so
# it is allowed in the compat header and nowhere else; there checkpatch also
# takes "LINUX_VERSION_CODE < KERNEL_VERSION(...)" for a constant on the
# left, which the idiom is not.
STYLE_SOURCES = $(wildcard $(TOP_DIR)/module/*.[ch] $(TOP_DIR)/include/*.h $(TOP_DIR)/tools/bench/floor/*.c)
COMPAT_HEADER := $(TOP_DIR)/include/aqueue_compat.h
# shellcheck reads every shell script: the files in these folders whose #!
# line names a shell, and the sourced *.sh files (which name their shell in
# a "# shellcheck shell=" line). -x -P SCRIPTDIR follows the scripts'
# '. "$(dirname "$0")/lib.sh"' to the file they source.
SHELL_SCRIPT_DIRS := .ci tools selftests
SHELLCHECK_FLAGS := --external-sources --source-path=SCRIPTDIR

style:
	@command -v shellcheck >/dev/null || { echo "shellcheck is missing (run: make deps)" >&2; exit 1; }
	@ksrc=$$(bash -c '. "$(VMTEST)/lib.sh" && linux_source_tree') && \
	checkpatch="perl $$ksrc/scripts/checkpatch.pl --no-tree -f --terse --show-types $(CHECKPATCH_FLAGS)" && \
	cd '$(TOP_DIR)' && rc=0 && \
	{ $$checkpatch $(patsubst $(TOP_DIR)/%,%,$(filter-out $(COMPAT_HEADER),$(STYLE_SOURCES))) || rc=1; } && \
	{ $$checkpatch --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON $(patsubst $(TOP_DIR)/%,%,$(COMPAT_HEADER)) || rc=1; } && \
	scripts=$$(find $(SHELL_SCRIPT_DIRS) -type f -exec awk 'FNR == 1 { \
		if (FILENAME ~ /\.sh$$/ || $$0 ~ /^#!.*[\/ ](ba|da|k)?sh( |$$)/) print FILENAME; nextfile }' {} + | sort) && \
	{ shellcheck $(SHELLCHECK_FLAGS) $$scripts || rc=1; } && \
	echo "shellcheck: $$(echo "$$scripts" | wc -l) scripts" && \
	exit $$rc

# Sparse runs on a copy of the sources: C=2 checks every file without
# touching objects built in the tree. Without a local kernel build tree
# (this host runs a kernel without headers) the fetched 6.1 headers serve.
sparse:
	@command -v sparse >/dev/null || { echo "sparse is missing (run: make deps)" >&2; exit 1; }
	@. '$(VMTEST)/lib.sh'; \
	kdir='$(KDIR)'; \
	if [ ! -d "$$kdir" ]; then \
		env_file=$$('$(VMTEST)/fetch-kernel' 6.1) && . "$$env_file" && kdir=$$KHEADERS || exit 1; \
		echo "sparse: no $(KDIR), using the 6.1 headers ($$KVER)"; \
	fi; \
	copy=$$AQUEUE_CACHE/build/sparse; \
	rm -rf "$$copy" && mkdir -p "$$copy" && \
	cp -r '$(TOP_DIR)/Kbuild' '$(TOP_DIR)/module' '$(TOP_DIR)/include' "$$copy/" && \
	{ $(MAKE) -s -C "$$kdir" M="$$copy" C=2 CHECK=sparse \
		AQUEUE_VERSION='$(AQUEUE_VERSION)' modules 2>&1 || echo "error: the sparse build failed"; } | \
		sed "s|$$copy/||g" >"$$copy.log"; \
	cat "$$copy.log"; \
	if grep -qE '(warning|error):' "$$copy.log"; then \
		echo "sparse: findings above" >&2; exit 1; \
	fi; \
	echo "sparse: clean"

# Installs only what is missing, so a second run costs one dpkg query.
deps:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(DEPS) 2>/dev/null | \
		awk -v want='$(DEPS)' '$$1 == "ii" { have[$$2] = 1 } \
			END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!have[w[i]]) print w[i] }'); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "missing packages:" $$missing "(run as root: make deps)" >&2; exit 1; \
	fi; \
	echo "installing:" $$missing; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

# Keeps going after a failure so that every kernel gets its verdict, then
# fails if anything failed. Each check leaves a "passed failed skipped" line
# in $(COUNTS); the last line printed is their sum.
check: deps
	@rm -rf '$(COUNTS)' && mkdir -p '$(COUNTS)'; \
	start=$$(date +%s); rc=0; \
	'$(VMTEST)/host-check' style $(MAKE) -s --no-print-directory style || rc=1; \
	'$(VMTEST)/host-check' sparse $(MAKE) -s --no-print-directory sparse || rc=1; \
	'$(VMTEST)/host-check' unit $(MAKE) -s --no-print-directory -C '$(TOP_DIR)/selftests/unit' test || rc=1; \
	$(MAKE) -s --no-print-directory -C tools/aqstat test \
		RESULTS='$(AQUEUE_RESULTS)' || rc=1; \
	'$(VMTEST)/host-check' prometheus-contrib '$(TOP_DIR)/tools/prom/contrib-check' || rc=1; \
	'$(VMTEST)/host-check' make-install '$(TOP_DIR)/tools/package/make-install-check' || rc=1; \
	'$(VMTEST)/host-check' package $(MAKE) -s --no-print-directory package LINTIAN=no || rc=1; \
	'$(VMTEST)/host-check' lintian '$(TOP_DIR)/tools/package/lintian' '$(PACKAGE_DIR)' || rc=1; \
	'$(VMTEST)/run' $(KERNELS) || rc=1; \
	'$(VMTEST)/run' --demo $(DEMO_SERIES) || rc=1; \
	'$(VMTEST)/host-check' prometheus-scrape '$(TOP_DIR)/tools/prom/scrape-check' $(DEMO_SERIES) || rc=1; \
	'$(VMTEST)/dkms-check' --packages '$(PACKAGE_DIR)' $(KERNELS) || rc=1; \
	$(MAKE) -s --no-print-directory check-debug || rc=1; \
	echo "make check: $$(( $$(date +%s) - start ))s"; \
	'$(VMTEST)/summary' || rc=1; \
	exit $$rc

# The debug lane: the selftests on the 6.1 debug kernel (KASAN, lockdep,
# kmemleak, failslab) that tools/vmtest/debug-kernel builds and caches.
# Both the build and the suite there are long (KASAN, lockdep and kmemleak
# under emulation; doc/testing.md, "The debug lane"). DEBUG_LANE=auto, the
# default, runs it when the kernel is in the cache and otherwise counts one
# skip and says how to get it; DEBUG_LANE=yes builds it first; no leaves
# it out.
DEBUG_LANE ?= auto

debug-kernel: deps
	'$(VMTEST)/debug-kernel'

check-debug:
	@case '$(DEBUG_LANE)' in \
	no) exit 0 ;; \
	yes) '$(VMTEST)/run' 6.1-debug ;; \
	auto) if '$(VMTEST)/debug-kernel' --cached >/dev/null; then \
		'$(VMTEST)/run' 6.1-debug; \
	else \
		echo "make check: the 6.1-debug lane is skipped: no debug kernel in the cache (make debug-kernel, or make check DEBUG_LANE=yes)"; \
		mkdir -p '$(COUNTS)' && echo "0 0 1" >'$(COUNTS)/debug-lane-skipped'; \
	fi ;; \
	*) echo "DEBUG_LANE must be auto, yes or no" >&2; exit 1 ;; \
	esac

demo: deps
	'$(VMTEST)/run' --demo $(DEMO_KERNEL)

# Not part of "make check": it is long and judges nothing
# (tools/bench/README.md). 6.1 unless KERNELS is given on the command line or in the
# environment. Then aqstat's own, on the host: -j and --prometheus at
# 2,500, 20,000 and 65,536 listeners.
BENCH_KERNELS := $(if $(filter command line environment,$(origin KERNELS)),$(KERNELS),6.1)

bench: deps
	'$(TOP_DIR)/tools/bench/run' $(BENCH_KERNELS)
	$(MAKE) -s --no-print-directory -C tools/aqstat bench

# The soak selftest alone, for as long as SOAK_MINUTES says (default 30),
# on SOAK_KERNELS: 6.1 unless KERNELS is given. SOAK_SEED=N replays a
# failing run's schedule. make check runs a short one on every lane.
SOAK_MINUTES ?= 30
SOAK_KERNELS := $(if $(filter command line environment,$(origin KERNELS)),$(KERNELS),6.1)

soak: deps
	SOAK_MINUTES='$(SOAK_MINUTES)' SOAK_SEED='$(SOAK_SEED)' \
		'$(VMTEST)/run' --only '^soak$$' --tag soak $(SOAK_KERNELS)
