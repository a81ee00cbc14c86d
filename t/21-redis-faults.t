#!/usr/bin/perl
# Redis failing: killed mid-run, paused beyond the timeout, restarted.
# Requests keep answering within timeout + a margin with the fail policy,
# stop waiting at all once Redis is known down, and lookups recover by
# themselves.  Also: fail open, and the signed cookie standing in.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;

use ConsentTest qw(mint_token keys_line);

my $key = 'k' x 32;

my $t = ConsentTest->new(
    name  => 'redis-faults',
    redis => 1,
    files => { keys => keys_line('k1', $key) },
    http  => <<'EOF',
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=300ms connect_timeout=300ms;
    consent_zone zone=consent:1m ttl=60s;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

sub timed_visit {
    my ($cookie, $country) = @_;
    my $t0 = time;
    my $r = $t->get('/', headers => [[Cookie => $cookie],
        ['X-Country' => $country || 'US']]);
    return ($r, time - $t0);
}

sub poll_source {
    my ($cookie, $want, $secs) = @_;
    my $deadline = time + $secs;
    my $r;
    while (1) {
        ($r) = timed_visit($cookie);
        return $r if $r->var('source') eq $want || time > $deadline;
        sleep 0.05;
    }
}

$t->redis_cmd(HSET => 'consent:s:alive', p => 'analytics');

my ($r, $dt) = timed_visit('uid=alive; _ga=1; _fbp=2');
is($r->var('source'), 'redis', 'baseline: decided by Redis');

# killed: the connection closes, the circuit opens, nobody waits

$t->stop_redis;

($r, $dt) = timed_visit('uid=k1; _ga=1; _fbp=2');
is($r->status, 200, 'Redis killed: still answered');
is($r->var('source'), 'fail', 'Redis killed: fail policy');
is($r->origin->{cookie}, 'uid=k1', 'fail closed: only necessary, even in '
    . 'the US');
cmp_ok($dt, '<', 0.3 + 0.5, 'answered within timeout + margin');

my $max = 0;
for my $i (1 .. 10) {
    (undef, $dt) = timed_visit("uid=k1x$i; _ga=1");
    $max = $dt if $dt > $max;
}
cmp_ok($max, '<', 0.15, 'circuit open: requests do not wait on Redis '
    . '(slowest of 10 well under the 300ms timeout)');
ok(scalar $t->error_log_grep(qr/consent redis .*lookups fail fast/),
    'the outage is logged once, with what it means');

# a valid consent cookie stands in for Redis

my $tok = mint_token('k1', $key, 'cookieuser', 0b101);
($r) = timed_visit("consent=$tok; _ga=1; _fbp=2", 'FR');
is($r->var('source'), 'cookie', 'Redis down: the signed cookie decides');
is($r->origin->{cookie}, "consent=$tok; _ga=1",
    'cookie grants analytics, advertising stripped');

# cached entries still answer while Redis is away

($r) = timed_visit('uid=alive; _ga=1; _fbp=2');
is($r->var('source'), 'cache', 'cached subject still answered from cache');

# restarted: lookups recover by themselves

$t->start_redis;
$t->redis_cmd(HSET => 'consent:s:back', p => 'advertising');
$r = poll_source('uid=back; _ga=1; _fbp=2', 'redis', 8);
is($r->var('source'), 'redis', 'Redis restarted: lookups recover');
is($r->origin->{cookie}, 'uid=back; _fbp=2', 'the record applies');

# the subscriber was away: the cache is flushed, not trusted

$t->redis_cmd(HSET => 'consent:s:alive', p => '');
$r = poll_source('uid=alive; _ga=1; _fbp=2', 'redis', 8);
is($r->var('source'), 'redis', 'cache flushed after the subscriber '
    . 'reconnected: no stale decision');
is($r->origin->{cookie}, 'uid=alive', 'withdrawal made during the outage '
    . 'is enforced');

# paused beyond the timeout: the request waits at most the timeout, then
# the stalled connection trips the breaker

$t->redis_cmd(CLIENT => 'PAUSE', 2000);
($r, $dt) = timed_visit('uid=p1; _ga=1');
is($r->status, 200, 'Redis paused: answered');
is($r->var('source'), 'fail', 'Redis paused: fail policy');
cmp_ok($dt, '<', 0.3 + 0.5, 'answered within timeout + margin');
cmp_ok($dt, '>=', 0.25, 'it did wait for the timeout first');

$max = 0;
for my $i (1 .. 5) {
    (undef, $dt) = timed_visit("uid=p1x$i; _ga=1");
    $max = $dt if $dt > $max;
}
cmp_ok($max, '<', 0.15, 'stalled Redis: following requests fail fast');
ok(scalar $t->error_log_grep(qr/lookup timed out after 300 ms|timed out waiting for a reply/),
    'the timeout is logged');

$t->redis_cmd(HSET => 'consent:s:p2', p => 'analytics');
$r = poll_source('uid=p2; _ga=1', 'redis', 10);
is($r->var('source'), 'redis', 'pause over: lookups recover by themselves');

# clients that give up while their lookups wait: the replies that come
# later find nobody, nothing leaks, nothing breaks

$t->redis_cmd(CLIENT => 'PAUSE', 1000);
{
    my @gone;
    for my $i (1 .. 20) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $t->port) or die "connect: $!";
        print $s "GET / HTTP/1.1\r\nHost: x\r\nCookie: uid=gone$i\r\n\r\n";
        push @gone, $s;
    }
    sleep 0.1;
    close $_ for @gone;
}
ok(scalar $t->error_log_grep(qr/client prematurely closed connection/),
    'the worker saw the clients leave');
$t->redis_cmd(HSET => 'consent:s:p3', p => 'analytics');
$r = poll_source('uid=p3; _ga=1', 'redis', 10);
is($r->var('source'), 'redis', 'after abandoned lookups: lookups work');

$t->stop;

# fail open: the regime default instead of nothing optional

my $o = ConsentTest->new(
    name  => 'redis-fail-open',
    http  => <<'EOF',
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=100ms;
    consent_redis_fail open;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

$r = $o->get('/', headers => [[Cookie => 'uid=x; _ga=1; _fbp=2'],
    ['X-Country' => 'US']]);
is($r->var('source'), 'fail', 'no Redis at all: fail policy');
is($r->origin->{cookie}, 'uid=x; _ga=1; _fbp=2', 'fail open in the US: '
    . 'the opt-out default keeps everything');
$r = $o->get('/', headers => [[Cookie => 'uid=x; _ga=1; _fbp=2'],
    ['X-Country' => 'DE']]);
is($r->origin->{cookie}, 'uid=x', 'fail open in the EU: opt-in default');

$o->stop;
done_testing();
