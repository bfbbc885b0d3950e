#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
# opcmp.pl OURS UPSTREAM: compare two execlog logs line by line, exactly,
# except that where QEMU <= 9.0's upstream read past an instruction shorter
# than 4 bytes (x86, RISC-V compressed), its OPCODE may carry extra high
# bytes: then ours must equal upstream's low bytes, the rest being zero.
use strict;
use warnings;
open(my $a, '<', $ARGV[0]) or die "$ARGV[0]: $!";
open(my $b, '<', $ARGV[1]) or die "$ARGV[1]: $!";
my $n = 0;
while (1) {
    my $la = <$a>;
    my $lb = <$b>;
    $n++;
    last if !defined $la && !defined $lb;
    if (!defined $la || !defined $lb) {
        print "line $n: one log ends early\n";
        exit 1;
    }
    next if $la eq $lb;
    my $re = qr/^(\d+, 0x[0-9a-f]+), 0x([0-9a-f]+)(,.*)$/s;
    my @pa = $la =~ $re;
    my @pb = $lb =~ $re;
    if (@pa && @pb && $pa[0] eq $pb[0] && $pa[2] eq $pb[2]) {
        my ($oa, $ob) = (hex $pa[1], hex $pb[1]);
        my $ok = 0;
        for my $k (1 .. 3) {
            my $mask = (1 << (8 * $k)) - 1;
            $ok = 1 if $oa <= $mask && ($ob & $mask) == $oa;
        }
        next if $ok;
    }
    print "line $n differs:\n< $la> $lb";
    exit 1;
}
exit 0;
