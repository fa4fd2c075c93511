# automake fragment: the host daemon (virtserd) and its CLI (virtserctl).

noinst_LIBRARIES += host/libvirtserd.a
host_libvirtserd_a_SOURCES = host/config.c host/config.h host/ring.c host/ring.h \
	host/telnet.c host/telnet.h host/rotate.c host/rotate.h host/qmp_proto.c host/qmp_proto.h \
	host/lvxml.c host/lvxml.h
host_libvirtserd_a_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)

HOST_TESTLIBS = host/libvirtserd.a $(LIBXML2_LIBS)

check_PROGRAMS += host/tests/test-config host/tests/test-telnet host/tests/test-ring \
	host/tests/test-qmp host/tests/test-lvxml
host_tests_test_lvxml_SOURCES = host/tests/test-lvxml.c
host_tests_test_lvxml_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
host_tests_test_lvxml_LDADD = $(HOST_TESTLIBS)
host_tests_test_config_SOURCES = host/tests/test-config.c
host_tests_test_config_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
host_tests_test_config_LDADD = $(HOST_TESTLIBS)
host_tests_test_telnet_SOURCES = host/tests/test-telnet.c
host_tests_test_telnet_LDADD = $(HOST_TESTLIBS)
host_tests_test_ring_SOURCES = host/tests/test-ring.c
host_tests_test_ring_LDADD = $(HOST_TESTLIBS)
host_tests_test_qmp_SOURCES = host/tests/test-qmp.c
host_tests_test_qmp_LDADD = $(HOST_TESTLIBS)

UNIT_TESTS += host/tests/test-config host/tests/test-telnet host/tests/test-ring host/tests/test-qmp \
	host/tests/test-lvxml

EXTRA_DIST += host/tests/data/libvirt.in.xml host/tests/data/libvirt.out.xml \
	host/tests/data/rfc.in.xml host/tests/data/rfc.out.xml \
	host/tests/data/qmp.in.xml host/tests/data/qmp.out.xml \
	host/tests/data/lvdom-live.xml host/tests/data/lvdom-inactive.xml

sbin_PROGRAMS += host/virtserd
host_virtserd_SOURCES = host/main.c host/loop.c host/uring.c host/log.c host/port.c host/port.h \
	host/vm.c host/client.c host/ep.c host/sock.c host/sock.h host/reload.c host/signal.c host/ctl.c host/ctl_proto.h \
	host/qmp.c host/qmp.h \
	host/peerq.c host/peerq.h \
	host/notify.c host/notify.h host/virtserd.h host/udata.h \
	host/lvirt.c host/lvirt.h
host_virtserd_CPPFLAGS = $(AM_CPPFLAGS) -D_GNU_SOURCE -DSYSCONFDIR='"$(sysconfdir)"' \
	-DVIRTSERD_VERSION='"$(PACKAGE_VERSION)"'
host_virtserd_CFLAGS = $(AM_CFLAGS) $(LIBURING_CFLAGS) $(LIBXML2_CFLAGS)
host_virtserd_LDADD = host/libvirtserd.a $(LIBURING_LIBS) $(LIBXML2_LIBS)
# libvirt's event loop on ours (lvevent.c) only when libvirt is there;
# lvirt.c is built either way and refuses <vm libvirt=> without it.
if HAVE_LIBVIRT
host_virtserd_SOURCES += host/lvevent.c host/lvevent.h
host_virtserd_CPPFLAGS += -DVS_HAVE_LIBVIRT
host_virtserd_CFLAGS += $(LIBVIRT_CFLAGS)
host_virtserd_LDADD += $(LIBVIRT_LIBS)
else
EXTRA_DIST += host/lvevent.c host/lvevent.h
endif

bin_PROGRAMS += host/virtserctl
host_virtserctl_SOURCES = host/virtserctl.c host/ctl_proto.h
host_virtserctl_LDADD = host/libvirtserd.a $(LIBXML2_LIBS)

check_PROGRAMS += host/tests/vspeer host/tests/noiouring host/tests/fakeqmp
host_tests_vspeer_SOURCES = host/tests/vspeer.c
host_tests_noiouring_SOURCES = host/tests/noiouring.c
host_tests_fakeqmp_SOURCES = host/tests/fakeqmp.c

HOST_SHTESTS = host/tests/relay-unix.sh host/tests/relay-multi.sh \
	host/tests/relay-ep.sh host/tests/relay-tcp.sh \
	host/tests/ctl.sh host/tests/qemu-reconnect.sh host/tests/own.sh \
	host/tests/notify.sh host/tests/vm-resend.sh host/tests/callgraph.sh \
	host/tests/stop-pending.sh host/tests/qmp.sh host/tests/lvevents.sh
EXTRA_DIST += $(HOST_SHTESTS) host/tests/lib.sh scripts/callgraph.sh

dist_man_MANS += host/man/virtserd.8 host/man/virtserctl.1 host/man/virtserd.xml.5
EXTRA_DIST += host/systemd/virtserd.service.in host/README.md

# The sample configuration.  A pristine copy always goes to
# $(docdir)/examples; $(sysconfdir)/virtserd.xml, the file the unit starts
# the daemon with, is installed from it only when there is none, so that
# reinstalling never overwrites an operator's configuration, and uninstall
# removes it only while it is still the unmodified sample.
examplesdir = $(docdir)/examples
dist_examples_DATA = host/virtserd.xml
.PHONY: install-virtserd-config uninstall-virtserd-config
install-virtserd-config:
	$(MKDIR_P) "$(DESTDIR)$(sysconfdir)"
	@f="$(DESTDIR)$(sysconfdir)/virtserd.xml"; \
	if test -e "$$f"; then \
		echo "keeping the existing $$f (the sample is in $(examplesdir))"; \
	else \
		echo " $(INSTALL_DATA) host/virtserd.xml $$f"; \
		$(INSTALL_DATA) "$(srcdir)/host/virtserd.xml" "$$f"; \
	fi
uninstall-virtserd-config:
	@f="$(DESTDIR)$(sysconfdir)/virtserd.xml"; \
	if cmp -s "$(srcdir)/host/virtserd.xml" "$$f"; then \
		echo " rm -f $$f"; rm -f "$$f"; \
	elif test -e "$$f"; then \
		echo "keeping $$f: it is not the unmodified sample"; \
	fi
install_data_local_targets += install-virtserd-config
uninstall_local_targets += uninstall-virtserd-config

# The unit names the install paths, so it is generated at build time.
systemdsystemunit_DATA = host/systemd/virtserd.service
CLEANFILES += host/systemd/virtserd.service
host/systemd/virtserd.service: $(srcdir)/host/systemd/virtserd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) host/systemd && \
	$(SED) -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/host/systemd/virtserd.service.in > $@

# Benchmark (bench/relay-bench.sh); built, never run by make check.
noinst_PROGRAMS += bench/relaybench
bench_relaybench_SOURCES = bench/relaybench.c
EXTRA_DIST += bench/relay-bench.sh

# libFuzzer targets (--enable-fuzzing, CC=clang); make check runs each
# briefly through scripts/check.sh.
if ENABLE_FUZZING
noinst_PROGRAMS += host/tests/fuzz-config host/tests/fuzz-telnet host/tests/fuzz-qmp \
	host/tests/fuzz-lvxml
host_tests_fuzz_lvxml_SOURCES = host/tests/fuzz-lvxml.c
host_tests_fuzz_lvxml_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_lvxml_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_lvxml_LDADD = host/libvirtserd-fuzz.a $(LIBXML2_LIBS)
host_tests_fuzz_config_SOURCES = host/tests/fuzz-config.c
host_tests_fuzz_config_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_config_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_config_LDADD = host/libvirtserd-fuzz.a $(LIBXML2_LIBS)
host_tests_fuzz_telnet_SOURCES = host/tests/fuzz-telnet.c
host_tests_fuzz_telnet_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_telnet_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_telnet_LDADD = host/libvirtserd-fuzz.a
host_tests_fuzz_qmp_SOURCES = host/tests/fuzz-qmp.c
host_tests_fuzz_qmp_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_qmp_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
host_tests_fuzz_qmp_LDADD = host/libvirtserd-fuzz.a
# The library again, instrumented for the fuzzer (coverage and sanitizers).
noinst_LIBRARIES += host/libvirtserd-fuzz.a
host_libvirtserd_fuzz_a_SOURCES = $(host_libvirtserd_a_SOURCES)
host_libvirtserd_fuzz_a_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined
endif
