/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few types and error codes kernel/proto/ needs.
 *
 * proto/ is compiled twice: into virtser.ko by kbuild and into userspace unit
 * tests and fuzzers by automake.  It uses no allocation and no library calls,
 * so the only thing that differs between the two builds is where the fixed
 * width integer types and errno values come from.  Multi-byte wire fields
 * are assembled byte by byte in virtser_proto.c, so no byte-order helpers
 * are needed on either side.
 */
#ifndef VIRTSER_TYPES_H
#define VIRTSER_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
#endif

#endif /* VIRTSER_TYPES_H */
