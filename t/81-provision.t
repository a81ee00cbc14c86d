#!/usr/bin/perl
# The provision log and the disclosure export.  consent_provision_log
# records, per subject, the first and last time a request carried a
# vendor's cookies on to the origin (<prefix>pv:<id>, "f:V" and "l:V"),
# at most once a day per vendor (a memo in shared memory, kept across
# reloads), with the records' retention; nothing is logged for what was
# stripped, for requests without a subject, or where the directive is
# off.  consentctl subject export prints one JSON document for a
# disclosure request; subject erase removes the log too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);
use IO::Socket::INET;

use ConsentTest qw(keys_line config_test repo_root);

my $bin = $ENV{CONSENTCTL_BIN} || repo_root() . '/build/consentctl';
plan skip_all => "$bin not built (make build/consentctl)" unless -x $bin;

my $key  = 'v' x 32;
my $json = JSON::PP->new->canonical;
my $TTL  = 30 * 86400;

my $rules = <<'EOF';
@vendor google name="Google" country=US purposes=analytics,advertising
@vendor criteo name="Criteo" country=FR purposes=advertising
@vendor yahoo name="Yahoo" country=JP
_ga analytics google
_gcl_au advertising google
cto_bundle advertising criteo
_yjsu personalization yahoo
sid necessary site
EOF

# a port nobody listens on: an origin that is down
my $dead = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
        or die "listen: $!";
    my $p = $s->sockport;
    close $s;
    $p;
};

my $t = ConsentTest->new(
    name  => 'provision',
    redis => 1,
    h2    => 1,
    files => { keys => keys_line('k1', $key), 'site.rules' => $rules },
    http  => <<'EOF',
    consent_rules %%DIR%%/site.rules;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    consent_record_ttl 30d;
    consent_regime opt_out US;
EOF
    server => <<'EOF' =~ s/%%DEAD_PORT%%/$dead/r,
    consent on;
    consent_region $http_x_country;
    consent_provision_log on;
    location = /consent { consent_api; }
    location /nolog/ {
        consent_provision_log off;
        proxy_pass %%ORIGIN%%;
    }
    location /local/ { return 200 "answered here\n"; }
    location /dead/ { proxy_pass http://127.0.0.1:%%DEAD_PORT%%; }
    location /members/ {
        consent_require advertising status=403;
        proxy_pass %%ORIGIN%%;
    }
    location / {
        %%VARS_HEADERS%%
        proxy_pass %%ORIGIN%%;
    }
EOF
);

sub choose {
    my ($body) = @_;
    my $r = $t->get('/consent', method => 'POST', headers => [
        ['X-Country' => 'FR'], [Origin => 'http://localhost'],
        ['Content-Type' => 'application/json']], body => $body);
    my ($cookie) = map { /^consent=([^;]+)/ ? $1 : () }
        $r->header_all('Set-Cookie');
    my $d = eval { $json->decode($r->body) } || {};
    return ($d->{subject}, $cookie);
}

sub page {
    my ($path, $cookie, %o) = @_;
    return $t->get($path, headers => [['X-Country' => $o{country} || 'FR'],
        [Cookie => $cookie]]);
}

sub log_of { my %h = @{ $t->redis_cmd(HGETALL => "consent:pv:$_[0]") }; \%h }

# until the subject's log has n fields (the writes are not waited for)
sub wait_log {
    my ($id, $n) = @_;
    my $deadline = time + 10;
    my $h = log_of($id);
    while (keys %$h < $n && time < $deadline) {
        sleep 0.02;
        $h = log_of($id);
    }
    return $h;
}

# one worker, one Redis connection: what it sent before a marker's write
# has been done once the marker's is there
sub marker {
    my ($id, $cookie) = choose('{"purposes":["analytics"]}');
    page('/', "consent=$cookie; _ga=m");
    return wait_log($id, 2);
}

sub ctl  { $t->consentctl(@_) }
sub jdec { my $d = eval { $json->decode($_[0]) }; $d }

# ------------------------------------------------------------ logged

my ($alice, $ca) = choose('{"purposes":["analytics","advertising"]}');
ok($alice && $ca, 'a visitor agrees to analytics and advertising');

my $before = time;
my $r = page('/', "consent=$ca; _ga=1; cto_bundle=2; sid=3; other=4");
is($r->status, 200, 'the page');
is($r->origin->{cookie}, "consent=$ca; _ga=1; cto_bundle=2; sid=3; other=4",
    'every cookie goes on');

my $log = wait_log($alice, 4);
is_deeply([sort keys %$log], [qw(f:criteo f:google l:criteo l:google)],
    'the vendors whose cookies went on, not the site\'s necessary one');
ok($log->{'f:google'} >= int($before) && $log->{'f:google'} <= time + 1,
    'first: now');
is($log->{'l:google'}, $log->{'f:google'}, 'last: the same, the first time');
my $ttl = $t->redis_cmd(TTL => "consent:pv:$alice");
ok($ttl > $TTL - 60 && $ttl <= $TTL, "kept as long as records ($ttl s)");

# ------------------------------------------------------------ once a day

$t->redis_cmd(HSET => "consent:pv:$alice", 'f:google', 999, 'l:google', 1000);
page('/', "consent=$ca; _ga=1; _gcl_au=2");
marker();
is(log_of($alice)->{'l:google'}, 1000, 'the same day: not written again');

$t->reload;
page('/', "consent=$ca; _ga=1");
marker();
is(log_of($alice)->{'l:google'}, 1000, 'nor after a reload: the memo stays');

# a vendor the memo has not seen today is written at once
page('/', "consent=$ca; _yjsu=1");
marker();
ok(!exists log_of($alice)->{'f:yahoo'},
    'a purpose not granted: stripped, so not provided');

# ------------------------------------------------------------ not logged

my ($bob, $cb) = choose('{"purposes":["analytics"]}');
$r = page('/', "consent=$cb; _ga=1; cto_bundle=2");
is($r->origin->{cookie}, "consent=$cb; _ga=1", 'advertising refused: stripped');
is_deeply([sort keys %{ wait_log($bob, 2) }], [qw(f:google l:google)],
    'only what went on is logged');

my ($carol, $cc) = choose(
    '{"purposes":["analytics","advertising"],"vendors_refused":["criteo"]}');
page('/', "consent=$cc; _gcl_au=1; cto_bundle=2");
is_deeply([sort keys %{ wait_log($carol, 2) }], [qw(f:google l:google)],
    'a vendor refused one by one: not provided');

my ($dave, $cd) = choose('{"purposes":["analytics","advertising"]}');
page('/nolog/x', "consent=$cd; _ga=1");
is(page('/local/x', "consent=$cd; _ga=1")->status, 200,
    'a location answering by itself');
is(page('/dead/x', "consent=$cd; _ga=1")->status, 502, 'an origin down');
$r = page('/members/x', "consent=$cb; _ga=1");
is($r->status, 403, 'consent_require refuses bob');
marker();
ok(!@{ $t->redis_cmd(HGETALL => "consent:pv:$dave") },
    'consent_provision_log off, no origin reached: nothing');
ok(!exists log_of($bob)->{'f:criteo'} && keys %{ log_of($bob) } == 2,
    'a request consent_require refused: nothing more');

# no subject: an opt-out region lets _ga through without any choice
my $n = @{ $t->redis_cmd(KEYS => 'consent:pv:*') };
$r = page('/', '_ga=1', country => 'US');
is($r->origin->{cookie}, '_ga=1', 'no choice, opt-out region: _ga goes on');
marker();
is(scalar @{ $t->redis_cmd(KEYS => 'consent:pv:*') }, $n + 1,
    'no subject: nothing logged (only the marker\'s)');

# a forged cookie is no subject either
my ($ivy, $ci) = choose('{"purposes":["analytics"]}');
my $forged = $ci;
substr($forged, -2, 1) = substr($forged, -2, 1) eq 'A' ? 'B' : 'A';
page('/', "consent=$forged; _ga=1");
marker();
ok(!@{ $t->redis_cmd(HGETALL => "consent:pv:$ivy") },
    'a forged cookie logs nothing for the subject it names');

# HTTP/2: cookies in several header lines all count
my ($erin, $ce) = choose('{"purposes":["analytics","advertising"]}');
my $h = $t->h2_get('/', headers => [['X-Country' => 'FR'],
    [cookie => "consent=$ce"], [cookie => '_ga=1'],
    [cookie => 'cto_bundle=2']]);
is($h->{status}, 200, 'HTTP/2');
is_deeply([sort keys %{ wait_log($erin, 4) }],
    [qw(f:criteo f:google l:criteo l:google)],
    'HTTP/2, one cookie a header line: each vendor');

# many cookies, many vendors named again and again: one write per vendor
my ($fay, $cf) = choose('{"purposes":["analytics","advertising"]}');
page('/', "consent=$cf; " . join('; ', map { "_ga=$_; cto_bundle=$_" }
    1 .. 300));
is_deeply([sort keys %{ wait_log($fay, 4) }],
    [qw(f:criteo f:google l:criteo l:google)], '600 cookies: two vendors');

# a write Redis refuses: the day is tried again
my ($hal, $ch) = choose('{"purposes":["analytics"]}');
$t->redis_cmd(SET => "consent:pv:$hal", 'not a hash');
page('/', "consent=$ch; _ga=1");
ok(scalar $t->error_log_grep(
        qr/consent provision log not written: WRONGTYPE/, timeout => 10),
    'a refused write is logged');
$t->redis_cmd(DEL => "consent:pv:$hal");
page('/', "consent=$ch; _ga=1");
is_deeply([sort keys %{ wait_log($hal, 2) }], [qw(f:google l:google)],
    'and written by the next request, the same day');

# ------------------------------------------------------------ export

# alice again, with a log to show
page('/', "consent=$ca; _gcl_au=1; cto_bundle=2");
my $before_export = wait_log($alice, 4);
my $x = ctl('subject', 'export', $alice, '--rules', $t->dir . '/site.rules');
is($x->{rc}, 0, 'export: exit 0') or diag($x->{err});
my $d = jdec($x->{out}) || {};
ok(ref $d eq 'HASH' && $x->{out} =~ /\n\z/ && $x->{out} !~ /\n./,
    'export: one JSON document, one line');
is($d->{subject}, $alice, 'the subject');
ok(abs(($d->{exported} // 0) - time) < 60, 'when it was exported');
is_deeply($d->{record}{purposes}, [qw(necessary analytics advertising)],
    'the record\'s purposes');
is($d->{record}{policy_version}, 1, 'the policy version decided under');
is_deeply($d->{recipients}, { purposes => [
    { purpose => 'analytics', vendors => [
        { id => 'google', name => 'Google', country => 'US' } ] },
    { purpose => 'advertising', vendors => [
        { id => 'google', name => 'Google', country => 'US' },
        { id => 'criteo', name => 'Criteo', country => 'FR' } ] } ] },
    'who receives data for the granted purposes, from the rules');
is_deeply($d->{countries}, [qw(FR US)], 'and where they are');
is_deeply([sort { $a->{vendor} cmp $b->{vendor} } @{ $d->{provision} }], [
    { vendor => 'criteo', name => 'Criteo', country => 'FR',
      first => $before_export->{'f:criteo'} + 0,
      last => $before_export->{'l:criteo'} + 0 },
    { vendor => 'google', name => 'Google', country => 'US',
      first => $before_export->{'f:google'} + 0,
      last => $before_export->{'l:google'} + 0 } ],
    'the provision log, per vendor');
is(scalar @{ $d->{receipts} }, 1, 'every receipt');
is($d->{receipts}[0]{subject}, $alice, 'the receipt is alice\'s');

$d = jdec(ctl('subject', 'export', $carol, '--rules',
    $t->dir . '/site.rules')->{out}) || {};
is_deeply($d->{record}{vendors_refused}, ['criteo'], 'carol refused criteo');
is_deeply([map { $_->{id} } map { @{ $_->{vendors} } }
    @{ $d->{recipients}{purposes} }], [qw(google google)],
    'a refused vendor is no recipient');
is_deeply($d->{countries}, ['US'], 'nor is its country');

$x = ctl('subject', 'export', 'nobody', '--rules', $t->dir . '/site.rules');
is($x->{rc}, 0, 'an unknown subject: exit 0');
is_deeply(jdec($x->{out}), { subject => 'nobody',
    exported => jdec($x->{out})->{exported}, record => undef,
    recipients => { purposes => [] }, countries => [], provision => [],
    receipts => [] }, 'an unknown subject: nothing held');

$t->write_file('bad.rules', "_ga analytics google\n_x nosuch v\n");
$x = ctl('subject', 'export', $alice, '--rules', $t->dir . '/bad.rules');
is($x->{rc}, 1, 'a bad rules file: exit 1');
like($x->{err}, qr{bad\.rules:2: .*purpose}, 'named with its line');
is($x->{out}, '', 'and nothing printed');

$x = ctl('subject', 'export', 'bad id!');
is($x->{rc}, 2, 'a bad subject id: usage error');

$t->redis_cmd(SET => 'consent:pv:weird', 'x');
$x = ctl('subject', 'export', 'weird', '--rules', $t->dir . '/site.rules');
is($x->{rc}, 1, 'a provision log that is not a hash: exit 1');
is($x->{out}, '', 'and nothing printed');

# ------------------------------------------------------------ erase

$x = ctl('subject', 'erase', $alice);
is_deeply(jdec($x->{out}), { subject => $alice, record => 1,
    provision => 1, receipts => 1 }, 'erase: record, log and receipts');
ok(!@{ $t->redis_cmd(HGETALL => "consent:pv:$alice") }, 'the log is gone');
page('/', "consent=$ca; _ga=1; _yjsu=2; _gcl_au=3");
marker();
ok(!@{ $t->redis_cmd(HGETALL => "consent:pv:$alice") },
    'the erased subject\'s cookie brings no log back');
$d = jdec(ctl('subject', 'export', $alice, '--rules',
    $t->dir . '/site.rules')->{out}) || {};
ok(!defined $d->{record} && !@{ $d->{provision} } && !@{ $d->{receipts} },
    'the export after erasure: nothing');

# ------------------------------------------------------------ Redis down

# last: a restarted test Redis has lost every record

my ($gus, $cg) = choose('{"purposes":["analytics"]}');
$t->stop_redis;
$r = page('/', "consent=$cg; _ga=1");
is($r->status, 200, 'Redis down: the page is served');
$t->start_redis;
# the restarted test Redis is empty: the record comes back first
$t->redis_cmd(HSET => "consent:s:$gus", p => 'analytics', v => 1,
    t => time);
my $deadline = time + 15;
my $got;
while (time < $deadline) {
    page('/', "consent=$cg; _ga=1");
    $got = log_of($gus);
    last if keys %$got;
    sleep 0.1;
}
is_deeply([sort keys %{ $got || {} }], [qw(f:google l:google)],
    'Redis back: the day not written yet is written');

# ------------------------------------------------------------ nginx -t

my ($rc, $out) = config_test(http => "consent_rule _ga analytics g;\n",
    extra => 'consent_provision_log on;');
isnt($rc, 0, 'consent_provision_log without consent_redis: refused');
like($out, qr/"consent_provision_log" needs "consent_redis"/, 'and why');

($rc, $out) = config_test(extra => 'consent_provision_log maybe;');
isnt($rc, 0, 'not on or off: refused');

$t->stop;
done_testing;
