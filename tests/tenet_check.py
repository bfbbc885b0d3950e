#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check a Tenet trace written by `execlog export --tenet` against the
format=text log (reg=*, values=on) of the same run, by the layout as
docs/tenet.md describes it:

- one line per executed instruction, entries separated by ',', each
  NAME=VALUE; NAME is a general-purpose register, rip (eip), mr or mw;
- every line has rip=0xPC, the instruction's address;
- the first line has every general-purpose register;
- line I has the registers instruction I - 1 changed (the text log's
  "reg -> 0xHEX" of line I - 1, those Tenet knows), and the memory it read
  (mr) and wrote (mw): 0xADDR:BYTES, BYTES in memory order, as the text
  log's "load|store, 0xADDR=0xVALUE" of line I - 1 (VALUE most significant
  digit first).

Usage: tenet_check.py TENET TEXTLOG x86_64|i386
Prints what disagrees (at most 10 lines) and exits 1, or prints a summary.
"""
import re
import sys

GPRS = {
    "x86_64": ["rax", "rbx", "rcx", "rdx", "rbp", "rsp", "rsi", "rdi",
               "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"],
    "i386": ["eax", "ebx", "ecx", "edx", "ebp", "esp", "esi", "edi"],
}
PC = {"x86_64": "rip", "i386": "eip"}
LINE = re.compile(r'^(\d+), 0x([0-9a-f]+), 0x[0-9a-f]+, "(.*)"(.*)$')


def text_effects(line, gprs):
    """(pc, {reg: value}, [(kind, addr, bytes)]) of a format=text line."""
    m = LINE.match(line)
    if not m:
        raise ValueError("not a text line: " + line)
    pc = int(m.group(2), 16)
    rest = m.group(4)
    toks = rest.split(", ")[1:] if rest else []
    regs, mem = {}, []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ("load", "store"):
            addr, val = toks[i + 1].split("=")
            hexval = val[2:]
            # most significant first -> memory order (x86: little-endian)
            data = bytes.fromhex(hexval)[::-1]
            mem.append(("mr" if t == "load" else "mw", int(addr, 16), data))
            i += 2
            continue
        name, val = t.split(" -> ")
        if name in gprs:
            regs[name] = int(val, 16)
        i += 1
    return pc, regs, mem


def tenet_entries(line):
    regs, mem, pc = {}, [], None
    for item in line.split(","):
        name, value = item.split("=")
        if name in ("mr", "mw"):
            addr, data = value.split(":")
            mem.append((name, int(addr, 16), bytes.fromhex(data)))
        else:
            regs[name] = int(value, 16)
    return regs, mem


def main():
    tenet, log, arch = sys.argv[1:4]
    gprs, pcname = GPRS[arch], PC[arch]
    with open(tenet) as f:
        tl = f.read().split("\n")
    with open(log) as f:
        xl = [l for l in f.read().split("\n") if l]
    if tl and tl[-1] == "":
        tl.pop()
    bad = []
    if len(tl) != len(xl):
        bad.append(f"{len(tl)} Tenet lines, {len(xl)} instructions")
    prev = None
    n_mem = 0
    for i, (t, x) in enumerate(zip(tl, xl)):
        try:
            regs, mem = tenet_entries(t)
            pc, xregs, xmem = text_effects(x, gprs)
        except ValueError as e:
            bad.append(f"line {i}: {e}")
            break
        unknown = set(regs) - set(gprs) - {pcname}
        if unknown:
            bad.append(f"line {i}: names Tenet does not know: {sorted(unknown)}")
        if regs.get(pcname) != pc:
            bad.append(f"line {i}: {pcname}={regs.get(pcname)!r}, the instruction is at {pc:#x}")
        regs.pop(pcname, None)
        if i == 0:
            missing = set(gprs) - set(regs)
            if missing:
                bad.append(f"line 0 lacks {sorted(missing)}")
            if mem:
                bad.append("line 0 has memory entries")
        else:
            want_regs, want_mem = prev
            if regs != want_regs:
                bad.append(f"line {i}: registers {regs}, instruction {i - 1} changed {want_regs}")
            if mem != want_mem:
                bad.append(f"line {i}: memory {mem}, instruction {i - 1} accessed {want_mem}")
            n_mem += len(mem)
        prev = (xregs, xmem)
        if len(bad) >= 10:
            break
    if bad:
        print("\n".join(bad[:10]))
        return 1
    print(f"{len(tl)} lines, {n_mem} memory entries agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
