#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Bit flips in a trace, each result read by every command of the tool.

Usage: tests/dmgflips.py TRACE EXECLOG VLIMIT_KIB|unlimited TMPFILE

For each offset of trace_damage.sh's list (header fields, the fields of
every chunk header, records) and each mask (1, 128, 255), TMPFILE is the
trace with that byte flipped, and `execlog dump`, `stats` and `info` of it
must end sane, as trace_damage.sh's dmg_sane says: exit 0 with nothing on
stderr or one "trace was cut off at offset 0x..." line, or exit 2 with
exactly one "execlog: FILE: offset 0x...: ..." line; never another status,
a hang (10 s) or a crash. Prints the first failure and exits 1; exits 0 if
every one is sane. (The shell's way forked a dozen processes per flip.)
"""
import re
import resource
import subprocess
import sys

CUT = re.compile(rb"^execlog: .*: trace was cut off at offset 0x[0-9a-f]*: .")
DAMAGED = re.compile(rb"^execlog: .*: offset 0x[0-9a-f]*: .")


def offsets(size):
    offs = [0, 7, 8, 9, 10, 11, 12, 16, 17, 19, 20, 24, 28, 32, 33, 38, 40,
            64, 70]
    for off in range(4096, size, 4096):
        offs += [off + i for i in (0, 4, 5, 6, 7, 8, 12, 13, 14, 16, 17, 20,
                                   21, 24, 32, 33, 34, 35, 36, 40, 50, 60,
                                   100, 300, 1000)]
    return [o for o in offs if o < size]


def sane(rc, err):
    lines = err.count(b"\n")
    first = err.split(b"\n", 1)[0]
    if rc == 0:
        if lines == 0 or (lines == 1 and CUT.search(first)):
            return None
        return "exit 0 with: " + err[:300].decode(errors="replace")
    if rc == 2:
        if lines == 1 and DAMAGED.search(first):
            return None
        return "exit 2 with %d lines: %s" % (lines,
                                             err[:300].decode(errors="replace"))
    return "exit %d: %s" % (rc, err[:300].decode(errors="replace"))


def main():
    trace, execlog, vlimit, tmp = sys.argv[1:5]
    data = open(trace, "rb").read()

    def limit():
        if vlimit != "unlimited":
            kib = int(vlimit) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (kib, kib))

    for off in offsets(len(data)):
        for mask in (1, 128, 255):
            flipped = bytearray(data)
            flipped[off] ^= mask
            with open(tmp, "wb") as f:
                f.write(flipped)
            for cmd in ("dump", "stats", "info"):
                try:
                    p = subprocess.run([execlog, cmd, tmp],
                                       stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE,
                                       preexec_fn=limit, timeout=10)
                    why = sane(p.returncode, p.stderr)
                except subprocess.TimeoutExpired:
                    why = "hung (killed by the timeout)"
                if why:
                    print("byte %d ^ %d: %s: %s" % (off, mask, cmd, why))
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
