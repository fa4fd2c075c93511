# Top-level entry points.  This file is hand-written and committed; it
# bootstraps autotools into build/ (an out-of-tree build, so the source tree
# stays clean) and drives kbuild and the VM test rig.
#
#   make demo       the main job: a guest with virtser.ko, virtserd on its ports
#                   (INTERACTIVE=1 leaves you at the guest console)
#   make            build userspace and the module for the default kernel
#   make check      install missing packages (as root), build, run every test
#   make vmtest KERNEL=6.1|6.12 DRIVER=intree|ours   run the guest suite
#                   (QEMU=binary for another QEMU, VMTAG=name keeps its logs apart)
#   make qemu-backports  fetch QEMU 10.0 (bookworm-backports) into build/, print
#                   its path: make vmtest QEMU=$$(make -s qemu-backports)
#   make hostile KERNEL=6.1|6.12 DRIVER=intree|ours  the driver against a
#                   misbehaving device (selftests/vtdev/vtdev.ko)
#   make vmtest-bounce KERNEL=6.1|6.12 DRIVER=intree|ours [PACKED=1]  writes
#                   through a small forced bounce buffer (swiotlb,
#                   iommu_platform=on; PACKED=1: packed virtqueues)
#   make modules    build virtser.ko for every supported kernel
#   make bench      benchmarks, side by side with what we measure against
#   make distcheck  autotools distcheck of the userspace tarball
#   make install    daemon, CLI, man pages, systemd unit, udev rules, modprobe.d
#                   file and sample configuration (DESTDIR= and uninstall work)
#   make dkms-source  the module's DKMS source tree into /usr/src/virtser-VERSION
#   make install-check  make install/uninstall into a scratch DESTDIR, checked
#   make dkms-check     dkms add/build/install/remove on 6.1 and 6.12 (root)
#   make libvirt-check  virtserd behind a private libvirtd: a TCG domain's
#                   channel, console and serial port (root; KERNEL=6.1 default)

SHELL := /bin/bash
srcdir := $(CURDIR)
B ?= $(srcdir)/build
KERNEL ?= 6.1
DRIVER ?= intree
KERNELS := $(shell sed -n '/^[0-9]/s/[[:space:]].*//p' kernel/kernels.list)
CONFIGURE_FLAGS ?=

.PHONY: all deps configure userspace modules module-% check unit-check bench demo \
	kernel-check vmtest vmtest-bounce vmtest-all qemu-backports hostile vtdev vtdev-% distcheck install \
	uninstall dkms-source install-check dkms-check libvirt-check clean distclean

all: userspace modules

deps:
	@sh scripts/install-deps.sh

$(srcdir)/configure: configure.ac Makefile.am $(wildcard */local.mk)
	./autogen.sh

$(B)/config.status: $(srcdir)/configure
	mkdir -p $(B)
	cd $(B) && $(srcdir)/configure $(CONFIGURE_FLAGS)

configure: $(B)/config.status

userspace: $(B)/config.status
	$(MAKE) -C $(B)

# One object directory per kernel: build/kmod/<series>/virtser.ko
modules: $(addprefix module-,$(KERNELS))
module-%:
	@set -e; read kver img hdr < <(sh scripts/kernel-paths.sh $*); \
	sh kernel/scripts/build.sh $$hdr $(B)/kmod/$* $(KBUILD_FLAGS)

# The rig's programmable virtio console device: test only, never installed.
vtdev: $(addprefix vtdev-,$(KERNELS))
vtdev-%:
	@set -e; read kver img hdr < <(sh scripts/kernel-paths.sh $*); \
	sh selftests/vtdev/build.sh $$hdr $(B)/vtdev/$* $(KBUILD_FLAGS)

unit-check: $(B)/config.status
	$(MAKE) -C $(B) check

# Style and static checks on the module, against both header sets.
kernel-check:
	@sh scripts/kernel-check.sh $(B)

# The guest suite; DRIVER=ours builds the module for that kernel first.
vmtest: $(if $(filter ours,$(DRIVER)),module-$(KERNEL))
	@bash selftests/vm/run.sh --kernel $(KERNEL) --driver $(DRIVER) --build $(B) \
		$(if $(VMTAG),--tag $(VMTAG))

# Zero-copy and copied writes when every transfer is bounced through a
# swiotlb pool of BOUNCE 2 KiB slots, as under SEV or TDX.  The kernel
# rounds the pool up to a power of two; 4 MiB, less the receive buffers'
# share, is less than a port may have in flight, so the pool runs out first.
BOUNCE ?= 2048
vmtest-bounce: $(if $(filter ours,$(DRIVER)),module-$(KERNEL))
	@bash selftests/vm/run.sh --kernel $(KERNEL) --driver $(DRIVER) --build $(B) \
		--bounce $(BOUNCE) $(if $(PACKED),--packed) --tests bounce \
		--tag bounce$(if $(PACKED),-packed) --timeout 900

# QEMU 10.0 from bookworm-backports, unpacked into $(B)/qemu-bpo (never
# installed); prints the wrapper to pass as QEMU=.
qemu-backports:
	@bash scripts/qemu-backports.sh $(B)

# The hostile-device suite: no QEMU virtio-serial device, only vtdev.ko.
hostile: vtdev-$(KERNEL) $(if $(filter ours,$(DRIVER)),module-$(KERNEL))
	@bash selftests/vm/run.sh --kernel $(KERNEL) --driver $(DRIVER) --build $(B) \
		--vtdev --tests hostile --tag hostile --timeout 1200

demo: deps
	@bash demo/demo.sh --kernel $(KERNEL) --build $(B) $(if $(INTERACTIVE),--interactive)

# Figures, not verdicts: each prints its own table with ratios.
bench: deps userspace module-$(KERNEL) vtdev-$(KERNEL)
	@echo "== guest driver: in-tree virtio_console vs virtser.ko (bench/guest.sh)"
	@B=$(B) bash bench/guest.sh $(KERNEL)
	@echo "== driver ceiling: both drivers against vtdev.ko, no QEMU device (bench/ceiling.sh)"
	@B=$(B) bash bench/ceiling.sh $(KERNEL)
	@echo "== host relay: virtserd vs socat vs a direct connection (bench/relay-bench.sh)"
	@bash bench/relay-bench.sh $(B)

check: deps
	@bash scripts/check.sh $(B)

distcheck: $(B)/config.status
	$(MAKE) -C $(B) distcheck

install: $(B)/config.status
	$(MAKE) -C $(B) install

uninstall: $(B)/config.status
	$(MAKE) -C $(B) uninstall

dkms-source: $(B)/config.status
	$(MAKE) -C $(B) install-dkms

install-check: $(B)/config.status
	@bash scripts/install-check.sh $(B)

dkms-check: $(B)/config.status
	@bash scripts/dkms-check.sh $(B)

# Builds what it needs itself, and installs libvirt's packages when missing.
libvirt-check:
	@bash selftests/libvirt/libvirt-check.sh --build $(B) --kernel $(KERNEL)

clean:
	-[ -f $(B)/Makefile ] && $(MAKE) -C $(B) clean
	rm -rf $(B)/kmod $(B)/vtdev $(B)/selftests $(B)/vm $(B)/libvirt

distclean:
	rm -rf $(B) autom4te.cache build-aux aclocal.m4 configure config.h.in \
		$(shell find . -name Makefile.in)
