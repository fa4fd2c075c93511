/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtser_compat.h - the one place where kernel API differences live.
 *
 * The HAVE_* defines come from kernel/scripts/probe.sh, which compiles small
 * probes against the target kernel's headers (kernel/probes/).  No other file
 * tests a HAVE_* define or LINUX_VERSION_CODE; they call the helpers below.
 */
#ifndef VIRTSER_COMPAT_H
#define VIRTSER_COMPAT_H

#include <linux/device.h>
#include <linux/fs.h>

/* Linux 6.4 dropped the owner argument of class_create(). */
static inline struct class *virtser_class_create(const char *name)
{
#ifdef HAVE_CLASS_CREATE_NAME_ONLY
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/*
 * Linux 6.12 removed no_llseek(); a NULL .llseek together with
 * nonseekable_open() gives the same -ESPIPE.
 */
#ifdef HAVE_NO_LLSEEK
#define VIRTSER_NO_LLSEEK	no_llseek
#else
#define VIRTSER_NO_LLSEEK	NULL
#endif

#endif /* VIRTSER_COMPAT_H */
