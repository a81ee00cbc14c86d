#!/usr/bin/perl
# A half-open subscriber connection (issue point 15): the peer is gone
# without a FIN or an RST (a partition, a frozen NAT), so the worker hears
# no more invalidations and, before the fix, served a withdrawn consent
# from the cache until its ttl.  The subscriber PINGs every "ping"; an
# unanswered PING fails it within ping + timeout, the cache is flushed at
# once, nothing is cached while it is away, and it reconnects.
#
# A proxy between nginx and Redis freezes the subscriber connection: it
# stops forwarding both ways and keeps both sockets open.  The lookup
# connection goes on working.  Also: pub/sub messages that arrive while a
# PING waits for its answer are invalidations, not the answer; and
# consent_redis ping= is validated.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);

use ConsentTest qw(config_test std_rules time_scale);

my $scale = time_scale();
my $margin = 0.5 * $scale;

my $server = <<'EOF';
    consent on;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF

# an instance whose Redis connections go through a proxy
sub instance {
    my ($name, $params) = @_;
    my $t = ConsentTest->new(name => $name, redis => 1, start => 0,
        server => $server);
    $t->start_redis;
    my $proxy = $t->start_redis_proxy;
    my $pport = $proxy->port;
    $t->restart(http => <<"EOF");
    consent_rule _ga analytics google-analytics;
    consent_redis 127.0.0.1:$pport $params;
    consent_zone zone=consent:1m ttl=60s;
EOF
    return ($t, $proxy);
}

sub poll {
    my ($cond, $secs) = @_;
    my $deadline = time + $secs;
    until ($cond->()) {
        return 0 if time > $deadline;
        sleep 0.01;
    }
    return 1;
}

sub invalidated { qr/consent redis: invalidated "\Q$_[0]\E"/ }

my $stalled =
    qr/subscriber: no reply within the timeout, the cache is flushed/;

# ------------------------------------------ the default ping, frozen peer

my $timeout_ms = int(200 * $scale);
my $timeout = $timeout_ms / 1000;
my ($t, $proxy) = instance('redis-subscriber-ping',
    "timeout=${timeout_ms}ms");

sub visit {
    my ($uid) = @_;
    return $t->get('/', headers => [[Cookie => "uid=$uid; _ga=1"]]);
}

$t->redis_cmd(HSET => 'consent:s:half', p => 'analytics');
ok(poll(sub { visit('half')->var('source') eq 'cache' }, 5 * $scale),
    'the subject is cached');
is($proxy->cmd('subs'), 1, 'one subscriber connection');

is($proxy->cmd('freeze'), 1, 'the subscriber connection is frozen');
my $n = $t->error_log_count($stalled);

$t->redis_cmd(HSET => 'consent:s:half', p => '');
is($t->redis_cmd(PUBLISH => 'consent:inval', 'half'), 1,
    'withdrawn and published (to the proxy, which keeps it)');
my $t0 = time;

my $r = visit('half');
is($r->var('source') . ' ' . $r->var('purposes'), 'cache necessary,analytics',
    'at first the worker has not heard (the stale grant is cached)');

my $limit = 1 + $timeout + $margin;
my $seen = poll(sub { visit('half')->var('purposes') eq 'necessary' },
    $limit);
my $dt = time - $t0;
ok($seen, sprintf('the withdrawal is enforced within ping + timeout + '
    . 'margin (%.2fs)', $limit));
note(sprintf 'enforced after %.3fs', $dt);
ok($t->error_log_count($stalled) > $n, 'the deaf subscriber is logged, '
    . 'with the flush');

# it reconnects (a new connection, which the proxy forwards), and caching
# resumes
ok(poll(sub { $proxy->cmd('subs') == 1 }, 5 * $scale),
    'the subscriber reconnected');
ok(poll(sub { visit('half')->var('source') eq 'cache' }, 5 * $scale),
    'caching resumes once it listens again');

# ----------------------- while the subscriber is away, nothing is cached

$proxy->cmd('freeze_new', 1);
$n = $t->error_log_count($stalled);
is($proxy->cmd('freeze'), 1, 'frozen again, and every new subscriber '
    . 'connection too');
ok($t->wait_error_log($stalled, $n, timeout => $limit),
    'the subscriber fails within ping + timeout + margin');

$t->redis_cmd(HSET => 'consent:s:deaf', p => 'analytics');
$r = visit('deaf');
is($r->var('source'), 'redis', 'away: decided by Redis');
is($r->var('purposes'), 'necessary,analytics', 'away: its record');
is(visit('deaf')->var('source'), 'redis', 'away: and not cached (nothing '
    . 'would drop it)');

$proxy->cmd('freeze_new', 0);
$proxy->cmd('thaw');
ok(poll(sub { visit('deaf')->var('source') eq 'cache' }, 10 * $scale),
    'back: caching resumes');

$proxy->stop;
$t->stop;

# ---------------- a shorter ping; messages before the pong; the timing

$timeout_ms = int(500 * $scale);
$timeout = $timeout_ms / 1000;
($t, $proxy) = instance('redis-subscriber-ping-short',
    "timeout=${timeout_ms}ms ping=250ms");

$t->redis_cmd(HSET => 'consent:s:pm', p => 'analytics');
ok(poll(sub { visit('pm')->var('source') eq 'cache' }, 5 * $scale),
    'ping=250ms: the subject is cached');

my $fails = qr/consent redis \S+: subscriber: /;
my $f = $t->error_log_count($fails);

# a PING waits for its answer while an invalidation comes in
$proxy->cmd('hold_ping');
ok(poll(sub { $proxy->cmd('pings') > 0 }, 2 * $scale),
    'a PING is sent and held back');
$n = $t->error_log_count(invalidated('pm'));
$t->redis_cmd(HSET => 'consent:s:pm', p => '');
$t->redis_cmd(PUBLISH => 'consent:inval', 'pm');
ok($t->wait_error_log(invalidated('pm'), $n),
    'the message before the pong is heard as an invalidation');
is(visit('pm')->var('purposes'), 'necessary', 'and enforced');
$proxy->cmd('release_ping');

# then the pong comes, and the next PINGs: nothing failed
my $pinged = $proxy->cmd('pinged');
ok(poll(sub { $proxy->cmd('pinged') >= $pinged + 2 }, 2 * $scale),
    'the PINGs go on');
$n = $t->error_log_count(invalidated('pm2'));
$t->redis_cmd(PUBLISH => 'consent:inval', 'pm2');
ok($t->wait_error_log(invalidated('pm2'), $n), 'the subscriber still '
    . 'listens');
is($t->error_log_count($fails), $f, 'no subscriber failure: the pong was '
    . 'told from the message');

# the timing with this ping
$t->redis_cmd(HSET => 'consent:s:short', p => 'analytics');
ok(poll(sub { visit('short')->var('source') eq 'cache' }, 5 * $scale),
    'ping=250ms: another subject cached');
is($proxy->cmd('freeze'), 1, 'ping=250ms: the subscriber is frozen');
$t->redis_cmd(HSET => 'consent:s:short', p => '');
$t->redis_cmd(PUBLISH => 'consent:inval', 'short');
$t0 = time;
$limit = 0.25 + $timeout + $margin;
$seen = poll(sub { visit('short')->var('purposes') eq 'necessary' }, $limit);
$dt = time - $t0;
ok($seen, sprintf('ping=250ms: the withdrawal is enforced within ping + '
    . 'timeout + margin (%.2fs)', $limit));
note(sprintf 'enforced after %.3fs', $dt);

$proxy->stop;
$t->stop;

# ------------------------------------------------------------- ping=

sub check {
    my ($param, $ok) = @_;
    my ($rc, $out) = config_test(
        http => std_rules() . "consent_redis 127.0.0.1:6399 $param;\n"
            . "consent_zone zone=consent:1m;\n");
    if ($ok) {
        is($rc, 0, "$param: nginx -t passes") or diag $out;
    } else {
        isnt($rc, 0, "$param: nginx -t fails");
        like($out, qr/invalid parameter "\Q$param\E"/, "$param: says which")
            or diag $out;
    }
}

check('ping=250ms', 1);
check('ping=2s', 1);
check('ping=0', 0);
check('ping=0s', 0);
check('ping=', 0);
check('ping=often', 0);
check('ping=-1s', 0);

done_testing();
