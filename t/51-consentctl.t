#!/usr/bin/perl
# consentctl, the operators' tool, against a real redis-server and a real
# nginx with the module: subject set/get/erase and receipts in the exact
# key formats the module reads, invalidations on <prefix>inval (seen by a
# subscriber and by the worker's cache), vendor overrides, stats, bad
# arguments (exit 2), Redis unreachable, silent, of the wrong type or
# holding garbage (exit 1, never a crash), AUTH from a password file, an
# ACL user, db selection and a unix socket.  Also: subject ids starting
# with '-' (the module's base64url ids), vendor names checked against the
# rules files, keys generate (its lines load in nginx and sign cookies the
# module honours), and docker/demo/run.sh (make run) from a 0700 checkout,
# with its ports taken and its redis-server or nginx dying.
#
# CONSENTCTL_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full"
# runs every invocation under that command; CONSENTCTL_BIN tests another
# build (one with -fsanitize=address,undefined, with ASAN_OPTIONS and
# UBSAN_OPTIONS exitcode=99).  Exit status 99 or a sanitizer report
# counts as a crash.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use POSIX ();
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

use MIME::Base64 qw(decode_base64);

use ConsentTest qw(repo_root config_test std_rules mint_token purpose_bit);

my $bin = $ENV{CONSENTCTL_BIN} || repo_root() . '/build/consentctl';
plan skip_all => "$bin not built (make build/consentctl)" unless -x $bin;

my $json = JSON::PP->new->allow_nonref;

my $t = ConsentTest->new(
    name  => 'consentctl',
    redis => 1,
    files => {
        'site.rules' => <<'EOF',
# a comment, then rules as consent_rules reads them
_ga        analytics    google-analytics
_gid       analytics    google-analytics   domain=.google.com
_fbp       advertising  Meta
~_fbc_.*   advertising  Meta
pref       functional   site

ab_*       personalization  site
EOF
        'bad.rules'    => "_ga analytics google\n_x spying somebody\n",
        'custom.rules' => "_m measurement measurer\n",
        'broken.rules' => "_ga analytics google\n\n_y\n",
    },
    http => <<'EOF',
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    consent_zone zone=consent:1m ttl=300s negative_ttl=300s;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $http_x_subject;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

my $dir = $t->dir;
my $port = $t->redis_port;
my $rules = "$dir/site.rules";
my $default_rules = repo_root() . '/ngx_consent_module/rules/default.rules';
my $crashes = 0;
my $seq = 0;

# ---------------------------------------------------------------- helpers

# run(\%env, args...): { rc, out, err } of one invocation, env overrides
# applied to a copy of ours without CONSENTCTL_REDIS
sub run {
    my ($env, @args) = @_;
    $seq++;
    my ($out, $err) = ("$dir/ctl-$seq.out", "$dir/ctl-$seq.err");
    my @wrap = split ' ', ($ENV{CONSENTCTL_WRAPPER} // '');
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        delete $ENV{CONSENTCTL_REDIS};
        $ENV{$_} = $env->{$_} for keys %$env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec @wrap, $bin, @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $status = $?;
    if ($status & 127) {
        $crashes++;
        diag("consentctl @args: killed by signal " . ($status & 127));
    }
    my %r = (rc => $status >> 8, out => $t->read_file($out),
        err => $t->read_file($err));
    if ($r{rc} == 99 || $r{err} =~ /Sanitizer|runtime error:/) {
        $crashes++;
        diag("consentctl @args: a memory error reported:\n$r{err}");
    }
    return \%r;
}

# against the test's redis-server
sub ctl { run({}, '-p', $port, @_) }

sub decode_json_ok {
    my ($text, $name) = @_;
    my $v = eval { $json->decode($text) };
    ok(defined $v, "$name: valid JSON") or diag("$@: $text");
    return $v // {};
}

# decoded, or {} (a failing check elsewhere says why)
sub jdec {
    my ($text) = @_;
    return eval { $json->decode($text) } // {};
}

sub hgetall {
    my ($key) = @_;
    my $a = $t->redis_cmd(HGETALL => $key);
    return { @$a };
}

# the stream's entries, oldest first: [id, { fields }]
sub stream {
    my ($key) = @_;
    my $a = $t->redis_cmd(XRANGE => $key // 'consent:log', '-', '+');
    return map { [$_->[0], { @{ $_->[1] } }] } @$a;
}

# several commands on one connection, written at once; all the replies
sub redis_pipeline {
    my ($p, @cmds) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p,
        Proto => 'tcp', Timeout => 10) or die "redis connect: $!";
    my $req = '';
    for my $c (@cmds) {
        $req .= '*' . @$c . "\r\n";
        $req .= '$' . length($_) . "\r\n$_\r\n" for @$c;
    }
    print $s $req;
    my @r = map { ConsentTest::_resp_read($s) } @cmds;
    close $s;
    return @r;
}

# a SUBSCRIBE connection, confirmed before it is returned
sub subscriber {
    my ($channel) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5) or die "redis connect: $!";
    print $s "*2\r\n\$9\r\nSUBSCRIBE\r\n\$" . length($channel)
        . "\r\n$channel\r\n";
    my $ack = ConsentTest::_resp_read($s);
    die "SUBSCRIBE: unexpected reply" unless ref $ack && $ack->[0] eq 'subscribe';
    return $s;
}

# the next message's payload, or undef after 5 s
sub next_message {
    my ($s) = @_;
    my $m = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 5;
        my $r = ConsentTest::_resp_read($s);
        alarm 0;
        $r;
    };
    alarm 0;
    return ref $m && $m->[0] eq 'message' ? $m->[2] : undef;
}

sub visit {
    my ($subject) = @_;
    return $t->get('/', headers => [
        ['X-Subject' => $subject],
        ['X-Country' => 'FR'],
        [Cookie => 'sid=1; _ga=2; _fbp=3'],
    ]);
}

# ---------------------------------------------------------------- set, get

my $before = time;
my $r = ctl('subject', 'set', 'acct-1', 'analytics,advertising',
    '--policy-version', 3);
is($r->{rc}, 0, 'subject set: exit 0') or diag($r->{err});
my $j = decode_json_ok($r->{out}, 'subject set');
is_deeply($j->{purposes}, [qw(necessary analytics advertising)],
    'subject set prints the new record');

$r = ctl(qw(subject get acct-1));
is($r->{rc}, 0, 'subject get: exit 0') or diag($r->{err});
is($r->{err}, '', 'subject get: nothing on stderr');
$j = decode_json_ok($r->{out}, 'subject get');
is($j->{subject}, 'acct-1', 'get: subject');
is_deeply($j->{purposes}, [qw(necessary analytics advertising)],
    'get: purposes, necessary first');
is($j->{policy_version}, 3, 'get: policy_version is a number');
ok($j->{updated} >= int($before) && $j->{updated} <= time + 1,
    'get: updated is the unix time of the decision');
is($j->{source}, 'consentctl', 'get: source');
ok(JSON::PP::is_bool($j->{gpc}) && !$j->{gpc}, 'get: gpc false');
like($r->{out}, qr/\A\{[^\n]*\}\n\z/, 'get: one line of JSON');

my $h = hgetall('consent:s:acct-1');
is_deeply([sort keys %$h], [qw(gpc p src t v vr)],
    'record: exactly p v t src gpc vr');
is($h->{vr}, '', 'record: vr, no vendor refused');
is($h->{p}, 'analytics,advertising', 'record: p, comma-separated names');
is($h->{v}, '3', 'record: v');
like($h->{t}, qr/\A[1-9]\d{9}\z/, 'record: t, unix seconds');
is($h->{src}, 'consentctl', 'record: src');
is($h->{gpc}, '0', 'record: gpc');

$r = ctl(qw(subject set acct-1 none));
is($r->{rc}, 0, 'subject set none: exit 0');
is(hgetall('consent:s:acct-1')->{p}, '', 'none: p empty (only necessary)');
is(hgetall('consent:s:acct-1')->{v}, '3',
    'no --policy-version: the version the subject agreed to stays');
$j = decode_json_ok(ctl(qw(subject get acct-1))->{out}, 'get after none');
is_deeply($j->{purposes}, ['necessary'], 'none: only necessary');

$r = ctl('subject', 'set', 'acct-1', 'necessary,sharing',
    '--policy-version=4');
is($r->{rc}, 0, '--policy-version=N form');
is(hgetall('consent:s:acct-1')->{p}, 'sharing', 'necessary is never stored');

ctl(qw(subject set newbie functional));
is(hgetall('consent:s:newbie')->{v}, '1', 'a new subject: policy version 1');

# a record as the consent API writes it
$t->redis_cmd(HSET => 'consent:s:api-9', p => 'advertising,analytics',
    v => 2, t => 1700000000, src => 'api', gpc => 1,
    vr => 'criteo,Yahoo_JAPAN_Ads');
$j = decode_json_ok(ctl(qw(subject get api-9))->{out}, 'API record');
is_deeply($j, { subject => 'api-9', purposes => [qw(necessary analytics
    advertising)], policy_version => 2, updated => 1700000000,
    source => 'api', gpc => JSON::PP::true,
    vendors_refused => [qw(criteo Yahoo_JAPAN_Ads)] },
    'a record the API wrote');

# vendors refused one by one: kept, shown, in the receipt, checked
$r = ctl(qw(subject set api-10 advertising --vendors-refused),
    'criteo,Yahoo_JAPAN_Ads');
is($r->{rc}, 0, 'set --vendors-refused');
is(hgetall('consent:s:api-10')->{vr}, 'criteo,Yahoo_JAPAN_Ads',
    'set --vendors-refused: the record keeps the names');
is_deeply(decode_json_ok($r->{out}, 'set --vendors-refused')->{vendors_refused},
    [qw(criteo Yahoo_JAPAN_Ads)], 'set --vendors-refused: shown');
my $rc10 = ctl(qw(receipts api-10));
like($rc10->{out},
    qr/"vendors_refused":"criteo,Yahoo_JAPAN_Ads"/,
    'set --vendors-refused: in the receipt');
$r = ctl(qw(subject set api-10 advertising --vendors-refused), 'a b');
is($r->{rc}, 2, 'set --vendors-refused: a bad name is bad usage');
like($r->{err}, qr/invalid vendor name "a b"/, 'and names it');
is(hgetall('consent:s:api-10')->{vr}, 'criteo,Yahoo_JAPAN_Ads',
    'and writes nothing');
ctl(qw(subject set api-10 advertising));
is(hgetall('consent:s:api-10')->{vr}, '',
    'a later set without --vendors-refused refuses none');

# retention: records whose last decision is older than a limit (under a
# prefix of their own, so that the other records do not count)
{
    my $now = int time;
    $t->redis_cmd(HSET => 'ret:s:ret-old', p => 'analytics', v => 1,
        t => $now - 500 * 86400, src => 'api', gpc => 0);
    $t->redis_cmd(HSET => 'ret:s:ret-older', p => '', v => 1,
        t => $now - 800 * 86400, src => 'api', gpc => 0);
    $t->redis_cmd(HSET => 'ret:s:ret-new', p => 'analytics', v => 1,
        t => $now - 10, src => 'api', gpc => 0);
    $t->redis_cmd(HSET => 'ret:s:ret-odd', p => 'analytics', v => 1,
        t => 'yesterday', src => 'api', gpc => 0);
    $t->redis_cmd(XADD => 'ret:log', '*', subject => 'ret-old');
    my @R = ('--prefix', 'ret:', 'records');
    my $rep = ctl(@R, qw(report --older-than 400d));
    is($rep->{rc}, 0, 'records report');
    my $j = decode_json_ok($rep->{out}, 'records report');
    is_deeply([@$j{qw(records older no_time oldest)}],
        [4, 2, 1, $now - 800 * 86400],
        'records report: 4 records, 2 older than 400d, 1 without a time, '
        . 'the oldest') or diag $rep->{out};
    is($t->redis_cmd(EXISTS => 'ret:s:ret-old'), 1,
        'records report deletes nothing');
    $rep = ctl(@R, qw(purge --older-than 400d));
    is($rep->{rc}, 0, 'records purge');
    $j = decode_json_ok($rep->{out}, 'records purge');
    is($j->{purged}, 2, 'records purge: two purged') or diag $rep->{out};
    is($t->redis_cmd(EXISTS => 'ret:s:ret-old'), 0, 'the old one gone');
    is($t->redis_cmd(EXISTS => 'ret:s:ret-older'), 0, 'the older too');
    is($t->redis_cmd(EXISTS => 'ret:s:ret-new'), 1, 'the recent kept');
    is($t->redis_cmd(EXISTS => 'ret:s:ret-odd'), 1,
        'one without a time kept (reported, never guessed)');
    is($t->redis_cmd(XLEN => 'ret:log'), 1,
        'receipts untouched: their own retention');
    $rep = ctl(@R, qw(report --older-than 400d));
    is(jdec($rep->{out})->{older}, 0, 'none older after the purge');
    for my $bad ([qw(report)], [qw(report --older-than 0)],
        [qw(report --older-than 3q)], [qw(wipe --older-than 1d)])
    {
        is(ctl(@R, @$bad)->{rc}, 2, "bad usage: records @$bad");
    }
}

$r = ctl(qw(subject get nobody));
is($r->{rc}, 1, 'get of an unknown subject: exit 1');
like($r->{err}, qr/^consentctl: subject "nobody": not found$/m,
    'and says not found');
is($r->{out}, '', 'and prints nothing on stdout');

# the subject's whole charset, at the maximum length
my $long = 'a.b_c:d@e-' . ('x' x 118);
$r = ctl('subject', 'set', $long, 'analytics');
is($r->{rc}, 0, 'a 128-byte id of [A-Za-z0-9._:@-]');
is(hgetall("consent:s:$long")->{p}, 'analytics', 'its record');
$r = ctl('subject', 'set', '--', '-dash', 'analytics');
is($r->{rc}, 0, '"--" before an id that starts with "-"');
$r = ctl('subject', 'get', '-dash');
is($r->{rc}, 0, 'an id with one leading "-" (1 in 64 of the module\'s '
    . 'own) needs no "--"');
like($r->{out}, qr/"subject":"-dash"/, 'and is that subject');

# ids as the module makes them (base64url of 16 random bytes) may start
# with any number of '-': every subject command takes them as written
for my $id ('--16fDcXk0Qz9vW3bYtR2a', '---', '-----aZ', '--x') {
    $r = ctl('subject', 'set', $id, 'analytics', '--policy-version', 2);
    is($r->{rc}, 0, "subject set $id: exit 0") or diag($r->{err});
    is(hgetall("consent:s:$id")->{p}, 'analytics', "$id: its record");
    $r = ctl('subject', 'get', $id);
    is($r->{rc}, 0, "subject get $id: exit 0") or diag($r->{err});
    is(jdec($r->{out})->{subject}, $id, "$id: that subject");
    $r = ctl('receipts', $id);
    is(jdec($r->{out})->{subject}, $id, "receipts $id");
    $r = ctl('subject', 'erase', $id, '--keep-receipts');
    is_deeply(jdec($r->{out}), { subject => $id, record => 1, provision => 0,
        receipts => 0 },
        "subject erase $id --keep-receipts");
}
my $mid = '--16fDcXk0Qz9vW3bYtR2b';
$r = ctl('subject', 'set', '--policy-version=5', $mid, 'functional');
is($r->{rc}, 0, 'an option before a "--" id');
is(hgetall("consent:s:$mid")->{v}, '5', 'and both taken');
$r = ctl('subject', 'erase', '--keep-receipts', $mid);
is(jdec($r->{out})->{receipts}, 0, 'a flag before a "--" id');
$r = ctl('subject', 'set', '--', $mid, '--policy-version', 'none');
is($r->{rc}, 2, 'after "--" an option name is an argument: one too many');

# what stays unambiguous: the command's own option names are options, so
# an id that is exactly one of them needs "--"
$r = ctl('subject', 'erase', '--keep-receipts');
is($r->{rc}, 2, '"--keep-receipts" alone is the option: no id, exit 2');
like($r->{err}, qr/missing arguments/, 'says an argument is missing');
ctl('subject', 'set', '--', '--keep-receipts', 'analytics');
$r = ctl('subject', 'erase', '--', '--keep-receipts');
is_deeply(jdec($r->{out}), { subject => '--keep-receipts', record => 1,
    provision => 0, receipts => 1 }, '"--" then an id that is an option name');
$r = ctl('subject', 'get', '--frob');
is($r->{rc}, 1, '"--frob" where the id goes is an id: not found, exit 1');
like($r->{err}, qr/subject "--frob": not found/, 'and says so');
$r = ctl('subject', 'get', 'a', '--frob');
is($r->{rc}, 2, 'after the id, "--frob" is an unknown option: exit 2');
like($r->{err}, qr/unknown option "--frob"/, 'and says so');
$r = ctl('subject', 'set', 'a', '--frob', 'analytics');
is($r->{rc}, 2, 'so is one between the arguments');
like(run({}, '--help')->{out}, qr/ID may start with '-'.*"--" ends the/s,
    '--help says how ids starting with "-" are given');

# ---------------------------------------------------------------- receipts

ctl(qw(subject set acct-2 functional));
my @mine = grep { $_->[1]{subject} eq 'acct-1' } stream();
is(scalar @mine, 3, 'one receipt per set');
is_deeply([map { $_->[1]{action} } @mine], [qw(set set set)], 'action=set');
is_deeply([map { $_->[1]{purposes} } @mine],
    ['analytics,advertising', '', 'sharing'], 'purposes of each decision');
is_deeply([map { $_->[1]{v} } @mine], [3, 3, 4], 'v of each decision');
is_deeply([sort keys %{ $mine[0][1] }],
    [qw(action gpc purposes src subject t v)], 'receipt fields');
is($mine[0][1]{src}, 'consentctl', 'receipt src');

$r = ctl(qw(receipts acct-1));
is($r->{rc}, 0, 'receipts: exit 0');
my @lines = split /\n/, $r->{out};
is(scalar @lines, 3, 'receipts: one JSON line each, only the subject\'s');
my @rec = map { decode_json_ok($_, 'receipt line') } @lines;
is_deeply([map { $_->{id} } @rec], [map { $_->[0] } @mine],
    'receipts: stream ids, oldest first');
is_deeply($rec[0], { id => $mine[0][0], %{ $mine[0][1] } },
    'receipts: every field, as stored');

$r = ctl(qw(receipts nobody));
is_deeply([$r->{rc}, $r->{out}], [0, ''], 'no receipts: nothing, exit 0');

# more than one XRANGE batch (1000): 2500 entries, every third one ours
my @cmds;
for my $i (1 .. 2500) {
    push @cmds, ['XADD', 'consent:log', '*', subject => ($i % 3 ? 'other' : 'bulk'),
        action => 'grant', purposes => 'analytics', v => 1, t => $i, src => 'api'];
}
redis_pipeline($port, @cmds);
$r = ctl(qw(receipts bulk));
@rec = map { jdec($_) } split /\n/, $r->{out};
is(scalar @rec, 833, 'receipts across batches: all of them');
is_deeply([map { $_->{t} } @rec], [map { $_ * 3 } 1 .. 833],
    'across batches: in order, none twice');

# ---------------------------------------------------------------- the module

# The zone caches for 300 s, "no record" too: only the invalidation can
# make the worker see a change.  The test waits for the worker to log
# that it dropped the entry, then checks what the next request gets.
my $inval = qr/consent redis: invalidated "web-1"/;

$r = visit('web-1');
is($r->origin->{cookie}, 'sid=1', 'no record: opt-in default strips both');

my $n = $t->error_log_count($inval);
ctl(qw(subject set web-1 analytics));
ok($t->wait_error_log($inval, $n), 'the worker got the invalidation');
$r = visit('web-1');
is($r->var('source'), 'redis', 'the record consentctl wrote decides');
is($r->origin->{cookie}, 'sid=1; _ga=2', 'analytics kept, advertising not');

# the worker logs how many vendors each read of the set found off
my $one_off = qr/consent rules: 1 of 2 vendors switched off/;
my $none_off = qr/consent rules: 0 of 2 vendors switched off/;
$n = $t->error_log_count($one_off);
# the module's own rules spell it "meta", the file "Meta": any case
$r = ctl('rules', 'disable', 'META', '--rules', $rules);
is($r->{out}, "Meta: disabled\n", 'rules disable: says so, as the rules '
    . 'spell it');
ok($t->wait_error_log($one_off, $n), 'the worker read the overrides again');
is(visit('web-1')->origin->{cookie}, 'sid=1; _ga=2; _fbp=3',
    'a vendor switched off: its cookie is kept as unknown');
$n = $t->error_log_count($none_off);
ctl('rules', 'enable', 'meta', '--rules', $rules);
ok($t->wait_error_log($none_off, $n), 'switched on: read again');
is(visit('web-1')->origin->{cookie}, 'sid=1; _ga=2', 'stripped again');

# a module-made id that starts with "--": the record consentctl wrote
# under it is the one the module reads
my $dash_id = '--Wq3mX0bYtR2aK9vZ4pL1c';
ctl('subject', 'set', $dash_id, 'analytics,advertising');
$r = visit($dash_id);
is($r->var('source'), 'redis', 'an id starting with "--": the record decides');
is($r->origin->{cookie}, 'sid=1; _ga=2; _fbp=3', 'as consentctl wrote it');

$n = $t->error_log_count($inval);
ctl(qw(subject erase web-1));
ok($t->wait_error_log($inval, $n), 'erase: the worker got the invalidation');
$r = visit('web-1');
is($r->origin->{cookie}, 'sid=1', 'erased: back to the regime default');
isnt($r->var('source'), 'redis', 'no record any more');

# ---------------------------------------------------------------- pub/sub

my $sub = subscriber('consent:inval');
ctl(qw(subject set acct-1 analytics));
is(next_message($sub), 'acct-1', 'subject set publishes the id on <prefix>inval');
ctl('rules', 'disable', 'meta', '--rules', $rules);
is(next_message($sub), '*rules', 'rules disable publishes *rules');
ctl('rules', 'enable', 'meta', '--rules', $rules);
is(next_message($sub), '*rules', 'rules enable publishes *rules');
ctl(qw(subject erase acct-2));
is(next_message($sub), 'acct-2', 'subject erase publishes the id');
close $sub;

# ---------------------------------------------------------------- erase

ctl(qw(subject set gone-1 analytics));
ctl(qw(subject set gone-1 advertising));
ctl(qw(subject set stay-1 analytics));
$r = ctl(qw(subject erase gone-1));
is($r->{rc}, 0, 'erase: exit 0') or diag($r->{err});
is_deeply(decode_json_ok($r->{out}, 'erase'),
    { subject => 'gone-1', record => 1, provision => 0, receipts => 2 },
    'erase: what was removed');
is_deeply($t->redis_cmd(HGETALL => 'consent:s:gone-1'), [], 'record gone');
is(scalar(grep { $_->[1]{subject} eq 'gone-1' } stream()), 0,
    'receipts gone, no erasure receipt naming the subject either');
is(scalar(grep { $_->[1]{subject} eq 'stay-1' } stream()), 1,
    'another subject\'s receipts stay');
is_deeply(decode_json_ok(ctl(qw(subject erase gone-1))->{out}, 'again'),
    { subject => 'gone-1', record => 0, provision => 0, receipts => 0 },
    'erase again: nothing left, still exit 0');

$r = ctl(qw(subject erase bulk));
is_deeply(decode_json_ok($r->{out}, 'erase bulk'),
    { subject => 'bulk', record => 0, provision => 0, receipts => 833 },
    'erase across batches: every receipt');
is(scalar(grep { $_->[1]{subject} eq 'other' } stream()), 1667,
    'the others\' receipts untouched');

ctl(qw(subject set keep-1 analytics --policy-version 2));
$r = ctl(qw(subject erase keep-1 --keep-receipts));
is_deeply(decode_json_ok($r->{out}, 'erase --keep-receipts'),
    { subject => 'keep-1', record => 1, provision => 0, receipts => 0 },
    '--keep-receipts: the record only');
@rec = map { jdec($_) } split /\n/, ctl(qw(receipts keep-1))->{out};
is_deeply([map { $_->{action} } @rec], [qw(set erase)],
    '--keep-receipts: receipts kept, the erasure added');
is($rec[1]{v}, '2', 'the erasure receipt names the version');
is($rec[1]{purposes}, '', 'and no purposes');

# ---------------------------------------------------------------- rules

$t->redis_cmd(DEL => 'consent:rules:disabled');
$r = ctl('rules', 'list', '--rules', $rules);
is($r->{rc}, 0, 'rules list: exit 0') or diag($r->{err});
my @rows = map { [split ' '] } split /\n/, $r->{out};
is_deeply(\@rows, [
    ['google-analytics', 2, 'analytics', 'enabled'],
    ['Meta', 2, 'advertising', 'enabled'],
    ['site', 2, 'functional,personalization', 'enabled'],
], 'rules list: vendor, rules, purposes, state');

my @site = ('--rules', $rules);
my $set = sub {
    [sort @{ $t->redis_cmd(SMEMBERS => 'consent:rules:disabled') }]
};
$r = ctl('rules', 'disable', 'meta', @site);
is($r->{rc}, 0, 'rules disable: exit 0');
is($r->{out}, "Meta: disabled\n", 'any case: the vendor as the rules '
    . 'spell it');
is_deeply($set->(), ['Meta'], 'rules disable: that spelling in the set');
is(ctl('rules', 'disable', 'META', @site)->{out}, "Meta: already disabled\n",
    'twice: already disabled');
$t->redis_cmd(SADD => 'consent:rules:disabled', 'Google-Analytics', 'ghost');
$r = ctl('rules', 'list', "--rules=$rules");
@rows = map { [split ' '] } split /\n/, $r->{out};
is_deeply(\@rows, [
    ['google-analytics', 2, 'analytics', 'disabled'],
    ['Meta', 2, 'advertising', 'disabled'],
    ['site', 2, 'functional,personalization', 'enabled'],
    ['ghost', 0, '-', 'disabled'],
], 'rules list: any case matches, Redis-only names listed');

$r = ctl('rules', 'enable', 'GOOGLE-analytics', @site);
is($r->{out}, "google-analytics: enabled\n", 'rules enable: says so');
is_deeply($set->(), [qw(Meta ghost)], 'rules enable removes every spelling');
is(ctl('rules', 'enable', 'site', @site)->{out}, "site: was not disabled\n",
    'enable of a vendor that was not disabled');

# another spelling already there (an older consentctl stored lowercase)
$t->redis_cmd(SADD => 'consent:rules:disabled', 'SITE');
is(ctl('rules', 'disable', 'site', @site)->{out}, "site: already disabled\n",
    'another spelling in the set: already disabled');
is_deeply($set->(), [qw(Meta SITE ghost)], 'and no second spelling added');
is(ctl('rules', 'enable', 'site', @site)->{out}, "site: enabled\n",
    'enable removes it');

# a vendor no rule names: refused, whatever the set holds
for my $cmd (qw(disable enable)) {
    $r = ctl('rules', $cmd, 'nobody', @site);
    is($r->{rc}, 2, "rules $cmd of an unknown vendor: exit 2");
    like($r->{err},
        qr/^consentctl: unknown vendor "nobody": no rule of \Q$rules\E names/,
        "rules $cmd: says so, naming the file");
    is($r->{out}, '', "rules $cmd: no \"disabled\" or \"enabled\"");
    $r = ctl('rules', $cmd, 'google_analytics', @site);
    is($r->{rc}, 2, "rules $cmd of a misspelt vendor: exit 2");
    my $meant = qr/did you mean "google-analytics"\?/;
    like($r->{err}, qr/vendor "google_analytics" in \Q$rules\E: $meant/,
        "rules $cmd: names the vendor meant");
}
is_deeply($set->(), [qw(Meta ghost)], 'refused: the set untouched');
$r = run({}, '-p', 1, 'rules', 'disable', 'nobody', @site);
is($r->{rc}, 2, 'refused before connecting: the same with no Redis');

# a name only the set holds (added with redis-cli): enable removes it
$r = ctl('rules', 'enable', 'GHOST', @site);
is($r->{rc}, 0, 'enable of a name only in the set: exit 0');
is($r->{out}, "GHOST: enabled (no rule of the rules files names it)\n",
    'and says no rule names it');
is_deeply($set->(), ['Meta'], 'removed');

# the paper cut as reported, against the shipped rules
$r = ctl('rules', 'disable', 'google-analytics', '--rules', $default_rules);
is($r->{rc}, 2, 'shipped rules: "google-analytics" is refused');
like($r->{err}, qr/did you mean "Google_Analytics"\?/,
    'and the vendor it means is named');
$r = ctl('rules', 'disable', 'google_analytics', '--rules', $default_rules);
is($r->{out}, "Google_Analytics: disabled\n", 'any case of the right name');
is_deeply($set->(), [qw(Google_Analytics Meta)],
    'stored as the shipped rules spell it');
$r = ctl('rules', 'enable', 'GOOGLE_ANALYTICS', '--rules', $default_rules);
is($r->{out}, "Google_Analytics: enabled\n", 'and back on');

# several files, as several consent_rules
$r = ctl('--purposes', 'measurement', 'rules', 'disable', 'Measurer', @site,
    '--rules', "$dir/custom.rules");
is($r->{out}, "measurer: disabled\n", 'a vendor of the second --rules file');
ctl('--purposes', 'measurement', 'rules', 'enable', 'measurer', @site,
    "--rules=$dir/custom.rules");
is_deeply($set->(), ['Meta'], 'and on again');

# --force: a vendor only an inline consent_rule names
$r = ctl(qw(rules disable Inline-Only --force));
is($r->{out}, "Inline-Only: disabled\n", '--force: no rules file read');
is_deeply($set->(), [qw(Inline-Only Meta)], 'stored as given');
$r = ctl(qw(rules enable inline-only --force));
is($r->{out}, "inline-only: enabled\n", '--force: enable');
is_deeply($set->(), ['Meta'], 'removed in any case');
$r = run({}, '-p', 1, qw(rules disable Meta --force --rules), $rules);
is($r->{rc}, 2, '--force with --rules: exit 2');

SKIP: {
    skip '/etc/nginx/consent/default.rules is installed', 2
        if -e '/etc/nginx/consent/default.rules';
    $r = run({}, '-p', 1, qw(rules disable Meta));
    is($r->{rc}, 1, 'no --rules and no installed rules: exit 1');
    like($r->{err},
        qr{cannot open rules file "/etc/nginx/consent/default\.rules".*--rules},
        'says which file, and how to name others');
}

$r = ctl('rules', 'list', '--rules', "$dir/bad.rules");
is($r->{rc}, 1, 'rules list: unknown purpose in the file: exit 1');
like($r->{err}, qr/bad\.rules:2: unknown purpose/, 'names file and line');
$r = ctl('rules', 'list', '--rules', "$dir/broken.rules");
like($r->{err}, qr/broken\.rules:3: missing purpose/, 'a broken line');
$r = ctl('--purposes', 'measurement', 'rules', 'list', '--rules',
    "$dir/custom.rules");
is($r->{rc}, 0, '--purposes: an operator purpose in the rules');
like($r->{out}, qr/^measurer\s+1\s+measurement\s+enabled$/m, 'listed');
$r = ctl('rules', 'list', '--rules', "$dir/none.rules");
is($r->{rc}, 1, 'a missing rules file: exit 1');
like($r->{err}, qr/cannot open rules file .*none\.rules.*No such file/,
    'and says which');
$r = ctl('rules', 'list', '--rules', $rules, '--rules', "$dir/custom.rules",
    '--purposes', 'x');
is($r->{rc}, 2, 'rules list: an unknown option: exit 2');

# ---------------------------------------------------------------- stats

# a prefix of their own, so the numbers are exact; a glob character in
# it must match itself only
my @st = ('--prefix', 'st*:');
ctl(@st, 'subject', 'set', 's1', 'analytics,advertising');
ctl(@st, qw(subject set s2 analytics));
ctl(@st, qw(subject set s3 none));
ctl(@st, qw(subject set s3 sharing));
$t->redis_cmd(HSET => 'st*:s:s4', p => 'analytics,telepathy', v => 1);
$t->redis_cmd(SET => 'st*:s:wrongtype', 'x');
$t->redis_cmd(HSET => 'st*:s:nop', v => 1);
$t->redis_cmd(HSET => 'stX:s:other', p => 'analytics');
$t->redis_cmd(SADD => 'st*:rules:disabled', 'zeta', 'alpha');

$r = ctl(@st, 'stats');
is($r->{rc}, 0, 'stats: exit 0') or diag($r->{err});
$j = decode_json_ok($r->{out}, 'stats');
is($j->{subjects}, 4, 'stats: subjects (SCAN of <prefix>s:*)');
is($j->{malformed}, 2, 'stats: not a hash, or no p');
is_deeply($j->{purposes}, { necessary => 4, functional => 0, analytics => 3,
    advertising => 1, personalization => 0, sharing => 1 },
    'stats: subjects per purpose');
is($j->{unknown_purposes}, 1, 'stats: records naming unknown purposes');
is($j->{receipts}, 4, 'stats: receipts (XLEN)');
ok($j->{oldest_receipt} >= int($before) && $j->{oldest_receipt}
    <= $j->{newest_receipt} && $j->{newest_receipt} <= time + 1,
    'stats: oldest and newest receipt times');
is_deeply($j->{disabled_vendors}, [qw(alpha zeta)],
    'stats: vendors switched off, sorted');

# enough subjects for several SCAN rounds
redis_pipeline($port, map { ['HSET', "many:s:m$_", 'p', 'analytics'] }
    1 .. 2500);
$j = jdec(ctl(qw(--prefix many: stats))->{out});
is($j->{subjects}, 2500, 'stats: every subject across SCAN rounds');
is($j->{purposes}{analytics}, 2500, 'and their purposes');
is($j->{receipts}, 0, 'stats: no stream: 0 receipts');
ok(!defined $j->{oldest_receipt}, 'and no oldest receipt');

$r = ctl('--purposes', 'telepathy', @st, 'stats');
$j = jdec($r->{out});
is($j->{purposes}{telepathy}, 1, 'stats: an operator purpose counted');
is($j->{unknown_purposes}, 0, 'and no longer unknown');

# ---------------------------------------------------------------- keys

# no Redis involved: -p 1 would refuse any connection
my $kday = sub {
    my @gm = gmtime;
    return sprintf('k%04d%02d%02d', $gm[5] + 1900, $gm[4] + 1, $gm[3]);
};
my @days = ($kday->());
$r = run({}, qw(-p 1 keys generate));
push @days, $kday->();
is($r->{rc}, 0, 'keys generate: exit 0') or diag($r->{err});
is($r->{err}, '', 'keys generate: nothing on stderr');
my ($kid, $b64) = $r->{out} =~ m{\A(k\d{8}) ([A-Za-z0-9+/]{43}=)\n\z};
ok(defined $b64, 'one "kid base64key" line') or diag($r->{out});
ok(defined $kid && grep({ $_ eq $kid } @days),
    'default kid: k and the UTC date');
my $key = decode_base64($b64 // '');
is(length $key, 32, '32 key bytes');
my $other = run({}, qw(keys generate))->{out};
isnt($other, $r->{out}, 'a new key each time');
$r = run({}, qw(keys generate 2026b));
like($r->{out}, qr{\A2026b [A-Za-z0-9+/]{43}=\n\z}, 'keys generate KID');
$r = run({}, 'keys', 'generate', 'k' x 16);
is($r->{rc}, 0, 'a 16-byte kid');
for my $bad ('a b', '', 'k' x 17, '#c', 'a.b', "a\nb", 'a=b') {
    (my $show = $bad) =~ s/\n/\\n/g;
    $r = run({}, 'keys', 'generate', $bad);
    is($r->{rc}, 2, "kid \"$show\": exit 2");
    like($r->{err}, qr/invalid kid/, "kid \"$show\": says why");
    is($r->{out}, '', "kid \"$show\": no key printed");
}

# what it prints is what the module reads: two lines (a rotation) pass
# nginx -t, and a cookie signed with the first key decides
my $keys = run({}, qw(keys generate new))->{out}
    . run({}, qw(keys generate old))->{out};
my ($ntrc, $ntout) = config_test(files => { keys => $keys },
    http => std_rules() . "    consent_keys %%DIR%%/keys;\n");
is($ntrc, 0, 'generated keys pass nginx -t') or diag($ntout);
my ($newkey) = $keys =~ /\Anew (\S+)\n/;
my $kt = ConsentTest->new(
    name   => 'consentctl-keys',
    files  => { keys => $keys },
    http   => std_rules() . "    consent_keys %%DIR%%/keys;\n",
    server => "    consent on;\n    consent_region \$http_x_country;\n"
        . "    %%VARS_HEADERS%%\n"
        . "    location / { proxy_pass %%ORIGIN%%; }\n",
);
my $token = mint_token('new', decode_base64($newkey), 'k-subject',
    purpose_bit('necessary') | purpose_bit('analytics'));
$r = $kt->get('/', headers => [['X-Country' => 'FR'],
    [Cookie => "consent=$token; _ga=1; _fbp=2"]]);
is($r->var('source'), 'cookie', 'a cookie signed with a generated key is '
    . 'honoured');
is($r->origin->{cookie}, "consent=$token; _ga=1", 'its purposes apply');
$kt->stop;

# ---------------------------------------------------------------- bad usage

for my $case (
    [[], 'no command'],
    [['frobnicate'], 'unknown command'],
    [['subject'], 'subject without a command'],
    [['subject', 'get'], 'missing id'],
    [['subject', 'get', 'a', 'b'], 'an extra argument'],
    [['subject', 'set', 'a'], 'missing purposes'],
    [['subject', 'get', 'a', '--frob'], 'unknown command option'],
    [['--frob', 'stats'], 'unknown option'],
    [['-p'], 'an option without its value'],
    [['rules'], 'rules without a command'],
    [['rules', 'enable'], 'rules enable without a vendor'],
    [['rules', 'disable', 'Meta', '--rules'], '--rules without a file'],
    [['rules', 'disable', 'Meta', '--force', '--rules', 'f'],
        '--force and --rules'],
    [['keys'], 'keys without a command'],
    [['keys', 'generate', 'a', 'b'], 'keys generate: two kids'],
    [['stats', 'now'], 'stats takes no argument'],
) {
    my ($args, $what) = @$case;
    $r = run({}, @$args);
    is($r->{rc}, 2, "$what: exit 2");
    like($r->{err}, qr/\Aconsentctl: .+\n\nUsage: consentctl/s,
        "$what: says why, then the usage");
}

for my $case (
    [['-p', 'abc', 'stats'], qr/invalid --port "abc"/, 'bad port'],
    [['-p', '70000', 'stats'], qr/invalid --port/, 'port out of range'],
    [['--timeout', '0', 'stats'], qr/invalid --timeout/, 'bad timeout'],
    [['-n', '-1', 'stats'], qr/invalid --db/, 'bad db'],
    [['-H', 'h', '-s', '/x', 'stats'], qr/either --socket or --host/,
        'both socket and host'],
    [[qw(subject set a spying)], qr/unknown purpose "spying"/,
        'unknown purpose, named'],
    [['subject', 'set', 'a', 'analytics,spying,advertising'],
        qr/unknown purpose "spying"/, 'unknown purpose among known ones'],
    [[qw(subject set a), ''], qr/no purposes given/, 'empty purposes'],
    [[qw(subject set a analytics --policy-version x)],
        qr/invalid --policy-version "x"/, 'bad policy version'],
    [[qw(subject set a analytics --policy-version 4294967296)],
        qr/invalid --policy-version/, 'policy version over 32 bits'],
    [['subject', 'get', 'a b'], qr/invalid subject id "a b"/,
        'subject id with a space'],
    [['subject', 'get', 'a/b'], qr/invalid subject id/, 'with a slash'],
    [['subject', 'get', "a*"], qr/invalid subject id/, 'with a glob'],
    [['subject', 'set', 'x' x 129, 'none'], qr/invalid subject id/,
        'an id over 128 bytes'],
    [['subject', 'erase', ''], qr/invalid subject id ""/, 'an empty id'],
    [['receipts', "a\nb"], qr/invalid subject id/, 'an id with a newline'],
    [['rules', 'disable', 'a b'], qr/invalid vendor name/, 'bad vendor'],
    [['--purposes', 'Bad', 'stats'], qr/invalid purpose name "Bad"/,
        'bad --purposes name'],
) {
    my ($args, $re, $what) = @$case;
    # checked before connecting: the same with no Redis at all
    $r = run({}, '-p', 1, @$args);
    is($r->{rc}, 2, "$what: exit 2");
    like($r->{err}, $re, "$what: says what is wrong");
}

is(scalar(grep { $_->[1]{subject} eq 'a' } stream()), 0,
    'nothing written by a refused command');

$r = run({}, '--help');
is($r->{rc}, 0, '--help: exit 0');
like($r->{out}, qr/^Usage: consentctl/, '--help: usage on stdout');
like(run({}, '--version')->{out}, qr/^consentctl \d+\.\d+\.\d+$/m,
    '--version');

# ---------------------------------------------------------------- failures

my $closed = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    $p;
};
$r = run({}, '-p', $closed, qw(subject get acct-1));
is($r->{rc}, 1, 'Redis unreachable: exit 1');
is($r->{err}, "consentctl: cannot connect to redis at 127.0.0.1:$closed: "
    . "Connection refused\n", 'and a clear message');
is($r->{out}, '', 'and no output');

# a server that accepts and never answers
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp', Listen => 5) or die $!;
my $t0 = time;
$r = run({}, '-p', $silent->sockport, '--timeout', 300, 'stats');
my $took = time - $t0;
is($r->{rc}, 1, 'Redis silent: exit 1');
like($r->{err}, qr/no answer within 300 ms/, 'says it timed out');
cmp_ok($took, '<', 5, 'after about the timeout, not forever');
close $silent;

# the wrong types where the tool expects a hash, a stream, a set
$t->redis_cmd(SET => 'consent:s:str', 'a string');
$r = ctl(qw(subject get str));
is($r->{rc}, 1, 'record of the wrong type: get exit 1');
like($r->{err}, qr/"consent:s:str" is not a hash/, 'says so');
my $xlen = $t->redis_cmd(XLEN => 'consent:log');
$r = ctl(qw(subject set str analytics));
is($r->{rc}, 1, 'set over the wrong type: exit 1');
like($r->{err}, qr/is a string, not a hash: not touched/, 'says so');
is($t->redis_cmd(XLEN => 'consent:log'), $xlen, 'and no receipt written');
$r = ctl(qw(subject erase str));
is($r->{rc}, 1, 'erase of the wrong type: exit 1');
is($t->redis_cmd(GET => 'consent:s:str'), 'a string', 'the key untouched');

$t->redis_cmd(SET => 'wt:log', 'not a stream');
$t->redis_cmd(SET => 'wt:rules:disabled', 'not a set');
$r = ctl(qw(--prefix wt: subject set w1 analytics));
is($r->{rc}, 1, 'a stream of the wrong type: set exit 1');
is_deeply($t->redis_cmd(HGETALL => 'wt:s:w1'), [], 'and no record written');
$r = ctl(qw(--prefix wt: receipts w1));
is($r->{rc}, 1, 'receipts from the wrong type: exit 1');
like($r->{err}, qr/XRANGE wt:log: WRONGTYPE/, 'says so');
is(ctl(qw(--prefix wt: stats))->{rc}, 1, 'stats: exit 1');
for my $cmd (qw(disable enable)) {
    $r = ctl(qw(--prefix wt: rules), $cmd, 'site', @site);
    is($r->{rc}, 1, "rules $cmd: exit 1");
    like($r->{err}, qr/"wt:rules:disabled" is a string, not a set/,
        "rules $cmd: says so");
}
is(ctl('--prefix', 'wt:', 'rules', 'list', '--rules', $rules)->{rc}, 1,
    'rules list: exit 1');

# garbage where a record should be: shown, escaped, and called malformed
my $junk = qq{ana"lytics\\ \x01\x1f,evil\r\n,analytics};
$t->redis_cmd(HSET => 'consent:s:junk', p => $junk, v => 'abc', t => '-5',
    src => qq{"}, gpc => 'yes');
$r = ctl(qw(subject get junk));
is($r->{rc}, 1, 'malformed record: exit 1');
like($r->{err}, qr/malformed record \("v" not a number, "t" not a number\)/,
    'says what is malformed');
$j = decode_json_ok($r->{out}, 'malformed record');
is_deeply($j->{purposes}, ['necessary', 'analytics', qq{ana"lytics\\},
    "\x01\x1f", "evil\r\n"], 'purposes: known ones, then the rest, escaped');
ok(!defined $j->{policy_version} && !defined $j->{updated}
    && !defined $j->{gpc}, 'unreadable numbers are null');
is($j->{source}, '"', 'a quote in a string');

$t->redis_cmd(HSET => 'consent:s:nop', v => 1);
$r = ctl(qw(subject get nop));
is($r->{rc}, 1, 'a record without p: exit 1');
like($r->{err}, qr/malformed record \(no "p"\)/, 'says so');

$t->redis_cmd(XADD => 'consent:log', '*', subject => 'odd',
    "we\"ird\n" => "va\\l\x00ue\x7f");
$r = ctl(qw(receipts odd));
is($r->{rc}, 0, 'odd receipt: exit 0');
$j = decode_json_ok($r->{out}, 'odd receipt');
is($j->{"we\"ird\n"}, "va\\l\x00ue\x7f", 'odd bytes round-trip through JSON');

# ---------------------------------------------------------------- address

$r = run({ CONSENTCTL_REDIS => "127.0.0.1:$port" }, qw(subject get acct-1));
is($r->{rc}, 0, 'CONSENTCTL_REDIS=host:port');
$r = run({ CONSENTCTL_REDIS => "127.0.0.1:$closed" }, '-p', $port,
    qw(subject get acct-1));
is($r->{rc}, 0, '-p overrides CONSENTCTL_REDIS');
$r = run({ CONSENTCTL_REDIS => 'nonsense:port' }, 'stats');
is($r->{rc}, 2, 'a bad CONSENTCTL_REDIS: exit 2');
like($r->{err}, qr/CONSENTCTL_REDIS "nonsense:port"/, 'names it');

# ---------------------------------------------------------------- auth

my $pass = 'pa55-w0rd-' . $$;
my $ra = ConsentTest->new(name => 'consentctl-auth', start => 0);
my $adir = $ra->dir;
my $sock = "$adir/redis.sock";
my $pid = $ra->_spawn("$adir/redis.stdout", 'redis-server',
    '--port', $ra->redis_port, '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', $adir, '--requirepass', $pass,
    '--unixsocket', $sock, '--unixsocketperm', '700',
    '--logfile', "$adir/redis.log");
my $err = $ra->_wait_ports($pid, $ra->redis_port);
die "redis-server: $err" if defined $err;
$ra->{pids}{redis} = $pid;
my $aport = $ra->redis_port;

redis_pipeline($aport, ['AUTH', $pass], ['ACL', 'SETUSER', 'ops', 'on',
    '>acl-secret', '~consent:*', '&consent:*', '+@all']);
$ra->write_file('pw', "$pass\n");
$ra->write_file('acl', "ops acl-secret\r\n");
$ra->write_file('wrong', "guess-$pass\n");
$ra->write_file('empty', "\n");

$r = run({}, '-p', $aport, qw(subject get acct-1));
is($r->{rc}, 1, 'no password: exit 1');
like($r->{err}, qr/NOAUTH/, 'says NOAUTH');

$r = run({}, '-p', $aport, '-a', "$adir/pw", qw(subject set au-1 analytics));
is($r->{rc}, 0, 'password file: AUTH password') or diag($r->{err});
my ($rec) = (redis_pipeline($aport, ['AUTH', $pass],
    ['HGET', 'consent:s:au-1', 'p']))[1];
is($rec, 'analytics', 'written after AUTH');

$r = run({}, '-p', $aport, '--password-file', "$adir/acl",
    qw(subject get au-1));
is($r->{rc}, 0, 'password file: AUTH user password (ACL)')
    or diag($r->{err});

$r = run({}, '-p', $aport, '-a', "$adir/wrong", qw(subject get au-1));
is($r->{rc}, 1, 'a wrong password: exit 1');
like($r->{err}, qr/refused AUTH .*WRONGPASS/, 'says Redis refused it');
unlike($r->{err} . $r->{out}, qr/\Q$pass\E/, 'and never prints the password');

$r = run({}, '-p', $aport, '-a', "$adir/empty", qw(subject get au-1));
is($r->{rc}, 1, 'an empty password file: exit 1');
like($r->{err}, qr/has no password/, 'says so');
$r = run({}, '-p', $aport, '-a', "$adir/missing", qw(subject get au-1));
is($r->{rc}, 1, 'a missing password file: exit 1');
like($r->{err}, qr/cannot read password file .*missing/, 'says so');

$r = run({}, '-s', $sock, '-a', "$adir/pw", qw(subject get au-1));
is($r->{rc}, 0, 'unix socket') or diag($r->{err});
is(jdec($r->{out})->{subject}, 'au-1', 'unix socket: the record');
$r = run({ CONSENTCTL_REDIS => "unix:$sock" }, '-a', "$adir/pw",
    qw(subject get au-1));
is($r->{rc}, 0, 'CONSENTCTL_REDIS=unix:/path');
$r = run({}, '-s', "$adir/nosock", qw(stats));
is($r->{rc}, 1, 'a missing socket: exit 1');
like($r->{err}, qr/cannot connect to redis at unix:\Q$adir\E\/nosock: /,
    'names it');

$r = run({}, '-s', $sock, '-a', "$adir/pw", '-n', 3,
    qw(subject set au-db analytics));
is($r->{rc}, 0, '--db 3');
my @dbr = redis_pipeline($aport, ['AUTH', $pass], ['SELECT', 3],
    ['HGET', 'consent:s:au-db', 'p'], ['SELECT', 0],
    ['EXISTS', 'consent:s:au-db']);
is($dbr[2], 'analytics', 'written in db 3');
is($dbr[4], 0, 'not in db 0');
$r = run({}, '-s', $sock, '-a', "$adir/pw", '-n', 3, qw(subject get au-1));
is($r->{rc}, 1, 'db 3 does not have db 0\'s record');

$ra->stop;

# ---------------------------------------------------------------- make run

# docker/demo/run.sh (make run), started from a checkout-like tree under a
# 0700 directory, as a checkout under /root is, with umask 077.  As root
# its nginx workers run as nobody and could not read the banner there:
# the script must serve it from a copy they can read.  It must also
# refuse ports another process holds, and fail when its own redis-server
# or nginx is not the one running and answering.

my $droot = tempdir('consent-demo-t-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{CONSENT_KEEP});
chmod 0700, $droot;
my $co = "$droot/home/op/ngx_consent_module";
make_path("$co/docker/demo/banner", "$co/build",
    "$co/ngx_consent_module/rules", "$droot/fakebin");
my $src = repo_root();
for my $f ('docker/demo/run.sh',
    (map { "ngx_consent_module/rules/$_.rules" } qw(ocd default japan keep)),
    map { "docker/demo/banner/$_" } qw(index.html banner.js banner.css
        demo.js))
{
    copy("$src/$f", "$co/$f") or die "copy $f: $!";
}
copy(ConsentTest::module_path(), "$co/build/ngx_http_consent_module.so")
    or die "copy the module: $!";
chmod 0755, "$co/docker/demo/run.sh";
diag('not root: the 0700 checkout does not keep workers out here')
    unless $> == 0;

# the demos' run directories (logs kept after they stop) go here, out of
# the 0700 tree as /tmp is, and are removed with it
my $drun = tempdir('consent-demo-run-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{CONSENT_KEEP});
chmod 0755, $drun;

my @demos;
END { kill 'KILL', -$_ for grep { $_ } @demos }

# start_demo(\%env): the script in its own process group; { pid, out, err }
sub start_demo {
    my ($env) = @_;
    $seq++;
    my %d = (out => "$droot/demo-$seq.out", err => "$droot/demo-$seq.err");
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        umask 077;
        $ENV{DEMO_TMPDIR} = $drun;
        $ENV{$_} = $env->{$_} for keys %$env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $d{out};
        open STDERR, '>', $d{err};
        exec 'bash', "$co/docker/demo/run.sh" or POSIX::_exit(127);
    }
    push @demos, $pid;
    $d{pid} = $pid;
    return \%d;
}

# until the demo says it is up (1), or has exited ($d->{rc} set, 0)
sub demo_up {
    my ($d) = @_;
    my $deadline = time + 30 * ConsentTest::time_scale();
    while (time < $deadline) {
        return 1 if $t->read_file($d->{out}) =~ /demo on http:/;
        if (waitpid($d->{pid}, POSIX::WNOHANG()) == $d->{pid}) {
            $d->{rc} = $? >> 8;
            @demos = grep { $_ != $d->{pid} } @demos;
            return 0;
        }
        sleep 0.05;
    }
    return 0;
}

# its exit status, after TERM if it is still running
sub demo_end {
    my ($d, %o) = @_;
    return $d->{rc} if defined $d->{rc};
    kill 'TERM', $d->{pid} if $o{term};
    my $deadline = time + 20 * ConsentTest::time_scale();
    while (time < $deadline) {
        if (waitpid($d->{pid}, POSIX::WNOHANG()) == $d->{pid}) {
            $d->{rc} = $? >> 8;
            @demos = grep { $_ != $d->{pid} } @demos;
            return $d->{rc};
        }
        sleep 0.05;
    }
    kill 'KILL', -$d->{pid};
    waitpid $d->{pid}, 0;
    return 'hung';
}

my ($dport, $dorigin, $dredis) = ConsentTest::_alloc_ports(3);
my %dports = (DEMO_PORT => $dport, DEMO_ORIGIN_PORT => $dorigin,
    DEMO_REDIS_PORT => $dredis);
my $up = sub { grep { ConsentTest::_can_connect($_) } @_ };

my $d = start_demo(\%dports);
ok(demo_up($d), 'make run: the demo starts from a 0700 checkout')
    or diag($t->read_file($d->{err}));
$r = $t->get('/banner/', port => $dport);
is($r->status, 200, 'the banner answers 200 (workers read a copy)');
like($r->body, qr/id="consent-banner"/, 'and is the banner');
is($t->get('/banner/banner.js', port => $dport)->status, 200,
    'its script too');
$r = $t->get('/', port => $dport, headers => [['X-Country' => 'FR'],
    [Cookie => '_ga=1; _fbp=2; session=abc']]);
like($r->body, qr/origin received Cookie: \[session=abc\]/,
    'the module strips on the way to the demo origin');
is(demo_end($d, term => 1), 0, 'TERM: the demo stops, exit 0');
is_deeply([$up->($dport, $dorigin, $dredis)], [],
    'and its nginx and redis-server are gone');
like($t->read_file($d->{err}), qr/stopped; logs kept in/, 'says so');

# ports another process holds: refused before anything starts
for my $case ([DEMO_PORT => 'front'], [DEMO_ORIGIN_PORT => 'origin']) {
    my ($var, $what) = @$case;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $dports{$var}, Proto => 'tcp', Listen => 5,
        ReuseAddr => 1) or die "listen: $!";
    $d = start_demo(\%dports);
    ok(!demo_up($d), "$what port taken: no demo announced");
    is($d->{rc}, 1, "$what port taken: exit 1");
    like($t->read_file($d->{err}),
        qr/port $dports{$var} \(the $what\) on 127\.0\.0\.1 is already in use/,
        "$what port taken: says which port");
    close $l;
}
is_deeply([$up->($dport, $dorigin, $dredis)], [], 'and nothing was started');

# the case that used to "work": another redis-server, answering PING,
# holds the port and the demo's own one dies at once
$d = start_demo({ %dports, DEMO_REDIS_PORT => $port });
ok(!demo_up($d), 'another redis on the port: no demo announced');
is($d->{rc}, 1, 'another redis on the port: exit 1');
like($t->read_file($d->{err}), qr/port $port \(the redis\).*already in use/,
    'says so');
is($t->redis_cmd('PING'), 'PONG', 'and leaves that redis alone');

# its own redis-server exits at start, nobody else listens
$t->write_file("$droot/fakebin/redis-server",
    "#!/bin/sh\necho fake >&2\nexit 3\n");
chmod 0755, "$droot/fakebin/redis-server";
$d = start_demo({ %dports, PATH => "$droot/fakebin:$ENV{PATH}" });
ok(!demo_up($d), 'its redis-server died: no demo announced');
is($d->{rc}, 1, 'its redis-server died: exit 1');
like($t->read_file($d->{err}),
    qr/redis-server exited \(status 3\) while starting/, 'says so');

# its nginx exits at start: redis stopped again
$d = start_demo({ %dports, NGINX_BIN => '/bin/false' });
ok(!demo_up($d), 'its nginx died: no demo announced');
is($d->{rc}, 1, 'its nginx died: exit 1');
like($t->read_file($d->{err}), qr/nginx exited \(status 1\) while starting/,
    'says so');
is_deeply([$up->($dport, $dorigin, $dredis)], [], 'and its redis is stopped');

# its redis-server dies while the demo runs: the demo stops, exit 1
$d = start_demo(\%dports);
ok(demo_up($d), 'the demo starts again') or diag($t->read_file($d->{err}));
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $dredis, Proto => 'tcp', Timeout => 5) or die $!;
    print $s "*2\r\n\$8\r\nSHUTDOWN\r\n\$6\r\nNOSAVE\r\n";
    close $s;
}
is(demo_end($d), 1, 'its redis-server shut down: the demo exits 1');
like($t->read_file($d->{err}), qr/redis-server \(pid \d+\) exited/,
    'and says why');
is_deeply([$up->($dport, $dorigin, $dredis)], [], 'its nginx stopped too');

is($crashes, 0, 'no invocation crashed');

$t->stop;
done_testing();
