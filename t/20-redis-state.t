#!/usr/bin/perl
# Consent state from Redis: lookup, shared cache, PUBLISH invalidation,
# TTL expiry, negative caching, and records that are not what they should
# be (wrong type, missing fields, unknown purposes).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);

use ConsentTest;

my $t = ConsentTest->new(
    name  => 'redis-state',
    redis => 1,
    http  => <<'EOF',
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_rule _pin personalization pinterest;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    consent_zone zone=consent:1m ttl=2s negative_ttl=1s;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

sub visit {
    my ($uid, %o) = @_;
    return $t->get('/', headers => [
        [Cookie => "uid=$uid; _ga=1; _fbp=2; _pin=3"],
        ['X-Country' => $o{country} || 'FR'],
    ]);
}

# PUBLISH returns once Redis has queued the message; the worker reads it
# on its next event loop pass.  The test waits for the worker to say it
# dropped the entry (error.log, info) and only then sends "the next
# request": what is checked is that nothing else is needed.
sub wait_invalidated {
    my ($n) = @_;
    my @l;
    for (1 .. 250) {
        @l = grep { /consent redis: invalidated "u1"/ }
            split /^/, $t->read_file('error.log');
        last if @l >= $n;
        sleep 0.02;
    }
    cmp_ok(scalar @l, '>=', $n, "the worker processed invalidation $n");
}

# until the condition holds or the deadline passes; returns the last answer
sub poll_visit {
    my ($uid, $cond, $secs) = @_;
    my $deadline = time + $secs;
    my $r;
    while (1) {
        $r = visit($uid);
        return $r if $cond->($r) || time > $deadline;
        sleep 0.05;
    }
}

# a record in Redis decides, the cache answers the next time

$t->redis_cmd(HSET => 'consent:s:u1', p => 'analytics', v => 2,
    t => 1700000000);

my $r = visit('u1');
is($r->status, 200, 'answered');
is($r->var('source'), 'redis', 'first lookup goes to Redis');
is($r->var('purposes'), 'necessary,analytics', 'purposes from the record');
is($r->origin->{cookie}, 'uid=u1; _ga=1', 'advertising and personalization '
    . 'cookies stripped, analytics kept although FR is opt-in');
is($r->var('id'), 'u1', '$consent_id is the subject');

$r = visit('u1');
is($r->var('source'), 'cache', 'second lookup is a cache hit');
is($r->origin->{cookie}, 'uid=u1; _ga=1', 'cache hit decides the same');

# a change in Redis alone is not seen while cached...

$t->redis_cmd(HSET => 'consent:s:u1', p => 'analytics,advertising');
$r = visit('u1');
is($r->var('source'), 'cache', 'changed record still cached');
is($r->origin->{cookie}, 'uid=u1; _ga=1', 'stale until invalidated');

# ...until PUBLISH: the very next request sees it

is($t->redis_cmd(PUBLISH => 'consent:inval', 'u1'), 1,
    'the worker is subscribed to consent:inval');
wait_invalidated(1);
$r = visit('u1');
is($r->var('source'), 'redis', 'invalidated: next request asks Redis');
is($r->origin->{cookie}, 'uid=u1; _ga=1; _fbp=2',
    'advertising granted on the very next request');

# withdrawal: empty p means only necessary

$t->redis_cmd(HSET => 'consent:s:u1', p => '');
$t->redis_cmd(PUBLISH => 'consent:inval', 'u1');
wait_invalidated(2);
$r = visit('u1', country => 'US');
is($r->var('purposes'), 'necessary', 'withdrawn: only necessary, even in '
    . 'an opt-out region');
is($r->origin->{cookie}, 'uid=u1', 'every tracking cookie stripped');

# TTL: without a PUBLISH the cache entry lives ttl=2s, no longer

$t->redis_cmd(HSET => 'consent:s:u1', p => 'personalization');
$r = visit('u1');
is($r->var('source'), 'cache', 'still the cached withdrawal');
my $t0 = time;
$r = poll_visit('u1', sub { $_[0]->var('source') eq 'redis' }, 5);
is($r->var('source'), 'redis', 'entry expired by its TTL');
cmp_ok(time - $t0, '<', 3.5, 'expired within ttl + 1s');
is($r->origin->{cookie}, 'uid=u1; _pin=3', 'the new record applies');

# negative caching: no record is cached for negative_ttl=1s

$r = visit('u2', country => 'JP');
is($r->var('source'), 'default', 'no record: the regime default');
is($r->origin->{cookie}, 'uid=u2; _ga=1; _pin=3',
    'JP notice: analytics and personalization kept, advertising stripped');
$t->redis_cmd(HSET => 'consent:s:u2', p => 'advertising');
$r = visit('u2', country => 'JP');
is($r->var('source'), 'default', '"no record" answered from the cache');
$r = poll_visit('u2', sub { $_[0]->var('source') eq 'redis' }, 4);
is($r->var('source'), 'redis', 'negative entry expired');
is($r->origin->{cookie}, 'uid=u2; _fbp=2', 'record found after expiry');

# GPC still applies on top of a Redis record

$r = $t->get('/', headers => [[Cookie => 'uid=u2; _fbp=2'],
    ['X-Country' => 'US'], ['Sec-GPC' => '1']]);
is($r->origin->{cookie}, 'uid=u2', 'Sec-GPC turns off advertising '
    . 'granted in Redis');

# records that are wrong: logged, the fail policy (closed) decides

$t->redis_cmd(SET => 'consent:s:wrongtype', 'x');
$r = visit('wrongtype', country => 'US');
is($r->status, 200, 'wrong key type: answered');
is($r->var('source'), 'fail', 'wrong key type: fail policy');
is($r->origin->{cookie}, 'uid=wrongtype', 'fail closed: nothing optional');
ok(scalar $t->error_log_grep(qr/WRONGTYPE/), 'WRONGTYPE logged');

$t->redis_cmd(HSET => 'consent:s:nop', v => 3);
$r = visit('nop', country => 'US');
is($r->var('source'), 'fail', 'hash without "p": fail policy');
ok(scalar $t->error_log_grep(qr/malformed record for subject "nop"/),
    'malformed record logged with its subject');

$t->redis_cmd(HSET => 'consent:s:badv', p => 'analytics', v => 'three');
$r = visit('badv');
is($r->var('source'), 'fail', 'non-numeric version: fail policy');

$t->redis_cmd(HSET => 'consent:s:unk', p => 'analytics,telepathy');
$r = visit('unk');
is($r->var('source'), 'redis', 'unknown purpose name: record still used');
is($r->var('purposes'), 'necessary,analytics', 'unknown name ignored');
ok(scalar $t->error_log_grep(qr/unknown purpose "telepathy" ignored/),
    'unknown purpose logged');

# subject ids that must not reach a key

my $keys = $t->redis_cmd('DBSIZE');
$r = $t->get('/', headers => [[Cookie => 'uid=a*b FLUSHALL; _ga=1'],
    ['X-Country' => 'FR']]);
is($r->var('source'), 'default', 'invalid subject id: no lookup');
is($r->var('id'), '', 'invalid subject id ignored');
is($t->redis_cmd('DBSIZE'), $keys, 'nothing was written or flushed');

$r = $t->get('/', headers => [[Cookie => 'uid=' . ('x' x 129) . '; _ga=1'],
    ['X-Country' => 'FR']]);
is($r->var('id'), '', 'over-long subject id ignored');

# the shared cache survives a reload (nginx -s reload is SIGHUP)

$t->redis_cmd(HSET => 'consent:s:reload', p => 'analytics');
$r = visit('reload');
is($r->var('source'), 'redis', 'before reload: from Redis');
$t->redis_cmd(HSET => 'consent:s:reload', p => 'advertising');
my $workers = () = $t->read_file('error.log') =~ /start worker process/g;
kill 'HUP', $t->{pids}{nginx};
my $deadline = time + 10;
while (time < $deadline) {
    my $now = () = $t->read_file('error.log') =~ /start worker process/g;
    last if $now > $workers
        && $t->read_file('error.log') =~ /gracefully shutting down/;
    sleep 0.05;
}
$r = visit('reload');
is($r->var('source'), 'cache', 'after reload: still answered from the cache');
is($r->var('purposes'), 'necessary,analytics', 'the cached decision');

# no subject at all: no Redis lookup, the regime default

$r = $t->get('/', headers => [[Cookie => '_ga=1'], ['X-Country' => 'US']]);
is($r->var('source'), 'default', 'no subject: regime default');

$t->stop;
done_testing();
