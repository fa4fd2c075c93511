# automake fragment: userspace builds of kernel/ code.  The module itself is
# built by kbuild (kernel/Kbuild, kernel/scripts/build.sh); here the same
# freestanding protocol code in kernel/proto/ is linked into unit tests and,
# with --enable-fuzzing, into a libFuzzer target.
# The module's sources are built by kbuild, not automake: ship the whole
# directory (it holds no build products; those go to build/kmod/).
EXTRA_DIST += kernel

kernel_proto_sources = kernel/proto/virtser_proto.c \
	kernel/proto/virtser_proto.h kernel/proto/virtser_types.h

check_PROGRAMS += kernel/tests/test_proto
kernel_tests_test_proto_SOURCES = kernel/tests/test_proto.c $(kernel_proto_sources)
TESTS += kernel/tests/test_proto

if ENABLE_FUZZING
noinst_PROGRAMS += kernel/tests/fuzz_proto
kernel_tests_fuzz_proto_SOURCES = kernel/tests/fuzz_proto.c $(kernel_proto_sources)
kernel_tests_fuzz_proto_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
kernel_tests_fuzz_proto_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
endif
