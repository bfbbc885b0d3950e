#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check memory values over a whole run: every load returns what was last
stored there.

Usage: valcheck.py system|user < DUMP.jsonl   (execlog dump --format jsonl)

Memory is modelled byte by byte. A store sets its bytes (little-endian
unless the access is big-endian). A load of bytes that a store set must
return them; bytes no store of the run set (the program image, what QEMU
or the kernel put there before the guest ran) are learnt from the first
load, and later loads must agree with that too.

What may write guest memory without a store of the guest is accounted for:
  both    an aarch64 'dc zva' zeroes a block of memory without a store
          record of its own: after one, everything is forgotten.
  system  only RAM is checked (device != "RAM" is I/O, never modelled);
          the bare-metal guests use no DMA and run with the MMU off, so
          nothing but their stores writes RAM once they run.
  user    a system call may write any memory (read(), the kernel's
          results): after each system call instruction everything is
          forgotten. The guest must be single-threaded (one vCPU) and take
          no signal (a signal frame is written by QEMU).
Prints what it checked; exits 1 on the first mismatches (up to 5 shown).
"""
import json
import sys

SYSCALLS = ("svc", "syscall", "ecall", "int ", "sysenter")


def main():
    mode = sys.argv[1]
    assert mode in ("system", "user")
    mem = {}
    loads = full = bytes_checked = stores = forgets = 0
    bad = []
    vcpus = set()
    for line in sys.stdin:
        o = json.loads(line)
        vcpus.add(o["vcpu"])
        for m in o["mem"]:
            if "value" not in m:
                sys.exit("valcheck: an access without a value (values=on?)")
            if mode == "system":
                if m["device"] != "RAM":
                    continue
                addr = int(m["paddr"], 16)
            else:
                addr = int(m["vaddr"], 16)
            size = m["size"]
            v = int(m["value"], 16)
            b = v.to_bytes(size, "big" if m["big_endian"] else "little")
            if m["op"] == "store":
                stores += 1
                for i in range(size):
                    mem[addr + i] = b[i]
                continue
            loads += 1
            known = 0
            for i in range(size):
                got = mem.get(addr + i)
                if got is None:
                    mem[addr + i] = b[i]
                    continue
                known += 1
                if got != b[i]:
                    bad.append("instruction %d at %s (%s): load of %d bytes "
                               "at 0x%x = %s, but byte %d was stored as "
                               "0x%02x" % (o["index"], o["pc"], o["disas"],
                                           size, addr, m["value"], i, got))
                    break
            bytes_checked += known
            full += known == size
        d = o["disas"]
        if d.startswith("dc zva") or (mode == "user" and
                                       d.startswith(SYSCALLS)):
            mem.clear()
            forgets += 1
    if len(vcpus) > 1:
        sys.exit("valcheck: more than one vCPU: the order between them is "
                 "not in a dump")
    print("stores %d, loads %d (%d wholly of stored or learnt bytes, %d "
          "bytes compared), memory forgotten %d times, mismatches %d"
          % (stores, loads, full, bytes_checked, forgets, len(bad)))
    for b in bad[:5]:
        print("  " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
