/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udata.h - what the daemon packs into an SQE's user_data.
 *
 *   63      56 55          32 31           0
 *   [  op    ][ generation   ][    slot     ]
 *
 * The slot indexes the object table (loop.c); the generation lets the
 * dispatcher reject a completion whose object slot has been reused, which
 * would otherwise be a use-after-free waiting to happen.
 */
#ifndef VIRTSERD_UDATA_H
#define VIRTSERD_UDATA_H

#include <assert.h>
#include <stdint.h>

enum vs_op {
	VS_OP_NONE = 0,		/* cancellations and other fire-and-forget SQEs */
	VS_OP_VM_CONNECT,
	VS_OP_VM_ACCEPT,
	VS_OP_VM_READ,
	VS_OP_VM_WRITE,
	VS_OP_VM_TIMER,		/* reconnect delay, drain poll */
	VS_OP_VM_POLL,		/* hang-up watch while reads are throttled */
	VS_OP_USER_TIMER,	/* user-side reconnect delay */
	VS_OP_USER_ACCEPT,
	VS_OP_CL_CONNECT,
	VS_OP_CL_READ,
	VS_OP_CL_WRITE,
	VS_OP_CTL_ACCEPT,
	VS_OP_CTL_READ,
	VS_OP_CTL_WRITE,
	VS_OP_SIGNAL,
	VS_OP_PORT_TRIM,	/* quiet period before ring pages go back */
	VS_OP_QMP_CONNECT,	/* qmp.c: the monitor socket of a VM */
	VS_OP_QMP_READ,
	VS_OP_QMP_WRITE,
	VS_OP_QMP_TIMER,	/* reconnect delay */
	VS_OP_WATCH_READ,	/* a "watch" control client: EOF ends it */
	VS_OP_WATCH_WRITE,
	VS_OP_LV_POLL,		/* lvevent.c: a libvirt handle's poll (or its freeing NOP) */
	VS_OP_LV_TIMER,		/* lvevent.c: a libvirt timeout */
	VS_OP__COUNT
};

#define VS_UD_SLOT_BITS	32
#define VS_UD_GEN_BITS	24
#define VS_UD_OP_BITS	8
#define VS_UD_GEN_MASK	((1u << VS_UD_GEN_BITS) - 1)

static_assert(VS_UD_SLOT_BITS + VS_UD_GEN_BITS + VS_UD_OP_BITS == 64,
	      "user_data fields must fill exactly 64 bits");
static_assert(VS_OP__COUNT <= (1 << VS_UD_OP_BITS), "too many ops for the op field");

static inline uint64_t vs_ud_encode(enum vs_op op, uint32_t slot, uint32_t gen)
{
	return ((uint64_t)op << 56) | ((uint64_t)(gen & VS_UD_GEN_MASK) << 32) | slot;
}

static inline enum vs_op vs_ud_op(uint64_t ud)
{
	return (enum vs_op)(ud >> 56);
}

static inline uint32_t vs_ud_gen(uint64_t ud)
{
	return (uint32_t)(ud >> 32) & VS_UD_GEN_MASK;
}

static inline uint32_t vs_ud_slot(uint64_t ud)
{
	return (uint32_t)ud;
}

#endif
