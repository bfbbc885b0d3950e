#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a small format version 2 trace, intact or with one damaged
version-2 record, straight from docs/trace-format.md (not through our
writer): two instructions in one block, a load with its value, a REG and
a REGS record.

Usage: mkv2.py KIND OUT   KIND: ok, reg-undefined, regs-past-block,
       regs-short, value-too-big, reg-size-0, regs-twice
"""
import struct
import sys


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7f | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zz(v):
    return (v << 1) if v >= 0 else ((-v) << 1) - 1


def chunk(vcpu, seq, recs):
    used = len(recs)
    h = b"ELCK" + struct.pack("<HHIIIIQ", vcpu, 1, seq, 4096, used, used, 0)
    return h + recs + bytes(4096 - 32 - used)


def main():
    kind, out = sys.argv[1:]
    insn = lambda i, pc, b, d: (b"\x03" + varint(i) + varint(pc) + bytes([len(b)]) +
                                b + varint(len(d)) + d)
    reg_size = 0 if kind == "reg-size-0" else 8
    static = (insn(0, 0x1000, bytes.fromhex("a10038d5"), b"ldr x1, [x2]") +
              insn(1, 0x1004, bytes.fromhex("1f2003d5"), b"nop") +
              b"\x02" + varint(0) + varint(2) + varint(0) + varint(1) +
              b"\x08" + varint(0) + varint(reg_size) + bytes(range(1, reg_size + 1)) +
              varint(2) + b"x1")
    shift = 5 if kind == "value-too-big" else 3
    value = 0x0123456789abcdef
    mem = b"\x80" + bytes([0x08 | shift]) + varint(zz(0x2000)) + varint(zz(value))
    rid = 5 if kind == "reg-undefined" else 0
    idx = 2 if kind == "regs-past-block" else 0
    entries = varint(rid) + (0xfedcba9876543210).to_bytes(8, "little")
    if kind == "regs-short":
        entries = entries[:-1]
    regs = b"\x09" + varint(idx) + varint(len(entries)) + entries
    if kind == "regs-twice":
        regs += regs
    vcpu = (b"\x05" + b"\x01" + varint(zz(0)) + struct.pack("<H", 2) + mem +
            regs + b"\x06" + varint(2) + varint(1) + varint(0))
    body = chunk(0xffff, 0, static) + chunk(0, 0, vcpu)
    h = bytearray(4096)
    h[0:8] = b"EXECLOG\0"
    struct.pack_into("<HHIIIII", h, 8, 2, 2, 4096, 4096, 2, 0, 4)
    struct.pack_into("<QI", h, 32, 4096 + len(body), 0)
    open(out, "wb").write(bytes(h) + body)


if __name__ == "__main__":
    main()
