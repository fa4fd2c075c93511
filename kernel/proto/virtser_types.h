/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtser_types.h - the few types and error codes kernel/proto/ needs.
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
#include <stdint.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
#endif

#endif /* VIRTSER_TYPES_H */
