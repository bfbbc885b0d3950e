#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Rebuild `execlog dump` text lines from its csv or jsonl output.

Usage: formats.py csv|jsonl < DUMP > TEXT
Each csv row / jsonl object becomes the line format=text prints for it, so
that comparing with `execlog dump --format text` checks that csv and jsonl
carry every field, correctly quoted and escaped.
"""
import csv
import json
import sys


def text_line(vcpu, pc, raw, disas, mems, regs):
    op = int.from_bytes((raw[:4] + b"\0\0\0\0")[:4], "little")
    line = "%d, 0x%x, 0x%x, \"%s\"" % (vcpu, pc, op, disas)
    for m in mems:
        val = ""
        if m.get("value") is not None:
            # text: 2 digits per byte of the access, as the json/csv carry
            assert len(m["value"]) == 2 + 2 * m["size"], m
            val = "=" + m["value"]
        if m["paddr"] is not None:
            line += ", %s, 0x%08x%s, %s" % (m["op"], m["paddr"], val,
                                           m["device"])
        else:
            line += ", %s, 0x%08x%s" % (m["op"], m["vaddr"], val)
    for name, value in regs:
        line += ", %s -> %s" % (name, value)
    return line


def from_jsonl(f):
    for row in f:
        o = json.loads(row)
        raw = bytes.fromhex(o["bytes"])
        assert len(raw) == o["size"], o
        mems = []
        for m in o["mem"]:
            assert m["op"] in ("load", "store") and m["size"] in (1, 2, 4, 8, 16, 32)
            assert isinstance(m["signed"], bool) and isinstance(m["big_endian"], bool)
            mems.append({"op": m["op"], "vaddr": int(m["vaddr"], 16),
                         "paddr": int(m["paddr"], 16) if m["paddr"] else None,
                         "device": m["device"], "size": m["size"],
                         "value": m.get("value")})
        regs = [(r["name"], r["value"]) for r in o.get("regs", [])]
        yield text_line(o["vcpu"], int(o["pc"], 16), raw, o["disas"], mems,
                        regs)


def from_csv(f):
    rows = csv.reader(f)
    assert next(rows) == ["vcpu", "index", "pc", "size", "bytes", "disas",
                          "accesses", "values", "regs"]
    for r in rows:
        vcpu, index, pc, size, raw, disas, acc, vals, regs = r
        raw = bytes.fromhex(raw)
        assert len(raw) == int(size), r
        mems = []
        for a in acc.split(";") if acc else []:
            f = a.split(":", 5)
            assert f[0] in ("load", "store") and set(f[2]) <= set("sb"), a
            m = {"op": f[0], "vaddr": int(f[3], 16), "paddr": None,
                 "device": None, "size": int(f[1]), "value": None}
            if len(f) > 4:
                m["paddr"] = int(f[4], 16)
                m["device"] = f[5]
            mems.append(m)
        vals = vals.split(";") if vals else []
        assert not vals or len(vals) == len(mems), r
        for m, v in zip(mems, vals):
            m["value"] = v or None
        regs = [tuple(x.split("=", 1)) for x in regs.split(";")] if regs else []
        yield text_line(int(vcpu), int(pc, 16), raw, disas, mems, regs)


def main():
    conv = {"csv": from_csv, "jsonl": from_jsonl}[sys.argv[1]]
    for line in conv(sys.stdin):
        sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
