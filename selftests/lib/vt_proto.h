/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_proto.h - the side channel between the guest and host halves of a test.
 *
 * The device under test is the virtio-serial device, so the halves talk over
 * the guest's second 8250 UART (ttyS1), which QEMU connects to a unix socket
 * the host half listens on.  The line is raw (no echo, no CR/LF mapping).
 *
 * Everything the guest prints there is TAP, copied to the host's output,
 * except lines that start with VT_TAG:
 *
 *   guest: "@@<seq> <command> <args...>\n"
 *   host:  "@@<seq> OK <result>\n"  or  "@@<seq> ERR <reason>\n"
 *   guest: "@@PROG <name>\n"          (init starts the test program <name>)
 *   guest: "@@EXIT <name> <status>\n" (it ended with this shell $?; 127:
 *                                     there is no such program)
 *   guest: "@@END <status>\n"         (the run is over; the guest powers off)
 *
 * The host counts the TAP results between @@PROG and @@EXIT and checks them
 * against the build's plan (selftests/vm/test-plan.sh); it also gives each
 * harness test ("#  RUN F.T ...") its own timeout plus a minute, and each
 * program its deadline, and ends the run when one passes.
 *
 * The guest drives and the host obeys, so each test reads top to bottom in
 * one place (the guest file), while everything done to the host end of a
 * port (connect, send, hot-plug via QMP) is real socket and QMP traffic done
 * by the host half.  Commands (PORT is the virtio-serial port id):
 *
 *   ports                      -> "ID:KIND:NAME ..." for every port QEMU has
 *   connect PORT               open the host end (QEMU sends PORT_OPEN 1)
 *   disconnect PORT            wait until QEMU has read everything we sent
 *                              (SIOCOUTQ == 0), then close (PORT_OPEN 0)
 *   reset PORT                 close the host end at once, drop any job
 *   send PORT HEX              write these bytes
 *   recv PORT N MS             -> HEX of exactly N bytes, ERR on timeout
 *   expect PORT MS HEX         read until the bytes HEX were seen
 *                              -> HEX of everything read
 *   readable PORT MS           -> number of bytes that arrived within MS
 *                              (read and discarded)
 *   source PORT N SEED         stream N bytes of vt_stream(SEED) in random
 *                              chunk sizes, in the background
 *   sink PORT N                read and hash N bytes in the background
 *   echo PORT N                send back what arrives, until N bytes did
 *   wait PORT MS               -> "SHA BYTES" when the background job on
 *                              PORT finished; ERR on timeout
 *   hotplug_add PORT NAME      chardev-add + device_add virtserialport
 *                              -> "ctrlq=STATE": whether the guest's control
 *                              receiveq had a ring (x-query-virtio-queue-
 *                              status, queue 2) just before and just after
 *                              device_add: "up" both times, "down" both
 *                              times (device reset, e.g. frozen: QEMU
 *                              dropped the PORT_ADD), "changed", "unknown"
 *   hotplug_del PORT           device_del + chardev-remove
 *                              -> "ctrlq=STATE" as for hotplug_add, around
 *                              device_del ("down": QEMU dropped the
 *                              PORT_REMOVE)
 *   after MS CMD [ARGS...]     -> N at once; vmhost runs CMD MS ms later
 *                              from its loop, whatever the guest is doing
 *                              (frozen, say), and logs its answer as
 *                              "# vmhost: after #N: ..." instead of sending
 *                              it.  Not for recv, readable, expect, wait or
 *                              after.  At most 16 per boot.
 *   paced PORT MS bin|text SEED
 *                              write 16 to 64 bytes every 0.5 ms for MS ms
 *                              in a thread of its own (any byte but ^O, or
 *                              lines of [a-z0-9] ending in a newline), and
 *                              read back and count what the guest sends
 *                              meanwhile; the port takes no other command
 *                              but reset until it is done
 *   pacedstatus PORT           -> "running SENT", or "done SHA SENT ECHOED
 *                              LATE TAIL": hash and length of what was
 *                              written, bytes read back, ticks that found
 *                              the socket full, and the last 128 bytes
 *                              written (hex)
 *   jobend PORT [N]            end a source or sink started with more
 *                              bytes than the guest will move: a source
 *                              stops after the chunk it generated and
 *                              -> its total; a sink stops at N bytes in all.
 *                              "wait" then answers as for that total
 *   devdel 0|1                 device_del of the whole virtio-serial-pci
 *                              device (vser0), answered once QEMU has
 *                              finalised it; the host ends of its ports are
 *                              closed.  With 1, device_add it back with
 *                              the same ports on the same chardevs
 *   afterstatus N              -> "pending", or "done +MS ok|err RESULT":
 *                              when the delayed command N ran (ms after it
 *                              was armed) and its answer
 */
#ifndef VT_PROTO_H
#define VT_PROTO_H

#define VT_TAG		"@@"
#define VT_LINE_MAX	65536	/* longest line either side sends */

#endif
