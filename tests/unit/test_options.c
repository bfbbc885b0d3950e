/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests: the plugin's option parser (plugin/options.c).
 *
 * One table: the argv QEMU hands the plugin (already split at ',' with ",,"
 * made ','), the plugin API, and what must come out: "ok" and what was
 * parsed, or the exact one-line message. "@N:c" in a string stands for N
 * copies of the byte c (long values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

#define BOTH 0              /* run the case for API 1 and for API 4 */
#define MAX_ARGS 8

typedef struct Case {
    int api;
    const char *argv[MAX_ARGS];     /* up to the first NULL */
    const char *want;
} Case;

#define KNOWN "(known: ifilter, afilter, reg, rdisas, outfile, format, " \
              "compress, values, bytes, start, stop, skip, limit, vcpu)"
#define NEEDS_V4 "needs QEMU >= 9.2 (this build is for plugin API 1; use " \
                 "libexeclog-v4.so with QEMU 9.2+)"
#define NOT_HEX "is not a hexadecimal address"
#define REG_CHARS "names are letters, digits and '_', wildcards '*' and '?')"
#define BIN_ONLY "format=bin records every watched register's changes: " \
                 "rdisas is for format=text"
#define BIN_REG_WHOLE "format=bin takes reg= only for whole runs: no " \
                      "ifilter, afilter or window (start, stop, skip, " \
                      "limit, vcpu) with it yet"
#define NOT_VCPUS "is not a list of vCPU indexes (N or N-M, separated by " \
                  "',,' on QEMU's command line)"

static const Case cases[] = {
    /* ---- what upstream execlog accepts, and ours the same way ---- */
    { BOTH, { NULL }, "ok" },
    { BOTH, { "ifilter=ldr", "afilter=0x4000a0", "ifilter=st",
              "afilter=DEADbeef" },
      "ok ifilter=ldr ifilter=st afilter=0x4000a0 afilter=0xdeadbeef" },
    { BOTH, { "afilter=400ab4" }, "ok afilter=0x400ab4" },
    { BOTH, { "afilter=0X400AB4" }, "ok afilter=0x400ab4" },
    { BOTH, { "afilter=0" }, "ok afilter=0x0" },
    { BOTH, { "afilter=ffffffffffffffff" }, "ok afilter=0xffffffffffffffff" },
    { BOTH, { "afilter=0x000000000000000000001" }, "ok afilter=0x1" },
    { BOTH, { "afilter=0x@63:01" }, "ok afilter=0x1" },
    { BOTH, { "afilter=10", "afilter=10" }, "ok afilter=0x10 afilter=0x10" },
    { BOTH, { "ifilter=ldr ", "ifilter=ldr " },
      "ok ifilter=ldr  ifilter=ldr " },
    /* "-plugin lib,ifilter" reaches us as ifilter=on: a prefix like any */
    { BOTH, { "ifilter=on" }, "ok ifilter=on" },
    /* "ifilter=add x0,, x0" on QEMU's command line */
    { BOTH, { "ifilter=add x0, x0" }, "ok ifilter=add x0, x0" },
    { BOTH, { "ifilter=b.ne #0x10 ; [x]=y" },
      "ok ifilter=b.ne #0x10 ; [x]=y" },
    { BOTH, { "ifilter=@256:a" }, "ok ifilter=@256:a" },
    { BOTH, { "outfile=/tmp/x.log" }, "ok outfile=/tmp/x.log" },
    { BOTH, { "outfile=/tmp/tr\xc3\xa4" "ce" },
      "ok outfile=/tmp/tr\xc3\xa4" "ce" },
    { BOTH, { "outfile=/tmp/\xff" }, "ok outfile=/tmp/\xff" },
    { BOTH, { "outfile=/tmp/a=b" }, "ok outfile=/tmp/a=b" },
    { BOTH, { "outfile=/@4094:a" }, "ok outfile=/@4094:a" },
    { BOTH, { "format=text" }, "ok" },
    { BOTH, { "format=text", "compress=none" }, "ok" },
    { BOTH, { "format=bin", "outfile=t.bin" }, "ok outfile=t.bin format=bin" },
    { BOTH, { "format=bin", "outfile=t.bin", "compress=zstd" },
      "ok outfile=t.bin format=bin compress=zstd" },
    { BOTH, { "compress=zstd", "outfile=t.bin", "format=bin" },
      "ok outfile=t.bin format=bin compress=zstd" },
    { BOTH, { "format=bin", "outfile=t.bin", "compress=none" },
      "ok outfile=t.bin format=bin" },
    { 4, { "reg=x*", "reg=sp", "rdisas=on" }, "ok reg=x* reg=sp rdisas=on" },
    { 4, { "reg=*" }, "ok reg=*" },
    { 4, { "reg=***" }, "ok reg=***" },
    { 4, { "reg=x?", "reg=X0", "reg=fs_base" },
      "ok reg=x? reg=X0 reg=fs_base" },
    { 4, { "reg=pc", "rdisas=off" }, "ok reg=pc rdisas=off" },
    { 4, { "rdisas=off" }, "ok rdisas=off" },
    { 4, { "reg=x1", "rdisas=y" }, "ok reg=x1 rdisas=on" },
    { 4, { "reg=x1", "rdisas=yes" }, "ok reg=x1 rdisas=on" },
    { 4, { "reg=x1", "rdisas=true" }, "ok reg=x1 rdisas=on" },
    { 4, { "reg=x1", "rdisas=n" }, "ok reg=x1 rdisas=off" },
    { 4, { "reg=x1", "rdisas=no" }, "ok reg=x1 rdisas=off" },
    { 4, { "reg=x1", "rdisas=false" }, "ok reg=x1 rdisas=off" },
    { 4, { "reg=x1", "ifilter=ldr", "afilter=10", "outfile=o" },
      "ok ifilter=ldr afilter=0x10 reg=x1 outfile=o" },

    /* ---- unknown keys (QEMU passes "arg=on" and "help" unchanged) ---- */
    { BOTH, { "foo=1" }, "unknown option 'foo=1' " KNOWN },
    { BOTH, { "=x" }, "unknown option '=x' " KNOWN },
    { BOTH, { "=" }, "unknown option '=' " KNOWN },
    { BOTH, { "" }, "unknown option '' " KNOWN },
    { BOTH, { "FORMAT=bin" }, "unknown option 'FORMAT=bin' " KNOWN },
    { BOTH, { "arg=on" }, "unknown option 'arg=on' " KNOWN },
    { BOTH, { "help=on" }, "unknown option 'help=on' " KNOWN },
    { BOTH, { "ifilter =ldr" }, "unknown option 'ifilter =ldr' " KNOWN },
    { BOTH, { " ifilter=ldr" }, "unknown option ' ifilter=ldr' " KNOWN },
    { BOTH, { "ifilterx=ldr" }, "unknown option 'ifilterx=ldr' " KNOWN },
    { BOTH, { "foo\nbar=1" }, "unknown option 'foo\\x0abar=1' " KNOWN },
    { BOTH, { "\x01\xff=1" }, "unknown option '\\x01\\xff=1' " KNOWN },
    { BOTH, { "@65536:k=1" }, "unknown option '@40:k...' " KNOWN },
    { BOTH, { "ifilter=ldr", "foo" }, "unknown option 'foo' " KNOWN },

    /* ---- no value ---- */
    { BOTH, { "ifilter" }, "option 'ifilter' needs a value (ifilter=...)" },
    { BOTH, { "ifilter=" }, "option 'ifilter' needs a value (ifilter=...)" },
    { BOTH, { "afilter=" }, "option 'afilter' needs a value (afilter=...)" },
    { BOTH, { "outfile=" }, "option 'outfile' needs a value (outfile=...)" },
    { BOTH, { "format=" }, "option 'format' needs a value (format=...)" },
    { BOTH, { "compress" },
      "option 'compress' needs a value (compress=...)" },
    { 4, { "reg=" }, "option 'reg' needs a value (reg=...)" },
    { 4, { "rdisas=" }, "option 'rdisas' needs a value (rdisas=...)" },

    /* ---- API 4 only ---- */
    { 1, { "reg=x*" }, "option 'reg' " NEEDS_V4 },
    { 1, { "reg=" }, "option 'reg' " NEEDS_V4 },
    { 1, { "rdisas=on" }, "option 'rdisas' " NEEDS_V4 },
    { 1, { "rdisas=off" }, "option 'rdisas' " NEEDS_V4 },
    { 1, { "ifilter=ldr", "reg=x1" }, "option 'reg' " NEEDS_V4 },

    /* ---- one value only ---- */
    { BOTH, { "outfile=a", "outfile=b" },
      "option 'outfile' given twice ('a', then 'b'); it takes one value" },
    { BOTH, { "outfile=a", "outfile=a" },
      "option 'outfile' given twice ('a', then 'a'); it takes one value" },
    { BOTH, { "format=text", "format=bin" },
      "option 'format' given twice ('text', then 'bin'); it takes one value" },
    { BOTH, { "format=bin", "outfile=t", "compress=zstd", "compress=none" },
      "option 'compress' given twice ('zstd', then 'none'); it takes one "
      "value" },
    { BOTH, { "outfile=@100:a", "outfile=b\n" },
      "option 'outfile' given twice ('@40:a...', then 'b\\x0a'); it takes "
      "one value" },
    { 4, { "reg=x1", "rdisas=on", "rdisas=off" },
      "option 'rdisas' given twice ('on', then 'off'); it takes one value" },
    { 4, { "reg=x1", "reg=x1" },
      "reg 'x1' given twice (its registers would be printed twice)" },

    /* ---- afilter: what g_ascii_strtoull(, 16) would misread ---- */
    { BOTH, { "afilter=zz" }, "afilter 'zz' " NOT_HEX },
    { BOTH, { "afilter=x10" }, "afilter 'x10' " NOT_HEX },
    { BOTH, { "afilter=0xzz" }, "afilter '0xzz' " NOT_HEX },
    { BOTH, { "afilter=0x" }, "afilter '0x' " NOT_HEX " (no digits)" },
    { BOTH, { "afilter=0X" }, "afilter '0X' " NOT_HEX " (no digits)" },
    { BOTH, { "afilter=-1" }, "afilter '-1' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "afilter=+10" }, "afilter '+10' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "afilter=0x-1" },
      "afilter '0x-1' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "afilter= 400ab4" },
      "afilter ' 400ab4' " NOT_HEX " (no spaces allowed)" },
    { BOTH, { "afilter=400ab4 " },
      "afilter '400ab4 ' " NOT_HEX " (no spaces allowed)" },
    { BOTH, { "afilter=0x400 ab4" },
      "afilter '0x400 ab4' " NOT_HEX " (no spaces allowed)" },
    { BOTH, { "afilter=400ab4zz" },
      "afilter '400ab4zz' " NOT_HEX " (junk after the digits)" },
    { BOTH, { "afilter=0x400ab4h" },
      "afilter '0x400ab4h' " NOT_HEX " (junk after the digits)" },
    { BOTH, { "afilter=0x0x10" },
      "afilter '0x0x10' " NOT_HEX " (junk after the digits)" },
    { BOTH, { "afilter=1_000" },
      "afilter '1_000' " NOT_HEX " (junk after the digits)" },
    { BOTH, { "afilter=0x\xc3\xa9" }, "afilter '0x\\xc3\\xa9' " NOT_HEX },
    /* "-plugin lib,afilter" reaches us as afilter=on */
    { BOTH, { "afilter=on" }, "afilter 'on' " NOT_HEX },
    { BOTH, { "afilter=0x1ffffffffffffffff" },
      "afilter '0x1ffffffffffffffff' does not fit in 64 bits" },
    { BOTH, { "afilter=10000000000000000" },
      "afilter '10000000000000000' does not fit in 64 bits" },
    { BOTH, { "afilter=@67:0" }, "ok afilter=0x0" },
    { BOTH, { "afilter=@134:0" },
      "afilter '@40:0...' is too long (134 bytes, at most 133)" },
    { BOTH, { "afilter=@65536:f" },
      "afilter '@40:f...' is too long (65536 bytes, at most 133)" },
    { BOTH, { "afilter=\t10" },
      "afilter '\\x0910' has a control character (0x09 at offset 0)" },
    { BOTH, { "afilter=10", "afilter=zz" }, "afilter 'zz' " NOT_HEX },

    /* ---- ifilter ---- */
    { BOTH, { "ifilter=@257:a" },
      "ifilter '@40:a...' is too long (257 bytes, at most 256)" },
    { BOTH, { "ifilter=@65536:a" },
      "ifilter '@40:a...' is too long (65536 bytes, at most 256)" },
    { BOTH, { "ifilter=ld\nr" },
      "ifilter 'ld\\x0ar' has a control character (0x0a at offset 2)" },
    { BOTH, { "ifilter=ldr\r" },
      "ifilter 'ldr\\x0d' has a control character (0x0d at offset 3)" },
    { BOTH, { "ifilter=\x7f" },
      "ifilter '\\x7f' has a control character (0x7f at offset 0)" },
    { BOTH, { "ifilter=\xff\xfe" },
      "ifilter '\\xff\\xfe' has a non-ASCII byte (0xff at offset 0); "
      "disassembly is ASCII" },
    { BOTH, { "ifilter=ldr\xc3\xa9" },
      "ifilter 'ldr\\xc3\\xa9' has a non-ASCII byte (0xc3 at offset 3); "
      "disassembly is ASCII" },
    { BOTH, { "ifilter= ldr" },
      "ifilter ' ldr' starts with a space; no disassembly does" },

    /* ---- reg ---- */
    { 4, { "reg=[xw]0" },
      "reg '[xw]0' cannot match a register name (byte 0x5b at offset 0: "
      REG_CHARS },
    { 4, { "reg=x 1" },
      "reg 'x 1' cannot match a register name (byte 0x20 at offset 1: "
      REG_CHARS },
    { 4, { "reg=x1\xff" },
      "reg 'x1\\xff' cannot match a register name (byte 0xff at offset 2: "
      REG_CHARS },
    { 4, { "reg=x\t" },
      "reg 'x\\x09' has a control character (0x09 at offset 1)" },
    { 4, { "reg=@300:*" },
      "reg '@40:*...' is too long (300 bytes, at most 256)" },

    /* ---- rdisas ---- */
    { 4, { "reg=x1", "rdisas=maybe" },
      "rdisas 'maybe' is not a boolean (on or off)" },
    { 4, { "reg=x1", "rdisas=ON" },
      "rdisas 'ON' is not a boolean (on or off)" },
    { 4, { "reg=x1", "rdisas=1" }, "rdisas '1' is not a boolean (on or off)" },
    { 4, { "reg=x1", "rdisas=on " },
      "rdisas 'on ' is not a boolean (on or off)" },
    { 4, { "rdisas=on" },
      "rdisas=on needs reg=GLOB (it logs the instructions that name a "
      "watched register)" },
    { 4, { "rdisas=@65536:y" },
      "rdisas '@40:y...' is too long (65536 bytes, at most 256)" },

    /* ---- outfile ---- */
    { BOTH, { "outfile=@4096:a" },
      "outfile '@40:a...' is too long (4096 bytes, at most 4095)" },
    { BOTH, { "outfile=@65536:a" },
      "outfile '@40:a...' is too long (65536 bytes, at most 4095)" },
    { BOTH, { "outfile=/tmp/a\nb" },
      "outfile '/tmp/a\\x0ab' has a control character (0x0a at offset 6)" },
    { BOTH, { "outfile=\x1b[31m" },
      "outfile '\\x1b[31m' has a control character (0x1b at offset 0)" },

    /* ---- format and compress ---- */
    { BOTH, { "format=xml" }, "format 'xml' is unknown (text or bin)" },
    { BOTH, { "format=BIN" }, "format 'BIN' is unknown (text or bin)" },
    { BOTH, { "format=bin " }, "format 'bin ' is unknown (text or bin)" },
    { BOTH, { "format=on" }, "format 'on' is unknown (text or bin)" },
    { BOTH, { "format=bin" }, "format=bin needs outfile=PATH" },
    { BOTH, { "format=bin", "compress=zstd" },
      "format=bin needs outfile=PATH" },
    { BOTH, { "compress=zstd" }, "compress=zstd needs format=bin" },
    { BOTH, { "format=text", "outfile=t", "compress=zstd" },
      "compress=zstd needs format=bin" },
    { BOTH, { "format=bin", "outfile=t", "compress=lz4" },
      "compress 'lz4' is unknown (zstd or none)" },
    { BOTH, { "format=bin", "outfile=t", "compress=ZSTD" },
      "compress 'ZSTD' is unknown (zstd or none)" },
    { 4, { "format=bin", "outfile=t", "reg=x1" },
      "ok reg=x1 outfile=t format=bin" },
    { 1, { "format=bin", "outfile=t", "reg=x1" },
      "option 'reg' " NEEDS_V4 },
    /* ---- values and bytes ---- */
    { 4, { "values=on" }, "ok values=on" },
    { 4, { "values=off" }, "ok" },
    { 4, { "values=on", "format=bin", "outfile=t" },
      "ok outfile=t format=bin values=on" },
    { 1, { "values=on" }, "option 'values' " NEEDS_V4 },
    { 4, { "values=yes", "values=no" },
      "option 'values' given twice ('yes', then 'no'); it takes one value" },
    { 4, { "values=1" }, "values '1' is not a boolean (on or off)" },
    { BOTH, { "bytes=on" }, "ok bytes=on" },
    { BOTH, { "bytes=on", "ifilter=mov" }, "ok ifilter=mov bytes=on" },
    { BOTH, { "bytes=maybe" }, "bytes 'maybe' is not a boolean (on or off)" },
    { BOTH, { "bytes=on", "format=bin", "outfile=t" },
      "bytes=on is for format=text (a binary trace has every byte of each "
      "instruction: 'execlog dump --bytes' prints them)" },
    { BOTH, { "bytes=off", "format=bin", "outfile=t" },
      "ok outfile=t format=bin" },
    /* filters and windows cut a binary trace down too */
    { BOTH, { "format=bin", "outfile=t", "ifilter=ldr" },
      "ok ifilter=ldr outfile=t format=bin" },
    { BOTH, { "afilter=10", "format=bin", "outfile=t", "afilter=20-30" },
      "ok afilter=0x10 afilter=0x20-0x30 outfile=t format=bin" },
    { BOTH, { "format=bin", "outfile=t", "start=10", "limit=5" },
      "ok outfile=t format=bin start=0x10 limit=5" },

    /* ---- afilter ranges ---- */
    { BOTH, { "afilter=400000-400100" }, "ok afilter=0x400000-0x400100" },
    { BOTH, { "afilter=0x400000-0X400100", "afilter=0x10" },
      "ok afilter=0x10 afilter=0x400000-0x400100" },
    { BOTH, { "afilter=0-ffffffffffffffff" },
      "ok afilter=0x0-0xffffffffffffffff" },
    { BOTH, { "afilter=10-11" }, "ok afilter=0x10-0x11" },
    { BOTH, { "afilter=@66:0-@66:f" },
      "afilter '@40:0...': its end '@40:f...' does not fit in 64 bits" },
    { BOTH, { "afilter=20-10" },
      "afilter '20-10' is an empty range (its end, exclusive, must be "
      "above its start)" },
    { BOTH, { "afilter=10-10" },
      "afilter '10-10' is an empty range (its end, exclusive, must be "
      "above its start)" },
    { BOTH, { "afilter=10-" },
      "afilter '10-': its end '' " NOT_HEX " (no digits)" },
    { BOTH, { "afilter=10-zz" }, "afilter '10-zz': its end 'zz' " NOT_HEX },
    { BOTH, { "afilter=10-20-30" },
      "afilter '10-20-30': its end '20-30' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "afilter=10--20" },
      "afilter '10--20': its end '-20' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "afilter=10-20x" },
      "afilter '10-20x': its end '20x' " NOT_HEX " (junk after the digits)" },
    { BOTH, { "afilter=10-1ffffffffffffffff" },
      "afilter '10-1ffffffffffffffff': its end '1ffffffffffffffff' does "
      "not fit in 64 bits" },
    { BOTH, { "afilter=zz-20" }, "afilter 'zz-20' " NOT_HEX },

    /* ---- start, stop, skip, limit, vcpu ---- */
    { BOTH, { "start=400ab4", "stop=0x400AC0" },
      "ok start=0x400ab4 stop=0x400ac0" },
    { BOTH, { "start=10", "stop=10" }, "ok start=0x10 stop=0x10" },
    { BOTH, { "skip=0" }, "ok" },
    { BOTH, { "skip=1000", "limit=18446744073709551615" },
      "ok skip=1000 limit=18446744073709551615" },
    { BOTH, { "limit=007" }, "ok limit=7" },
    { BOTH, { "vcpu=0" }, "ok vcpu=0-0" },
    { BOTH, { "vcpu=0,2-3", "vcpu=7" }, "ok vcpu=0-0 vcpu=2-3 vcpu=7-7" },
    { BOTH, { "vcpu=65535" }, "ok vcpu=65535-65535" },
    { BOTH, { "start=zz" }, "start 'zz' " NOT_HEX },
    { BOTH, { "stop=-4" }, "stop '-4' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "start=10-20" },
      "start '10-20' " NOT_HEX " (no sign allowed)" },
    { BOTH, { "start=0x1ffffffffffffffff" },
      "start '0x1ffffffffffffffff' does not fit in 64 bits" },
    { BOTH, { "start=10", "start=20" },
      "option 'start' given twice ('10', then '20'); it takes one value" },
    { BOTH, { "stop=" }, "option 'stop' needs a value (stop=...)" },
    { BOTH, { "skip=-1" },
      "skip '-1' is not a number of instructions (decimal digits only)" },
    { BOTH, { "skip=0x10" },
      "skip '0x10' is not a number of instructions (decimal digits only)" },
    { BOTH, { "skip=1e6" },
      "skip '1e6' is not a number of instructions (decimal digits only)" },
    { BOTH, { "limit=18446744073709551616" },
      "limit '18446744073709551616' does not fit in 64 bits" },
    { BOTH, { "limit=0" },
      "limit=0 would log nothing (limit=N logs N instructions at most, "
      "N >= 1)" },
    { BOTH, { "limit=on" },
      "limit 'on' is not a number of instructions (decimal digits only)" },
    { BOTH, { "limit=5", "limit=5" },
      "option 'limit' given twice ('5', then '5'); it takes one value" },
    { BOTH, { "vcpu=x" }, "vcpu 'x' " NOT_VCPUS },
    { BOTH, { "vcpu=1," }, "vcpu '1,' " NOT_VCPUS },
    { BOTH, { "vcpu=,1" }, "vcpu ',1' " NOT_VCPUS },
    { BOTH, { "vcpu=1-" }, "vcpu '1-' " NOT_VCPUS },
    { BOTH, { "vcpu=-1" }, "vcpu '-1' " NOT_VCPUS },
    { BOTH, { "vcpu=1-2-3" }, "vcpu '1-2-3' " NOT_VCPUS },
    { BOTH, { "vcpu=3-1" }, "vcpu '3-1' has an empty range (3-1)" },
    { BOTH, { "vcpu=65536" }, "vcpu '65536': vCPU 65536 is above 65535" },
    { BOTH, { "vcpu=0,99999999999999999999999" },
      "vcpu '0,99999999999999999999999' " NOT_VCPUS },
    { 4, { "format=bin", "outfile=t", "reg=x1", "ifilter=ldr" },
      BIN_REG_WHOLE },
    { 4, { "format=bin", "outfile=t", "reg=x1", "afilter=10-20" },
      BIN_REG_WHOLE },
    { 4, { "format=bin", "outfile=t", "reg=x1", "start=10" }, BIN_REG_WHOLE },
    { 4, { "format=bin", "outfile=t", "reg=x1", "limit=10" }, BIN_REG_WHOLE },
    { 4, { "format=bin", "outfile=t", "reg=x1", "vcpu=1" }, BIN_REG_WHOLE },
    { 4, { "format=bin", "outfile=t", "rdisas=off" }, BIN_ONLY },
};

/* @s with every "@N:c" replaced by N copies of c; the caller frees it. */
static char *expand(const char *s)
{
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);

    assert_non_null(out);
    while (*s) {
        char *end;
        unsigned long count;

        if (s[0] == '@' && s[1] >= '0' && s[1] <= '9' &&
            (count = strtoul(s + 1, &end, 10), *end == ':') && end[1]) {
            out = realloc(out, cap += count);
            assert_non_null(out);
            memset(out + n, end[1], count);
            n += count;
            s = end + 2;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    return out;
}

/* What was parsed, as "ok" and the options that differ from the defaults. */
static char *describe(const ElOptions *o)
{
    size_t cap = 64, n;
    char *d;

    for (size_t i = 0; i < o->n_ifilters; i++) {
        cap += strlen(o->ifilters[i]) + 10;
    }
    for (size_t i = 0; i < o->n_regs; i++) {
        cap += strlen(o->regs[i]) + 10;
    }
    cap += o->n_afilters * 30 + (o->outfile ? strlen(o->outfile) : 0) + 64;
    cap += o->n_aranges * 50 + o->n_vcpus * 30 + 200;
    d = malloc(cap);
    assert_non_null(d);
    n = (size_t)snprintf(d, cap, "ok");
    for (size_t i = 0; i < o->n_ifilters; i++) {
        n += (size_t)snprintf(d + n, cap - n, " ifilter=%s", o->ifilters[i]);
    }
    for (size_t i = 0; i < o->n_afilters; i++) {
        n += (size_t)snprintf(d + n, cap - n, " afilter=0x%llx",
                              (unsigned long long)o->afilters[i]);
    }
    for (size_t i = 0; i < o->n_aranges; i++) {
        n += (size_t)snprintf(d + n, cap - n, " afilter=0x%llx-0x%llx",
                              (unsigned long long)o->aranges[i].lo,
                              (unsigned long long)o->aranges[i].end);
    }
    for (size_t i = 0; i < o->n_regs; i++) {
        n += (size_t)snprintf(d + n, cap - n, " reg=%s", o->regs[i]);
    }
    if (o->rdisas_given) {
        n += (size_t)snprintf(d + n, cap - n, " rdisas=%s",
                              o->rdisas ? "on" : "off");
    }
    if (o->outfile) {
        n += (size_t)snprintf(d + n, cap - n, " outfile=%s", o->outfile);
    }
    if (o->format == EL_FORMAT_BIN) {
        n += (size_t)snprintf(d + n, cap - n, " format=bin");
    }
    if (o->compress == EL_COMPRESS_ZSTD) {
        n += (size_t)snprintf(d + n, cap - n, " compress=zstd");
    }
    if (o->values) {
        n += (size_t)snprintf(d + n, cap - n, " values=on");
    }
    if (o->bytes) {
        n += (size_t)snprintf(d + n, cap - n, " bytes=on");
    }
    if (o->has_start) {
        n += (size_t)snprintf(d + n, cap - n, " start=0x%llx",
                              (unsigned long long)o->start);
    }
    if (o->has_stop) {
        n += (size_t)snprintf(d + n, cap - n, " stop=0x%llx",
                              (unsigned long long)o->stop);
    }
    if (o->skip) {
        n += (size_t)snprintf(d + n, cap - n, " skip=%llu",
                              (unsigned long long)o->skip);
    }
    if (o->limit) {
        n += (size_t)snprintf(d + n, cap - n, " limit=%llu",
                              (unsigned long long)o->limit);
    }
    for (size_t i = 0; i < o->n_vcpus; i++) {
        n += (size_t)snprintf(d + n, cap - n, " vcpu=%u-%u", o->vcpus[i].lo,
                              o->vcpus[i].hi);
    }
    return d;
}

static bool all_zero(const ElOptions *o)
{
    static const ElOptions zero;

    return memcmp(o, &zero, sizeof(zero)) == 0;
}

/* Runs one case for one API; returns whether it came out as wanted. */
static bool run_case(size_t idx, const Case *c, int api)
{
    char *argv[MAX_ARGS];
    char err[512];
    int argc = 0, r;
    char *want = expand(c->want), *got;
    ElOptions o;
    bool ok;

    while (argc < MAX_ARGS && c->argv[argc]) {
        argv[argc] = expand(c->argv[argc]);
        argc++;
    }
    memset(err, 'X', sizeof(err));
    r = el_options_parse(&o, argc, argv, api, err, sizeof(err));
    if (r == 0) {
        got = describe(&o);
        el_options_free(&o);
    } else {
        got = strdup(err);
        assert_non_null(got);
    }
    ok = (r == 0 || r == -1) && strcmp(got, want) == 0 &&
         (r == 0 || all_zero(&o));
    if (!ok) {
        print_error("case %zu (API %d, first arg '%.60s'):\n  got  %.300s\n"
                    "  want %.300s\n", idx, api,
                    argc ? argv[0] : "", got, want);
    }
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
    }
    free(got);
    free(want);
    return ok;
}

static void option_table(void **state)
{
    size_t bad = 0, runs = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];

        if (c->api == BOTH || c->api == 1) {
            bad += !run_case(i, c, 1);
            runs++;
        }
        if (c->api == BOTH || c->api == 4) {
            bad += !run_case(i, c, 4);
            runs++;
        }
    }
    print_message("%zu option cases run, %zu wrong\n", runs, bad);
    assert_int_equal(bad, 0);
}

/* A message cut by a small buffer stays a terminated string. */
static void short_error_buffer(void **state)
{
    char *argv[] = { "afilter=zz" };
    char err[8];
    ElOptions o;

    (void)state;
    assert_int_equal(el_options_parse(&o, 1, argv, 1, err, sizeof(err)), -1);
    assert_string_equal(err, "afilter");
    assert_true(all_zero(&o));
    assert_int_equal(el_options_parse(&o, 1, argv, 1, NULL, 0), -1);
    assert_true(all_zero(&o));
}

static void filters_match(void **state)
{
    char *argv[] = { "ifilter=ldr", "afilter=0x4000a0", "ifilter=st",
                     "afilter=DEADbeef" };
    char err[256];
    ElOptions o;

    (void)state;
    assert_int_equal(el_options_parse(&o, 4, argv, 1, err, sizeof(err)), 0);
    assert_true(el_match_ifilter(&o, "stp x29, x30, [sp]"));
    assert_true(el_match_ifilter(&o, "ldr x0, [x1]"));
    assert_false(el_match_ifilter(&o, "add x0, x0, #1"));
    assert_false(el_match_ifilter(&o, " ldr"));
    assert_true(el_match_afilter(&o, 0xdeadbeef));
    assert_false(el_match_afilter(&o, 0x4000a4));
    el_options_free(&o);
}

static void ranges_match(void **state)
{
    char *argv[] = { "afilter=400000-400010", "afilter=500000",
                     "afilter=fffffffffffffff0-ffffffffffffffff",
                     "vcpu=1,3-4", "vcpu=9" };
    char err[256];
    ElOptions o;

    (void)state;
    assert_int_equal(el_options_parse(&o, 5, argv, 1, err, sizeof(err)), 0);
    assert_false(el_match_afilter(&o, 0x3fffff));
    assert_true(el_match_afilter(&o, 0x400000));
    assert_true(el_match_afilter(&o, 0x40000f));
    assert_false(el_match_afilter(&o, 0x400010));  /* end exclusive */
    assert_true(el_match_afilter(&o, 0x500000));
    assert_false(el_match_afilter(&o, 0x500001));
    assert_true(el_match_afilter(&o, 0xfffffffffffffffe));
    assert_false(el_match_afilter(&o, 0xffffffffffffffff));
    assert_false(el_match_vcpu(&o, 0));
    assert_true(el_match_vcpu(&o, 1));
    assert_false(el_match_vcpu(&o, 2));
    assert_true(el_match_vcpu(&o, 3));
    assert_true(el_match_vcpu(&o, 4));
    assert_false(el_match_vcpu(&o, 5));
    assert_true(el_match_vcpu(&o, 9));
    assert_true(el_options_filtering(&o));
    assert_true(el_options_window(&o));
    el_options_free(&o);
}

static void booleans_and_hex(void **state)
{
    bool b;
    uint64_t v;

    (void)state;
    assert_true(el_parse_bool("on", &b) && b);
    assert_true(el_parse_bool("yes", &b) && b);
    assert_true(el_parse_bool("y", &b) && b);
    assert_true(el_parse_bool("false", &b) && !b);
    assert_true(el_parse_bool("n", &b) && !b);
    assert_false(el_parse_bool("On ", &b));
    assert_false(el_parse_bool("", &b));
    assert_true(el_parse_hex("ffffffffffffffff", &v));
    assert_true(v == UINT64_MAX);
    assert_true(el_parse_hex("0X10", &v) && v == 16);
    assert_false(el_parse_hex("", &v));
    assert_false(el_parse_hex("0x", &v));
    assert_false(el_parse_hex("12g", &v));
    assert_false(el_parse_hex("-1", &v));
    assert_false(el_parse_hex(" 1", &v));
    assert_false(el_parse_hex("10000000000000000", &v));
}

static void register_globs(void **state)
{
    (void)state;
    assert_true(el_glob_match("x*", "x0"));
    assert_true(el_glob_match("x*", "x"));
    assert_true(el_glob_match("x?", "x9"));
    assert_false(el_glob_match("x?", "x10"));
    assert_false(el_glob_match("x?", "x"));
    assert_true(el_glob_match("*sp", "wsp"));
    assert_true(el_glob_match("*", ""));
    assert_true(el_glob_match("***", "abc"));
    assert_true(el_glob_match("a*b*c", "aXXbYYc"));
    assert_false(el_glob_match("a*b*c", "aXXbYY"));
    assert_false(el_glob_match("pc", "PC"));
    assert_false(el_glob_match("", "x0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(option_table),
        cmocka_unit_test(short_error_buffer),
        cmocka_unit_test(filters_match),
        cmocka_unit_test(ranges_match),
        cmocka_unit_test(booleans_and_hex),
        cmocka_unit_test(register_globs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
