# automake fragment: the host daemon (virtserd) and its CLI (virtserctl).

noinst_LIBRARIES += host/libvirtserd.a
host_libvirtserd_a_SOURCES = host/config.c host/config.h host/ring.c host/ring.h \
	host/telnet.c host/telnet.h host/rotate.c host/rotate.h
host_libvirtserd_a_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)

HOST_TESTLIBS = host/libvirtserd.a $(LIBXML2_LIBS)

check_PROGRAMS += host/tests/test-config host/tests/test-telnet host/tests/test-ring
host_tests_test_config_SOURCES = host/tests/test-config.c
host_tests_test_config_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
host_tests_test_config_LDADD = $(HOST_TESTLIBS)
host_tests_test_telnet_SOURCES = host/tests/test-telnet.c
host_tests_test_telnet_LDADD = $(HOST_TESTLIBS)
host_tests_test_ring_SOURCES = host/tests/test-ring.c
host_tests_test_ring_LDADD = $(HOST_TESTLIBS)

TESTS += host/tests/test-config host/tests/test-telnet host/tests/test-ring

EXTRA_DIST += host/tests/data/libvirt.in.xml host/tests/data/libvirt.out.xml \
	host/tests/data/rfc.in.xml host/tests/data/rfc.out.xml
