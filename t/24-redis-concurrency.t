#!/usr/bin/perl
# 200 concurrent requests for 200 distinct subjects against one worker,
# no cache: every lookup is pipelined on the one Redis connection, and
# every request must get its own subject's record, never another's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use IO::Socket::INET;
use IO::Select;

use ConsentTest;

my $n = 200;

my $t = ConsentTest->new(
    name  => 'redis-concurrency',
    redis => 1,
    files => { 'html/index.html' => "hello\n" },
    http  => <<'EOF',
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=5s;
EOF
    server => <<'EOF',
    consent on;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { root %%DIR%%/html; }
EOF
);

my %want;
for my $i (1 .. $n) {
    my @p = (($i % 2) ? ('analytics') : (), ($i % 3 == 0) ? ('advertising') : ());
    $t->redis_cmd(HSET => "consent:s:u$i", p => join(',', @p));
    $want{"u$i"} = join ',', 'necessary', @p;
}

# all connections open and all requests written before any answer is read
my $sel = IO::Select->new;
my (%buf, %uid);
for my $i (1 .. $n) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->port, Proto => 'tcp') or die "connect: $!";
    binmode $s;
    my $req = "GET / HTTP/1.1\r\nHost: localhost\r\n"
        . "Cookie: uid=u$i; _ga=1; _fbp=2\r\nConnection: close\r\n\r\n";
    syswrite $s, $req;
    $sel->add($s);
    $buf{$s} = '';
    $uid{$s} = "u$i";
}

my $deadline = time + 30;
my %resp;
while ($sel->count && time < $deadline) {
    for my $s ($sel->can_read(1)) {
        my $r = sysread $s, $buf{$s}, 65536, length $buf{$s};
        next if $r;
        $sel->remove($s);
        $resp{ $uid{$s} } = ConsentTest::Response->parse($buf{$s});
        close $s;
    }
}

is(scalar keys %resp, $n, "all $n requests answered");

my ($ok_status, $ok_id, $ok_purposes, $ok_source) = (0, 0, 0, 0);
for my $u (sort keys %want) {
    my $r = $resp{$u} or next;
    $ok_status++   if $r->status == 200;
    $ok_id++       if $r->var('id') eq $u;
    $ok_purposes++ if $r->var('purposes') eq $want{$u};
    $ok_source++   if $r->var('source') eq 'redis';
}
is($ok_status, $n, 'every answer is 200');
is($ok_id, $n, 'every answer is for its own subject');
is($ok_purposes, $n, "every answer carries its own subject's purposes "
    . '(replies never crossed)');
is($ok_source, $n, 'every decision came from Redis');

$t->stop;
done_testing();
