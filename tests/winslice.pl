#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
# winslice.pl OPTION... < FULL.log: the lines of a full format=text log
# (every instruction, no filter) that a run with the window and filter
# OPTIONs would log, computed independently of the plugin from README's
# rules: start=HEX opens at that instruction's first execution, stop=HEX
# closes after its first execution that comes after the start instruction,
# afilter=HEX|HEX-HEX and ifilter=PREFIX make an instruction eligible,
# vcpu=LIST picks vCPUs, skip=N and limit=N cut the eligible instructions
# of the chosen vCPUs inside the window. The log's line order is taken as
# the global order: exact for one vCPU, and for vcpu= alone.
# Empty lines (pending-line markers at exit) are dropped.
use strict;
use warnings;

my ($start, $stop, $skip, $limit) = (undef, undef, 0, undef);
my (@ranges, @ifilters, @vcpus);
for my $a (@ARGV) {
    my ($k, $v) = split /=/, $a, 2;
    if ($k eq 'start') { $start = hex $v }
    elsif ($k eq 'stop') { $stop = hex $v }
    elsif ($k eq 'skip') { $skip = $v }
    elsif ($k eq 'limit') { $limit = $v }
    elsif ($k eq 'afilter') {
        if ($v =~ /^(\w+)-(\w+)$/) { push @ranges, [hex $1, hex $2] }
        else { push @ranges, [hex $v, hex($v) + 1] }
    }
    elsif ($k eq 'ifilter') { push @ifilters, $v }
    elsif ($k eq 'vcpu') {
        for my $item (split /,/, $v) {
            my ($lo, $hi) = split /-/, $item;
            push @vcpus, [$lo, defined $hi ? $hi : $lo];
        }
    }
    else { die "winslice.pl: unknown option $a\n" }
}

my $state = defined $start ? 0 : 1;     # 0 waiting, 1 open, 2 closed
my $idx = 0;
while (my $line = <STDIN>) {
    next if $line eq "\n";
    $line =~ /^(\d+), 0x([0-9a-f]+), 0x[0-9a-f]+, "([^"]*)"/
        or die "winslice.pl: not an execlog line: $line";
    my ($cpu, $pc, $disas) = ($1, hex $2, $3);
    last if $state == 2;
    my $opened = 0;
    if ($state == 0) {
        next unless $pc == $start;
        $state = 1;
        $opened = 1;
    }
    my $elig = !@ranges && !@ifilters;
    for my $r (@ranges) { $elig = 1 if $pc >= $r->[0] && $pc < $r->[1] }
    for my $f (@ifilters) { $elig = 1 if substr($disas, 0, length $f) eq $f }
    my $sel = !@vcpus;
    for my $r (@vcpus) { $sel = 1 if $cpu >= $r->[0] && $cpu <= $r->[1] }
    if ($elig && $sel) {
        if ($idx >= $skip && (!defined $limit || $idx - $skip < $limit)) {
            print $line;
            $state = 2 if defined $limit && $idx - $skip + 1 == $limit;
        }
        $idx++;
    }
    $state = 2 if !$opened && defined $stop && $pc == $stop;
}
