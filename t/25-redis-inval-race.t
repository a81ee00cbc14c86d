#!/usr/bin/perl
# A Redis reply overtaken by an invalidation (issue point 10): a lookup
# answered by Redis before a withdrawal, but read by the worker after that
# withdrawal's invalidation came in on the subscriber connection, must not
# go into the shared cache (it may still answer its own request).
#
# Made to happen every time with a proxy between nginx and Redis that holds
# back Redis's replies on the lookup connection, not on the subscriber's:
# the withdrawal is published while the old record waits at the proxy.
# The same for a flush (the subscriber lost and back: every reply from
# before counts as overtaken), for a consent API write overtaken by a later
# one, and for an invalidation that scrolled out of what the zone
# remembers.  Then the statistical version: API writes and lookups racing
# on two workers, after which what the cache holds must agree with Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

use ConsentTest qw(keys_line mint_token time_scale);

my $scale = time_scale();
my $key = 'k' x 32;

my $t = ConsentTest->new(
    name  => 'redis-inval-race',
    redis => 1,
    start => 0,
    files => { keys => keys_line('k1', $key) },
    server => <<'EOF',
    consent on;
    consent_subject $cookie_uid;
    location = /consent { consent_api; }
    location / {
        %%VARS_HEADERS%%
        proxy_pass %%ORIGIN%%;
    }
EOF
);

$t->start_redis;
my $proxy = $t->start_redis_proxy;
my $pport = $proxy->port;

# a long timeout: replies are held back for a while on purpose
$t->restart(http => <<"EOF");
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:$pport timeout=10s;
    consent_zone zone=consent:1m ttl=60s;
EOF

# API writes name their subject with a signed consent cookie (necessary
# only): its id is the subject, as for a visitor the API gave an id to
sub consent_cookie { 'consent=' . mint_token('k1', $key, $_[0], 1) }

sub visit {
    my ($uid) = @_;
    return $t->get('/', headers => [[Cookie => "uid=$uid; _ga=1; _fbp=2"]]);
}

# a request sent now, its answer read later
sub send_async {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->port, Proto => 'tcp') or die "connect: $!";
    binmode $s;
    syswrite $s, $req;
    return $s;
}

sub visit_async {
    my ($uid) = @_;
    return send_async("GET / HTTP/1.1\r\nHost: localhost\r\n"
        . "Cookie: uid=$uid; _ga=1; _fbp=2\r\nConnection: close\r\n\r\n");
}

sub finish_async {
    my ($s) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + 10 * $scale;
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread $s, $buf, 65536, length $buf;
        last unless $n;
    }
    close $s;
    return ConsentTest::Response->parse($buf);
}

sub poll {
    my ($cond, $secs) = @_;
    my $deadline = time + $secs * $scale;
    until ($cond->()) {
        return 0 if time > $deadline;
        sleep 0.01;
    }
    return 1;
}

sub wait_held {
    return poll(sub { $proxy->cmd('held') > 0 }, 5);
}

sub invalidated { qr/consent redis: invalidated "\Q$_[0]\E"/ }

# withdraws in Redis and publishes it, as another node would; returns
# once this worker's subscriber has heard it
sub withdraw {
    my ($uid, $p) = @_;
    my $n = $t->error_log_count(invalidated($uid));
    $t->redis_cmd(HSET => "consent:s:$uid", p => $p // '');
    $t->redis_cmd(PUBLISH => 'consent:inval', $uid);
    return $t->wait_error_log(invalidated($uid), $n);
}

# the lookup connection up, and the subscriber's too
$t->redis_cmd(HSET => 'consent:s:warm', p => 'analytics');
is(visit('warm')->var('source'), 'redis', 'warm-up: decided by Redis');
ok(poll(sub { $proxy->cmd('subs') == 1 }, 5), 'the subscriber connected');
{
    my $n = $t->error_log_count(invalidated('warm'));
    $t->redis_cmd(PUBLISH => 'consent:inval', 'warm');
    ok($t->wait_error_log(invalidated('warm'), $n), 'the subscriber listens');
}

# ------------------------------------------------ the race, made to happen

$t->redis_cmd(HSET => 'consent:s:race', p => 'analytics');

$proxy->cmd('hold');
my $s = visit_async('race');
ok(wait_held(), 'race: Redis answered the lookup, the answer is held back');

ok(withdraw('race'), 'race: the withdrawal is published and heard while '
    . 'the old record waits');

$proxy->cmd('release');
my $r = finish_async($s);
is($r->status, 200, 'race: the request in flight is answered');
is($r->var('source'), 'redis', 'race: by the reply it waited for');

$r = visit('race');
is($r->var('purposes'), 'necessary', 'race: the next request sees the '
    . 'withdrawal, not the overtaken grant');
is($r->var('source'), 'redis', 'race: the overtaken reply was not cached');
is(visit('race')->var('source'), 'cache', 'race: the fresh state is cached');

# --------------------------------- a flush overtakes every reply before it

$t->redis_cmd(HSET => 'consent:s:flush', p => 'analytics');

$proxy->cmd('hold');
$s = visit_async('flush');
ok(wait_held(), 'flush: the lookup\'s answer is held back');

{
    my $up = qr/consent redis \S+: subscriber up again/;
    my $n = $t->error_log_count($up);
    $t->redis_cmd(CLIENT => 'KILL', 'TYPE', 'pubsub');
    # a withdrawal nobody hears: published, if at all, while away
    $t->redis_cmd(HSET => 'consent:s:flush', p => '');
    ok($t->wait_error_log($up, $n, timeout => 5 * $scale),
        'flush: the subscriber lost its connection and is back (the cache '
        . 'is flushed)');
}

$proxy->cmd('release');
$r = finish_async($s);
is($r->var('source'), 'redis', 'flush: the request in flight is answered');

$r = visit('flush');
is($r->var('purposes'), 'necessary', 'flush: the next request sees Redis\'s '
    . 'state, not the reply from before the flush');
is($r->var('source'), 'redis', 'flush: that reply was not cached');

# ------------------------ precise: another subject's invalidation is no bar

$t->redis_cmd(HSET => 'consent:s:keep', p => 'analytics');

$proxy->cmd('hold');
$s = visit_async('keep');
ok(wait_held(), 'precise: the lookup\'s answer is held back');
ok(withdraw('other'), 'precise: another subject is invalidated meanwhile');
$proxy->cmd('release');
is(finish_async($s)->var('source'), 'redis', 'precise: answered by Redis');

$r = visit('keep');
is($r->var('source'), 'cache', 'precise: the reply was cached all the same');
is($r->var('purposes'), 'necessary,analytics', 'precise: its record');

# -------------- an invalidation followed by more than the zone remembers

$t->redis_cmd(HSET => 'consent:s:wrap', p => 'analytics');

$proxy->cmd('hold');
$s = visit_async('wrap');
ok(wait_held(), 'wrap: the lookup\'s answer is held back');
ok(withdraw('wrap'), 'wrap: the subject is withdrawn');
{
    my $last = 'w3000';
    my $n = $t->error_log_count(invalidated($last));
    $t->redis_pipeline(map { [PUBLISH => 'consent:inval', "w$_"] } 1 .. 3000);
    ok($t->wait_error_log(invalidated($last), $n, timeout => 10 * $scale),
        'wrap: then 3000 others');
}
$proxy->cmd('release');
is(finish_async($s)->var('source'), 'redis', 'wrap: answered by Redis');

$r = visit('wrap');
is($r->var('purposes'), 'necessary', 'wrap: the next request sees the '
    . 'withdrawal');

# ------------------- a consent API write overtaken by a later write

# cached first, so that the API request itself looks nothing up
$t->redis_cmd(HSET => 'consent:s:rec', p => '');
visit('rec');
is(visit('rec')->var('source'), 'cache', 'api: the subject is cached');

$proxy->cmd('hold');
{
    my $n = $t->error_log_count(invalidated('rec'));
    my $body = '{"purposes":["analytics"]}';
    $s = send_async("POST /consent HTTP/1.1\r\nHost: localhost\r\n"
        . "Cookie: " . consent_cookie('rec') . "\r\n"
        . "Origin: http://localhost\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n"
        . "Connection: close\r\n\r\n$body");
    ok(wait_held() && $t->wait_error_log(invalidated('rec'), $n),
        'api: the write is done in Redis and published, its confirmation '
        . 'held back');
}
# the later write, by another node
ok(withdraw('rec', 'advertising'), 'api: a later write is published and '
    . 'heard before the worker learns the first one was done');
$proxy->cmd('release');
is(finish_async($s)->status, 200, 'api: the first write is confirmed');

$r = visit('rec');
is($r->var('purposes'), 'necessary,advertising', 'api: the next request '
    . 'sees the later write, not the overtaken one');

$proxy->stop;
$t->stop;

# ------------------------------------------- the statistical version

# Two workers, each with its own listening socket so that the kernel
# spreads connections over both; clients that write through the consent
# API and read, for a few subjects, all at once.  After each round, a
# subject's cached state must be what Redis holds.

my $rounds = $ENV{CONSENT_RACE_ROUNDS} || 20;
my $secs = 0.5;
my $clients = 4;
my $burst = 16;
my @subjects = map { "hot$_" } 1 .. 4;
my @choices = ([], ['analytics'], ['advertising'],
    ['analytics', 'advertising']);

my $l = ConsentTest->new(
    name    => 'redis-inval-race-load',
    redis   => 1,
    workers => 2,
    start   => 0,
    files   => { keys => keys_line('k1', $key), 'html/index.html' => "hi\n" },
    http    => <<'EOF',
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=5s;
    consent_zone zone=consent:1m ttl=60s;
EOF
    server => <<'EOF',
    consent on;
    consent_subject $cookie_uid;
    add_header X-Pid $pid always;
    location = /consent { consent_api; }
    location / {
        %%VARS_HEADERS%%
        root %%DIR%%/html;
    }
EOF
);

{
    my $conf = $l->config_text;
    $conf =~ s/^worker_processes\s+\S+;/worker_processes 2;/m
        or die "no worker_processes line";
    my $port = $l->port;
    $conf =~ s/listen 127\.0\.0\.1:$port;/listen 127.0.0.1:$port reuseport;/
        or die "no listen line";
    $l->write_file('nginx.conf', $conf);
}
$l->start_redis;
$l->start;
ok(poll(sub { $l->worker_pids == 2 }, 10), 'load: two workers');

# bursts: many requests written at once, so that lookups and writes of
# the same subjects reach Redis together and their replies and
# invalidations reach both workers together
sub load_client {
    my ($c, $file) = @_;
    srand($$ ^ int(time * 1000));
    open my $out, '>', $file or die "$file: $!";
    my $end = time + $secs * $scale;
    while (time < $end) {
        my (@socks, %what, %buf);
        for (1 .. $burst) {
            my $u = $subjects[int rand @subjects];
            my $req;
            if (rand() < 0.5) {
                my $p = $choices[int rand @choices];
                my $body = '{"purposes":['
                    . join(',', map { "\"$_\"" } @$p) . ']}';
                $req = "POST /consent HTTP/1.1\r\nHost: localhost\r\n"
                    . "Cookie: " . consent_cookie($u) . "\r\n"
                    . "Origin: http://localhost\r\n"
                    . "Content-Type: application/json\r\n"
                    . "Content-Length: " . length($body) . "\r\n"
                    . "Connection: close\r\n\r\n$body";
            } else {
                $req = "GET / HTTP/1.1\r\nHost: localhost\r\n"
                    . "Cookie: uid=$u; _ga=1\r\nConnection: close\r\n\r\n";
            }
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                PeerPort => $l->port, Proto => 'tcp') or next;
            binmode $s;
            syswrite $s, $req;
            push @socks, $s;
            $what{$s} = $req =~ /^POST/ ? 'api' : 'get';
            $buf{$s} = '';
        }
        my $sel = IO::Select->new(@socks);
        my $deadline = time + 10 * $scale;
        while ($sel->count && time < $deadline) {
            for my $s ($sel->can_read(1)) {
                next if sysread $s, $buf{$s}, 65536, length $buf{$s};
                $sel->remove($s);
                close $s;
            }
        }
        for my $s (@socks) {
            my $r = ConsentTest::Response->parse($buf{$s});
            print $out "$what{$s}\t", $r->status, "\t",
                $r->header('X-Pid') // '', "\n";
        }
    }
    close $out;
}

my (%pids, %status, @bad_rounds);
my $checked = 0;

for my $round (1 .. $rounds) {
    my @kids;
    for my $c (1 .. $clients) {
        my $file = $l->dir . "/race-$round-$c.tsv";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $ok = eval { load_client($c, $file); 1 };
            POSIX::_exit($ok ? 0 : 1);
        }
        push @kids, [$pid, $file];
    }
    for my $k (@kids) {
        waitpid $k->[0], 0;
        for (split /\n/, $l->read_file($k->[1])) {
            my ($what, $st, $pid) = split /\t/;
            $status{"$what $st"}++;
            $pids{$pid}++ if $pid;
        }
    }

    # every invalidation published has been heard by both workers
    my $inval = qr/consent redis: invalidated "hot/;
    my $want = 2 * ($status{'api 200'} // 0);
    poll(sub { $l->error_log_count($inval) >= $want }, 5);

    my @bad;
    for my $u (@subjects) {
        my $p = $l->redis_cmd(HGET => "consent:s:$u", 'p') // '';
        my $want_p = join ',', 'necessary', grep { length } split /,/, $p;
        # twice: a miss caches what Redis says, a hit shows what was cached
        for (1, 2) {
            my $r = $l->get('/', headers => [[Cookie => "uid=$u; _ga=1"]]);
            next unless $r->var('source') eq 'cache';
            $checked++;
            push @bad, "$u: cache has " . $r->var('purposes')
                . ", Redis $want_p" if $r->var('purposes') ne $want_p;
        }
    }
    push @bad_rounds, "round $round: @bad" if @bad;
}

cmp_ok(scalar keys %pids, '>=', 2, 'load: both workers answered')
    or diag explain \%pids;
cmp_ok($status{'api 200'} // 0, '>', 0, 'load: API writes were made');
cmp_ok($status{'get 200'} // 0, '>', 0, 'load: lookups were made');
cmp_ok($checked, '>', 0, 'load: cached states were checked');
is(scalar @bad_rounds, 0, "load: after each of $rounds rounds the cache "
    . 'agrees with Redis') or diag join "\n", @bad_rounds;
note(join ', ', map { "$_: $status{$_}" } sort keys %status);

$l->stop;
done_testing();
