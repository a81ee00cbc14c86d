#!/usr/bin/perl
# consent_metrics: the Prometheus text format (checked by promtool from
# Debian's prometheus package where it is installed), counts that match
# the traffic sent through two workers, label values from the rules only,
# the Redis lookups, reply histogram and circuit breaker, the cache and
# the vendor overrides, and counters kept across a reload.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);

use ConsentTest qw(mint_token keys_line);

my $key = 'm' x 32;

my $t = ConsentTest->new(
    name    => 'metrics',
    redis   => 1,
    workers => 2,
    files   => { keys => keys_line('k1', $key) },
    http    => <<'EOF',
    consent_rule _ga analytics google;
    consent_rule _fbp advertising meta;
    consent_rule sid necessary site;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=300ms;
    consent_zone zone=consent:1m ttl=600s negative_ttl=600s;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    location = /metrics {
        consent off;
        consent_metrics;
    }
    location = /consent { consent_api; }
    location /members/ {
        consent_require advertising status=403;
        proxy_pass %%ORIGIN%%;
    }
    location = /set {
        add_header Set-Cookie "_fbp=fb.1; Path=/";
        add_header Set-Cookie "sid=1; Path=/";
        return 200 "set\n";
    }
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

# name{labels} => value
sub scrape {
    my $r = $t->get('/metrics');
    my %m;
    for (split /\n/, $r->body) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return (\%m, $r);
}

sub page {
    my ($path, %o) = @_;
    my @h = (['X-Country' => $o{country} || 'FR']);
    push @h, [Cookie => $o{cookie}] if $o{cookie};
    return $t->get($path, headers => \@h);
}

sub api {
    my (%o) = @_;
    my @h = (['X-Country' => 'FR'], ['Content-Type' => 'application/json']);
    push @h, [Origin => $o{origin} || 'http://localhost'];
    return $t->get('/consent', method => 'POST', headers => \@h,
        body => $o{body} // '{"purposes":["analytics"]}');
}

sub delta {
    my ($before, $after, $name) = @_;
    return ($after->{$name} // 0) - ($before->{$name} // 0);
}

# until f() is true of a scrape (workers learn some things by messages)
sub wait_scrape {
    my ($f) = @_;
    my $deadline = time + 10;
    my $m;
    do { ($m) = scrape(); return $m if $f->($m); sleep 0.05 }
        while time < $deadline;
    return $m;
}

my $STRIP_GA  = 'consent_cookies_stripped_total{vendor="google",purpose="analytics"}';
my $STRIP_FBP = 'consent_cookies_stripped_total{vendor="meta",purpose="advertising"}';
my $DROP_FBP  = 'consent_set_cookies_dropped_total{vendor="meta",purpose="advertising"}';
my $DEFAULT_FR = 'consent_decisions_total{source="default",regime="opt_in"}';

# ------------------------------------------------------------ format

my ($m0, $r) = scrape();
is($r->status, 200, 'the metrics');
like($r->header('Content-Type'), qr{^text/plain; version=0\.0\.4},
    'the Prometheus text format');
is($r->header('Cache-Control'), 'no-store', 'never cached');
is($m0->{$STRIP_GA}, 0, 'a rules vendor is there before any traffic');
ok(!grep({ /vendor="site"/ } keys %$m0),
    'necessary cookies are never stripped: no series');

SKIP: {
    my $promtool = -x '/usr/bin/promtool' ? '/usr/bin/promtool' : undef;
    skip 'promtool not installed (Debian prometheus)', 2 unless $promtool;
    $t->write_file('scrape.txt', $r->body);
    my $out = `$promtool check metrics < @{[ $t->dir ]}/scrape.txt 2>&1`;
    is($?, 0, 'promtool check metrics: no problem') or diag($out);
    is($out, '', 'promtool says nothing');
}

is($t->get('/metrics', method => 'POST', body => 'x')->status, 405,
    'POST: not allowed');

# ------------------------------------------------------------ traffic

for (1 .. 20) {
    page('/', cookie => '_ga=1; _fbp=2; sid=3');
}
page("/$_", cookie => '_fbp=1; _fbp=2') for 1 .. 3;
page('/set') for 1 .. 5;
page('/members/x') for 1 .. 4;
# hostile names never become label values
page('/', cookie => "_ga\"x=1; x{y}=2; _ga\\=3; \x{e9}=4");

my ($m1) = scrape();
is(delta($m0, $m1, $STRIP_GA), 20 + 0, '_ga stripped 20 times');
is(delta($m0, $m1, $STRIP_FBP), 20 + 6, '_fbp stripped 26 times');
is(delta($m0, $m1, $DROP_FBP), 5, 'its Set-Cookie dropped 5 times');
is(delta($m0, $m1, 'consent_require_refused_total'), 4,
    'consent_require answered 4 requests');
is(delta($m0, $m1, $DEFAULT_FR), 20 + 3 + 5 + 4 + 1,
    'every request decided once, by the regime default');
is(scalar(grep { /^consent_cookies_stripped_total/ } keys %$m1), 3,
    'label values from the rules only (two vendors, and _overflow)');

# ------------------------------------------------------------ API

my $before = $m1;
is(api()->status, 200, 'a choice');
is(api(body => '{"purposes":["nope"]}')->status, 400, 'a bad choice');
is(api(origin => 'https://evil.example')->status, 403, 'another Origin');
my ($m2) = scrape();
is(delta($before, $m2, 'consent_api_writes_total{code="200"}'), 1,
    'writes answered 200');
is(delta($before, $m2, 'consent_api_writes_total{code="400"}'), 1,
    'writes answered 400');
is(delta($before, $m2, 'consent_api_writes_total{code="403"}'), 1,
    'writes answered 403');

# ------------------------------------------------------------ lookups

# a record written behind the cache's back, and a subject with none
$t->redis_cmd(HSET => 'consent:s:known', p => 'analytics', v => 1,
    t => time);
my $known = mint_token('k1', $key, 'known', 0x05, 1);
my $unknown = mint_token('k1', $key, 'unknown', 0x05, 1);
$before = $m2;
page('/', cookie => "consent=$known; _ga=1");
page('/', cookie => "consent=$unknown; _ga=1");
my ($m3) = scrape();
is(delta($before, $m3, 'consent_redis_lookups_total{result="hit"}'), 1,
    'a lookup that found a record');
is(delta($before, $m3, 'consent_redis_lookups_total{result="miss"}'), 1,
    'one that found none');
ok($m3->{consent_cache_entries} >= 2, 'both cached now');

page('/', cookie => "consent=$known; _ga=1") for 1 .. 3;
my ($m4) = scrape();
is(delta($m3, $m4, 'consent_redis_lookups_total{result="hit"}'), 0,
    'the cache answers: no lookup');
is(delta($m3, $m4, 'consent_decisions_total{source="cache",regime="opt_in"}'),
    3, 'decisions from the cache');

# the histogram: cumulative, +Inf the count
my @le = qw(0.001 0.002 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 +Inf);
my @b = map { $m4->{"consent_redis_reply_seconds_bucket{le=\"$_\"}"} } @le;
ok(!grep({ !defined } @b), 'every bucket');
ok(!grep({ $b[$_] < $b[$_ - 1] } 1 .. $#b), 'cumulative');
is($b[-1], $m4->{consent_redis_reply_seconds_count}, '+Inf is the count');
ok($m4->{consent_redis_reply_seconds_count} >= 3,
    'the lookups and the write were timed');

# an invalidation reaches the cache
my $inv = $m4->{consent_cache_invalidations_total};
$t->redis_cmd(PUBLISH => 'consent:inval', 'known');
my $m5 = wait_scrape(sub { $_[0]{consent_cache_invalidations_total} > $inv });
ok($m5->{consent_cache_invalidations_total} > $inv, 'an invalidation counted');

# vendors switched off at run time
$t->redis_cmd(SADD => 'consent:rules:disabled', 'meta');
$t->redis_cmd(PUBLISH => 'consent:inval', '*rules');
my $m6 = wait_scrape(sub { ($_[0]{consent_vendor_overrides} // 0) == 1 });
is($m6->{consent_vendor_overrides}, 1, 'one vendor switched off');

# ------------------------------------------------------------ Redis down

$t->stop_redis;
my $fresh = mint_token('k1', $key, 'fresh', 0x05, 1);
for my $i (1 .. 6) {
    page('/', cookie => "consent=$fresh$i; _ga=1");
    page('/', cookie => "consent="
        . mint_token('k1', $key, "down-$i", 0x05, 1) . "; _ga=1");
}
my $m7 = wait_scrape(sub {
    $_[0]{'consent_redis_circuit_transitions_total{to="open"}'} >= 1 });
ok($m7->{'consent_redis_circuit_transitions_total{to="open"}'} >= 1,
    'the circuit opened');
ok($m7->{consent_redis_circuit_open} >= 1, 'a worker\'s circuit is open');
ok(delta($m6, $m7, 'consent_redis_lookups_total{result="error"}')
    + delta($m6, $m7, 'consent_redis_lookups_total{result="timeout"}')
    + delta($m6, $m7, 'consent_redis_lookups_total{result="down"}') >= 6,
    'lookups that failed or were not asked');
is(api()->status, 503, 'a write with Redis down');
my ($m8) = scrape();
is(delta($m7, $m8, 'consent_api_writes_total{code="503"}'), 1,
    'writes answered 503');

$t->start_redis;
my $m9 = wait_scrape(sub { $_[0]{consent_redis_circuit_open} == 0
    && $_[0]{'consent_redis_circuit_transitions_total{to="closed"}'} >= 1 });
is($m9->{consent_redis_circuit_open}, 0, 'Redis back: every circuit closed');

# ------------------------------------------------------------ reload

my ($m10) = scrape();
$t->reload;
my ($m11) = scrape();
is($m11->{$STRIP_GA}, $m10->{$STRIP_GA}, 'a reload keeps the counters');
is($m11->{'consent_api_writes_total{code="200"}'},
    $m10->{'consent_api_writes_total{code="200"}'}, 'all of them');
page('/', cookie => '_ga=1');
my ($m12) = scrape();
is(delta($m11, $m12, $STRIP_GA), 1, 'and counting goes on');

$t->stop;
done_testing;
