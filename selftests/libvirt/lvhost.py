#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""lvhost.py - the host half of `make libvirt-check`.

Talks to selftests/libvirt/lvguest.c through a virtserd endpoint (a unix
socket virtserd listens on), so every byte crosses virtserd and the QEMU
that libvirt started.  One operation per run; prints what it saw as "# "
lines and exits 0 when the check held, 1 when it did not.

  lvhost.py ready SOCK LABEL [NOT_BOOT]  wait for the guest's READY on this
                              port (from a boot other than NOT_BOOT); prints
                              "boot BOOT_ID" last
  lvhost.py links SOCK NAME   the guest lists /dev/virtio-ports: NAME must be
                              a link to a port whose sysfs name is NAME
  lvhost.py put SOCK N        N random bytes to the guest, SHA-256 compared
  lvhost.py get SOCK N SEED [CHUNK]
                              N bytes of the seeded stream from the guest,
                              SHA-256 compared; with CHUNK, asked for CHUNK
                              bytes at a time (seeds SEED, SEED+1, ...), the
                              next only when the last has arrived
  lvhost.py start SOCK NAME   ask the guest to start its program on port
                              NAME (the init holds the data channel closed
                              until then)
  lvhost.py held SOCK N LABEL OLD_BOOT
                              send "PUT N" and N bytes now (the domain is
                              down: virtserd keeps them), print "# sent",
                              then stay connected until a new boot says
                              READY and the guest's hash of them matches

  lvhost.py docs RST TOP       every literal block of RST introduced by a
                              comment ".. quoted from FILE" is, dedented,
                              a run of whole lines of TOP/FILE

Every wait is an upper bound (LV_TIMEOUT seconds of silence, default 300),
never a measure of speed.
"""
import hashlib
import os
import socket
import sys
import time

TIMEOUT = float(os.environ.get("LV_TIMEOUT", "300"))


def log(msg):
    print("# " + msg, flush=True)


class Port:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = b""

    def line(self, limit=8192):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise RuntimeError("no end of line in %d bytes: %r" %
                                   (len(self.buf), self.buf[:80]))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("virtserd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("ascii", "replace")

    def exactly(self, n, sha):
        """Read n bytes into the hash sha, taking what line() left over."""
        take = self.buf[:n]
        self.buf = self.buf[n:]
        sha.update(take)
        left = n - len(take)
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise RuntimeError("virtserd closed the connection with %d of "
                                   "%d bytes to come" % (left, n))
            sha.update(chunk)
            left -= len(chunk)

    def send(self, data):
        self.sock.sendall(data)

    def done(self):
        """Nothing may be left over: a stray byte means the stream slipped."""
        if self.buf:
            raise RuntimeError("%d unexpected bytes after the reply: %r" %
                               (len(self.buf), self.buf[:80]))
        self.sock.close()


def wait_ready(port, label, not_boot=None):
    """The guest's READY line for this port; lines before it are reported."""
    skipped = 0
    while True:
        line = port.line()
        words = line.split()
        if len(words) == 5 and words[0] == "READY" and words[1] == label:
            if not_boot and words[4] == not_boot:
                log("READY from the old boot %s: %s" % (not_boot, line))
                return None
            if skipped:
                log("%d line(s) before READY" % skipped)
            log("guest: " + line)
            return words[4]
        skipped += 1
        log("before READY: %r" % line[:80])


def put(port, n):
    data = os.urandom(n)
    port.send(b"PUT %d\n" % n + data)
    return hashlib.sha256(data).hexdigest()


def check_put_reply(port, n, want):
    got = port.line()
    if got != "PUT %d %s" % (n, want):
        log("sent %d bytes with SHA-256 %s, guest says '%s'" % (n, want, got))
        return False
    log("host -> guest: %d bytes, SHA-256 %s... on both sides" % (n, want[:16]))
    return True


def docs(rst, top):
    """The documentation's examples are the files the test runs."""
    lines = open(rst).read().split("\n")
    found = 0
    ok = True
    for i, line in enumerate(lines):
        if not line.startswith(".. quoted from "):
            continue
        src = line[len(".. quoted from "):].strip()
        j = i + 1
        while j < len(lines) and not lines[j].rstrip().endswith("::"):
            j += 1
        j += 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        block = []
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith("  ")):
            block.append(lines[j][2:])
            j += 1
        while block and not block[-1].strip():
            block.pop()
        want = open(os.path.join(top, src)).read().split("\n")
        n = len(block)
        if not n or not any(want[k:k + n] == block for k in range(len(want) - n + 1)):
            log("%s:%d: the example quoted from %s is not in it verbatim" %
                (rst, i + 1, src))
            ok = False
        found += 1
    if not found:
        log("%s quotes no example ('.. quoted from FILE')" % rst)
    return ok and found > 0


def main(argv):
    t0 = time.monotonic()
    op, path = argv[1], argv[2]
    if op == "docs":
        return 0 if docs(path, argv[3]) else 1
    port = Port(path)
    ok = True
    if op == "ready":
        boot = wait_ready(port, argv[3], argv[4] if len(argv) > 4 else None)
        ok = boot is not None
        if ok:
            print("boot " + boot)
    elif op == "links":
        name = argv[3]
        port.send(b"LINKS\n")
        line = port.line()
        log("guest: " + line)
        links = dict(w.split("=", 1) for w in line.split()[1:])
        if name not in links:
            log("no /dev/virtio-ports/%s in the guest" % name)
            ok = False
        elif links[name].split(":", 1)[1] != name:
            log("/dev/virtio-ports/%s points at %s" % (name, links[name]))
            ok = False
    elif op == "start":
        port.send(b"START %s\n" % argv[3].encode())
        got = port.line()
        ok = got == "START " + argv[3]
        log("guest: " + got)
    elif op == "put":
        n = int(argv[3])
        ok = check_put_reply(port, n, put(port, n))
    elif op == "get":
        # A virtconsole needs CHUNK: QEMU drops console output its chardev
        # socket cannot take at once (it never throttles the guest's hvc),
        # so the guest may only send what fits in that socket's buffer.
        n, seed = int(argv[3]), int(argv[4])
        chunk = int(argv[5]) if len(argv) > 5 else n
        done = 0
        while ok and done < n:
            c = min(chunk, n - done)
            port.send(b"GET %d %d\n" % (c, seed))
            head = port.line().split()
            if len(head) != 3 or head[:2] != ["GET", str(c)]:
                raise RuntimeError("bad reply to GET: %r" % " ".join(head))
            sha = hashlib.sha256()
            port.exactly(c, sha)
            if sha.hexdigest() != head[2]:
                log("guest -> host: bytes %d-%d: SHA-256 guest %s host %s" %
                    (done, done + c, head[2], sha.hexdigest()))
                ok = False
            done += c
            seed += 1
        if ok:
            log("guest -> host: %d bytes in %d-byte requests, SHA-256 equal "
                "for each" % (n, min(chunk, n)))
    elif op == "held":
        n, label, old = int(argv[3]), argv[4], argv[5]
        want = put(port, n)
        log("sent")
        boot = wait_ready(port, label, old)
        ok = boot is not None and check_put_reply(port, n, want)
    else:
        raise SystemExit("lvhost.py: unknown operation '%s'" % op)
    if ok:
        port.done()
    if op in ("put", "get"):
        log("%s took %.1f s (a figure, not a verdict)" % (op, time.monotonic() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, RuntimeError, ValueError) as e:
        log("%s: %s" % (type(e).__name__, e))
        sys.exit(1)
