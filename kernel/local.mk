# automake fragment: userspace builds of kernel/ code.  The module itself is
# built by kbuild (kernel/Kbuild, kernel/scripts/build.sh); here the same
# freestanding protocol code in kernel/proto/ is linked into unit tests and,
# with --enable-fuzzing, into libFuzzer targets (the stateful one with its
# seed corpus, kernel/tests/corpus/).
# The module's sources are built by kbuild, not automake, so they are not
# listed one by one: dist-hook copies them, by name, from the source tree.
# Not "EXTRA_DIST += kernel": automake would take the build tree's kernel/
# when there is one, with its objects, test logs and configure's
# virtser_config.h.
kernel_dist_files = find kernel -type f ! -name '.*' \( -name Kbuild \
	-o -name '*.[ch]' -o -name '*.sh' -o -name '*.md' -o -name '*.conf' -o -name '*.list' \
	-o -path 'kernel/tests/corpus/*' \)
.PHONY: dist-kernel
dist-hook: dist-kernel
dist-kernel:
	@set -e; for f in `cd "$(srcdir)" && $(kernel_dist_files)`; do \
		test -f "$(distdir)/$$f" && continue; \
		$(MKDIR_P) "$(distdir)/$${f%/*}"; \
		cp -p "$(srcdir)/$$f" "$(distdir)/$$f"; \
	done

kernel_proto_sources = kernel/proto/virtser_proto.c \
	kernel/proto/virtser_proto.h kernel/proto/virtser_types.h

check_PROGRAMS += kernel/tests/test_proto
kernel_tests_test_proto_SOURCES = kernel/tests/test_proto.c $(kernel_proto_sources)
UNIT_TESTS += kernel/tests/test_proto

kernel_model_sources = kernel/tests/port_model.c kernel/tests/port_model.h
check_PROGRAMS += kernel/tests/test_state
kernel_tests_test_state_SOURCES = kernel/tests/test_state.c \
	$(kernel_model_sources) $(kernel_proto_sources)
UNIT_TESTS += kernel/tests/test_state

if ENABLE_FUZZING
noinst_PROGRAMS += kernel/tests/fuzz_proto
kernel_tests_fuzz_proto_SOURCES = kernel/tests/fuzz_proto.c $(kernel_proto_sources)
kernel_tests_fuzz_proto_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
kernel_tests_fuzz_proto_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
noinst_PROGRAMS += kernel/tests/fuzz_state
kernel_tests_fuzz_state_SOURCES = kernel/tests/fuzz_state.c \
	$(kernel_model_sources) $(kernel_proto_sources)
kernel_tests_fuzz_state_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
kernel_tests_fuzz_state_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
endif

# The modprobe.d file that keeps virtio_console away from the device (see
# configure.ac for the directory).
if INSTALL_MODPROBE
modprobe_DATA = kernel/virtser.conf
endif

# DKMS: dkms.conf and the module's sources as $(dkmssourcedir)/virtser-VERSION.
# dkms builds there with kernel/scripts/build.sh, so everything build.sh,
# probe.sh and hvc-header.sh read is installed: Kbuild, the sources, the
# probes and the scripts.  The lists are globs so that a new source file or
# probe cannot be left out of the tree.
dkmssrcdir = $(dkmssourcedir)/$(PACKAGE)-$(PACKAGE_VERSION)
dkms_globs = Kbuild *.c *.h proto/*.c proto/*.h probes/*.c scripts/*.sh
EXTRA_DIST += dkms.conf.in
CLEANFILES += dkms.conf
dkms.conf: $(srcdir)/dkms.conf.in Makefile
	$(AM_V_GEN)$(SED) -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
		-e 's/@DKMS_KERNEL_REGEX[@]/$(DKMS_KERNEL_REGEX)/g' \
		$(srcdir)/dkms.conf.in > $@

.PHONY: install-dkms uninstall-dkms
install-dkms: dkms.conf
	$(MKDIR_P) "$(DESTDIR)$(dkmssrcdir)/proto" "$(DESTDIR)$(dkmssrcdir)/probes" \
		"$(DESTDIR)$(dkmssrcdir)/scripts"
	$(INSTALL_DATA) dkms.conf "$(DESTDIR)$(dkmssrcdir)/dkms.conf"
	@set -e; for f in `cd "$(srcdir)/kernel" && echo $(dkms_globs)`; do \
		test -f "$(srcdir)/kernel/$$f" || { echo "install-dkms: no kernel/$$f" >&2; exit 1; }; \
		case $$f in *.sh) m=0755 ;; *) m=0644 ;; esac; \
		echo " $(INSTALL) -m $$m kernel/$$f $(DESTDIR)$(dkmssrcdir)/$$f"; \
		$(INSTALL) -m $$m "$(srcdir)/kernel/$$f" "$(DESTDIR)$(dkmssrcdir)/$$f"; \
	done

# Removes what install-dkms installed (and nothing else), then the
# directories if that left them empty.
uninstall-dkms:
	rm -f "$(DESTDIR)$(dkmssrcdir)/dkms.conf"
	@set -e; for f in `cd "$(srcdir)/kernel" && echo $(dkms_globs)`; do \
		test -f "$(srcdir)/kernel/$$f" || continue; \
		echo " rm -f $(DESTDIR)$(dkmssrcdir)/$$f"; \
		rm -f "$(DESTDIR)$(dkmssrcdir)/$$f"; \
	done
	@for d in proto probes scripts ""; do \
		rmdir "$(DESTDIR)$(dkmssrcdir)/$$d" 2>/dev/null || :; \
	done

if INSTALL_DKMS
install_data_local_targets += install-dkms
uninstall_local_targets += uninstall-dkms
endif
