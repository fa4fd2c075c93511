# automake fragment: userspace builds of kernel/ code (protocol parser unit
# tests and fuzzers).  The module itself is built by kbuild, see kernel/Kbuild.
EXTRA_DIST += kernel/Kbuild kernel/virtser_main.c kernel/virtser_compat.h \
	kernel/scripts/probe.sh kernel/scripts/build.sh kernel/probes
