# The VM rig itself is built by selftests/Makefile (static guest programs,
# the kselftest harness from linux-source); only its library's unit test
# is part of the automake build, so make check and the sanitizer and
# valgrind runs cover it.
check_PROGRAMS += selftests/lib/test_lib
selftests_lib_test_lib_SOURCES = selftests/lib/test_lib.c selftests/lib/sha256.c \
	selftests/lib/sha256.h selftests/lib/stream.h
selftests_lib_test_lib_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/selftests/lib
UNIT_TESTS += selftests/lib/test_lib
