#!/usr/bin/perl
# consentctl through Redis Sentinel (--sentinel, --master,
# --sentinel-password-file; CONSENTCTL_SENTINEL, CONSENTCTL_MASTER)
# against real replication: a primary, two replicas and three Sentinels
# (t/lib/ConsentCluster.pm).  A subject written through the Sentinels is
# on the primary; after a forced failover (SENTINEL FAILOVER) and after
# the primary is killed, writes land on the new primary and the old one
# refuses them.  An unknown master, Sentinels all unreachable, a Sentinel
# that names a replica or a closed port (the next one is asked), every
# way of mixing --sentinel with another address, passwords for the
# Sentinels and the data nodes (right, wrong, missing, ACL form), and
# servers on a Sentinel's port answering garbage: each an error naming
# the Sentinel and why, exit 1 (2 for usage), never a crash and never a
# control byte of theirs on the terminal.
#
# CONSENTCTL_WRAPPER and CONSENTCTL_BIN as in t/51.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;

use ConsentTest qw(repo_root);
use ConsentCluster;

my $bin = $ENV{CONSENTCTL_BIN} || repo_root() . '/build/consentctl';
plan skip_all => "$bin not built (make build/consentctl)" unless -x $bin;
plan skip_all => 'redis-server not installed'
    unless grep { -x "$_/redis-server" } split /:/, $ENV{PATH};

my $json = JSON::PP->new;

my $c = ConsentCluster->new(replicas => 2, sentinels => 3);
my @nodes = $c->redis_ports;
my @sentinels = $c->sentinel_ports;
my $list = $c->sentinel_list;
my ($closed1, $closed2) = map { $c->closed_port } 1 .. 2;

# consentctl with these connection options (and environment)
sub ctl_with {
    my ($conn, $env, @args) = @_;
    return $c->consentctl({ conn => $conn, env => $env || {} }, @args);
}

# through the cluster's Sentinels
sub ctl { $c->consentctl(@_) }

sub purposes_of {
    my ($out) = @_;
    my $d = eval { $json->decode($out) } or return '';
    return join ',', @{ $d->{purposes} || [] };
}

# no byte a server sent reaches stderr raw: only printable text and \n
sub clean_err {
    my ($r, $name) = @_;
    unlike($r->{err}, qr/[\x00-\x09\x0b-\x1f\x7f-\xff]/,
        "$name: no control byte on stderr");
}

# ---------------------------------------------------------------- basics

my $r = ctl('subject', 'set', 'alice', 'analytics,advertising');
is($r->{rc}, 0, 'subject set through the Sentinels: exit 0')
    or diag($r->{err});
is(purposes_of($r->{out}), 'necessary,analytics,advertising',
    'it prints the record written');
is($r->{err}, '', 'nothing on stderr');

is($c->cmd($nodes[0], 'HGET', 'consent:s:alice', 'p'),
    'analytics,advertising', 'the record is on the primary');
is($c->cmd($nodes[0], 'XLEN', 'consent:log'), 1, 'with its receipt');

$r = ctl(qw(subject get alice));
is($r->{rc}, 0, 'subject get through the Sentinels: exit 0');
is(purposes_of($r->{out}), 'necessary,analytics,advertising',
    'reads it back');

# Sentinel's port default: an address without a port is 26379, which the
# error names
$r = ctl_with(['--sentinel', '127.0.0.1', '--master', 'consent',
    '--timeout', 500], {}, qw(subject get alice));
like($r->{err}, qr/sentinel 127\.0\.0\.1:26379[: ]/,
    'a Sentinel without a port is asked on 26379');

# ---------------------------------------------------------------- env

$r = ctl_with([], { CONSENTCTL_SENTINEL => $list,
    CONSENTCTL_MASTER => 'consent' }, qw(subject get alice));
is($r->{rc}, 0, 'CONSENTCTL_SENTINEL and CONSENTCTL_MASTER');
is(purposes_of($r->{out}), 'necessary,analytics,advertising',
    'read through the Sentinels they name');

$r = ctl_with(['--master', 'consent'],
    { CONSENTCTL_SENTINEL => $list }, qw(subject get alice));
is($r->{rc}, 0, 'CONSENTCTL_SENTINEL with --master');

$r = ctl_with(['--sentinel', $list],
    { CONSENTCTL_MASTER => 'consent' }, qw(subject get alice));
is($r->{rc}, 0, '--sentinel with CONSENTCTL_MASTER');

$r = ctl_with(['--sentinel', $list, '--master', 'consent'],
    { CONSENTCTL_SENTINEL => "127.0.0.1:$closed1",
      CONSENTCTL_MASTER => 'nosuch' }, qw(subject get alice));
is($r->{rc}, 0, '--sentinel and --master override the environment');
is($r->{err}, '', 'CONSENTCTL_SENTINEL\'s Sentinel is not asked at all');

$r = ctl_with(['-p', $nodes[0]],
    { CONSENTCTL_SENTINEL => "127.0.0.1:$closed1",
      CONSENTCTL_MASTER => 'consent' }, qw(subject get alice));
is($r->{rc}, 0, '-p overrides CONSENTCTL_SENTINEL');

$r = ctl_with(['--sentinel', $list, '--master', 'consent'],
    { CONSENTCTL_REDIS => "127.0.0.1:$closed1" }, qw(subject get alice));
is($r->{rc}, 0, '--sentinel overrides CONSENTCTL_REDIS');

$r = ctl_with([], { CONSENTCTL_REDIS => "127.0.0.1:$nodes[0]",
    CONSENTCTL_SENTINEL => $list, CONSENTCTL_MASTER => 'consent' },
    qw(subject get alice));
is($r->{rc}, 2, 'CONSENTCTL_REDIS and CONSENTCTL_SENTINEL both: exit 2');
like($r->{err}, qr/both CONSENTCTL_REDIS and CONSENTCTL_SENTINEL/,
    'says so');

$r = ctl_with([], { CONSENTCTL_SENTINEL => $list }, qw(subject get alice));
is($r->{rc}, 2, 'CONSENTCTL_SENTINEL without a master name: exit 2');
like($r->{err}, qr/needs --master NAME \(or CONSENTCTL_MASTER\)/,
    'asks for one');

$r = ctl_with([], { CONSENTCTL_SENTINEL => '127.0.0.1:0' },
    qw(subject get alice));
is($r->{rc}, 2, 'a bad CONSENTCTL_SENTINEL: exit 2');
like($r->{err}, qr/CONSENTCTL_SENTINEL "127\.0\.0\.1:0": invalid Sentinel address "127\.0\.0\.1:0"/,
    'names it');

# ---------------------------------------------------------------- usage

my @usage = (
    [['--sentinel', $list, '--master', 'consent', '-H', '127.0.0.1'],
        qr/give either --sentinel or --host\/--port\/--socket, not both/,
        '--sentinel with --host'],
    [['-p', $nodes[0], '--sentinel', $list, '--master', 'consent'],
        qr/give either --sentinel or/, '--port with --sentinel'],
    [['--sentinel', $list, '--master', 'consent', '-s', '/nonexistent'],
        qr/give either --sentinel or/, '--sentinel with --socket'],
    [['--sentinel', $list], qr/--sentinel needs --master NAME/,
        '--sentinel without --master'],
    [['--master', 'consent'], qr/--master needs --sentinel/,
        '--master alone'],
    [['--sentinel-password-file', '/nonexistent'],
        qr/--sentinel-password-file needs --sentinel/,
        '--sentinel-password-file alone'],
    [['--sentinel', "127.0.0.1:$closed1,,127.0.0.1:$closed2",
        '--master', 'consent'],
        qr/invalid Sentinel address ""/, 'an empty address in the list'],
    [['--sentinel', '127.0.0.1:65536', '--master', 'consent'],
        qr/invalid Sentinel address "127\.0\.0\.1:65536"/, 'port 65536'],
    [['--sentinel', '127.0.0.1:x', '--master', 'consent'],
        qr/invalid Sentinel address "127\.0\.0\.1:x"/, 'a port not a number'],
    [['--sentinel', '[::1', '--master', 'consent'],
        qr/invalid Sentinel address "\[::1"/, 'an unclosed bracket'],
    [['--sentinel', '', '--master', 'consent'],
        qr/invalid Sentinel address ""/, 'an empty --sentinel'],
    [['--sentinel', join(',', map { "127.0.0.1:$closed1" } 1 .. 9),
        '--sentinel', join(',', map { "127.0.0.1:$closed1" } 1 .. 8),
        '--master', 'consent'],
        qr/more than 16 Sentinels/, '17 Sentinels'],
    [['--sentinel', $list, '--master', 'two words'],
        qr/invalid master name "two words"/, 'a master name with a space'],
    [['--sentinel', $list, '--master', 'x' x 256],
        qr/invalid master name/, 'a master name of 256 bytes'],
);
for my $u (@usage) {
    my ($conn, $re, $name) = @$u;
    $r = ctl_with($conn, {}, qw(subject get alice));
    is($r->{rc}, 2, "$name: exit 2");
    like($r->{err}, $re, "$name: the message");
}

# the last option, without its value
$r = ctl_with(['--master', 'consent', '--sentinel'], {});
is($r->{rc}, 2, '--sentinel without a value: exit 2');
like($r->{err}, qr/option "--sentinel" needs a value/,
    '--sentinel without a value: the message');

# the limit is 16: exactly 16 are taken (and all asked, all failing)
$r = ctl_with(['--sentinel', join(',', map { "127.0.0.1:$closed1" } 1 .. 16),
    '--master', 'consent'], {}, qw(subject get alice));
is($r->{rc}, 1, '16 Sentinels are taken');
is(scalar(() = $r->{err} =~ /cannot connect/g), 16, 'and each is asked');

$r = ctl_with(['--sentinel', $list, '--master', 'x' x 255], {},
    qw(subject get alice));
is($r->{rc}, 1, 'a master name of 255 bytes is taken (and unknown)');

# ---------------------------------------------------------------- failing

$r = ctl_with(['--sentinel', $list, '--master', 'nosuch'], {},
    qw(subject get alice));
is($r->{rc}, 1, 'an unknown master name: exit 1');
for my $p (@sentinels) {
    like($r->{err},
        qr/^consentctl: sentinel 127\.0\.0\.1:$p does not know master "nosuch"$/m,
        "Sentinel $p: does not know it");
}
like($r->{err}, qr/^consentctl: no primary for master "nosuch" from the Sentinels \Q${\ join ', ', map { "127.0.0.1:$_" } @sentinels }\E$/m,
    'then one line naming every Sentinel');
is($r->{out}, '', 'nothing on stdout');

$r = ctl_with(['--sentinel', "127.0.0.1:$closed1,127.0.0.1:$closed2",
    '--master', 'consent'], {}, qw(subject set alice analytics));
is($r->{rc}, 1, 'every Sentinel unreachable: exit 1');
for my $p ($closed1, $closed2) {
    like($r->{err}, qr/^consentctl: sentinel 127\.0\.0\.1:$p: cannot connect: Connection refused$/m,
        "names Sentinel $p and why");
}
like($r->{err}, qr/no primary for master "consent" from the Sentinels 127\.0\.0\.1:$closed1, 127\.0\.0\.1:$closed2$/m,
    'then both');

# an unreachable Sentinel first: the next one answers
$r = ctl_with(['--sentinel', "127.0.0.1:$closed1",
    '--sentinel', $list, '--master', 'consent'], {},
    qw(subject get alice));
is($r->{rc}, 0, 'an unreachable Sentinel, then good ones: exit 0');
like($r->{err}, qr/sentinel 127\.0\.0\.1:$closed1: cannot connect/,
    'the unreachable one is reported');

# a data node on a Sentinel's port: SENTINEL is an unknown command there
$r = ctl_with(['--sentinel', "127.0.0.1:$nodes[1]", '--master', 'consent'],
    {}, qw(subject get alice));
is($r->{rc}, 1, 'a data node as the Sentinel: exit 1');
like($r->{err}, qr/sentinel 127\.0\.0\.1:$nodes[1]: SENTINEL get-master-addr-by-name: ERR unknown command/,
    'its error is shown');

# ---------------------------------------------------------------- stale

# a Sentinel behind a failover names a replica: ROLE says so, and the
# next Sentinel is asked
my $stale = $c->fake_server(SENTINEL => ['127.0.0.1', $nodes[1]]);
$r = ctl_with(['--sentinel', "127.0.0.1:$stale,$list", '--master', 'consent'],
    {}, qw(subject set stale-1 functional));
is($r->{rc}, 0, 'a Sentinel naming a replica, then good ones: exit 0')
    or diag($r->{err});
like($r->{err}, qr/^consentctl: redis at 127\.0\.0\.1:$nodes[1] \(master "consent" from sentinel 127\.0\.0\.1:$stale\) is not a primary: ROLE says "slave"$/m,
    'the replica is reported');
is($c->cmd($nodes[0], 'HGET', 'consent:s:stale-1', 'p'), 'functional',
    'the write is on the primary');

$r = ctl_with(['--sentinel', "127.0.0.1:$stale", '--master', 'consent'],
    {}, qw(subject get alice));
is($r->{rc}, 1, 'only a Sentinel naming a replica: exit 1');
like($r->{err}, qr/no primary for master "consent" from the Sentinels 127\.0\.0\.1:$stale$/m,
    'no primary');

# two stale Sentinels naming the same replica: it is tried once
my $stale2 = $c->fake_server(SENTINEL => ['127.0.0.1', $nodes[1]]);
$r = ctl_with(['--sentinel', "127.0.0.1:$stale,127.0.0.1:$stale2",
    '--master', 'consent'], {}, qw(subject get alice));
is($r->{rc}, 1, 'two Sentinels naming a replica: exit 1');
is(scalar(() = $r->{err} =~ /ROLE says "slave"/g), 1,
    'the replica is asked once');
like($r->{err}, qr/sentinel 127\.0\.0\.1:$stale2: master "consent" is 127\.0\.0\.1:$nodes[1], tried above/,
    'the second Sentinel\'s answer is recognised');

# a Sentinel naming a primary that is down (the Sentinel has not noticed)
my $dead = $c->fake_server(SENTINEL => ['127.0.0.1', $closed1]);
$r = ctl_with(['--sentinel', "127.0.0.1:$dead,$list", '--master', 'consent'],
    {}, qw(subject get alice));
is($r->{rc}, 0, 'a Sentinel naming a closed port, then good ones: exit 0');
like($r->{err}, qr/cannot connect to redis at 127\.0\.0\.1:$closed1 \(master "consent" from sentinel 127\.0\.0\.1:$dead\): Connection refused/,
    'the closed port is reported with the Sentinel that named it');

# ---------------------------------------------------------------- garbage

my $esc = "\x1b[31mred\x07";
my @garbage = (
    [\":1\r\n", qr/unexpected reply \(an integer, not two strings\)/,
        'an integer'],
    [['127.0.0.1', $nodes[0], 'x'],
        qr/unexpected reply \(an array of 3, not two strings\)/,
        'an array of 3'],
    [['127.0.0.1'], qr/unexpected reply \(an array of 1,/, 'an array of 1'],
    [[], qr/unexpected reply \(an array of 0,/, 'an empty array'],
    [['127.0.0.1', \":$nodes[0]\r\n"],
        qr/an array of 2, element 2 not a string/, 'an integer port'],
    [[['127.0.0.1'], [$nodes[0]]], qr/element 1 an array/, 'nested arrays'],
    [['127.0.0.1', undef], qr/element 2 not a string/, 'a nil port'],
    [\"+OK\r\n", qr/unexpected reply \(a status,/, 'a status'],
    [\"-ERR boom\r\n",
        qr/SENTINEL get-master-addr-by-name: ERR boom$/m, 'an error'],
    [\"-ERR $esc\r\n", qr/ERR \\x1b\[31mred\\x07$/m,
        'an error with control bytes'],
    [undef, qr/does not know master "consent"/, 'a nil bulk string'],
    [\"*-1\r\n", qr/does not know master "consent"/, 'a nil array'],
    [\"hello\r\n", qr/sentinel 127\.0\.0\.1:\d+: Protocol error/,
        'not RESP at all'],
    [\"\$5\r\nab\r\n", qr/no answer within 300 ms/, 'a bulk string cut short'],
    [\'CLOSE', qr/sentinel 127\.0\.0\.1:\d+ closed the connection/,
        'a close without an answer'],
    [\'SILENT', qr/sentinel 127\.0\.0\.1:\d+: no answer within 300 ms/,
        'no answer'],
    [['', $nodes[0]], qr/invalid host ""/, 'an empty host'],
    [["bad host", $nodes[0]], qr/invalid host "bad host"/,
        'a host with a space'],
    [["127.0.0.1\0", $nodes[0]], qr/invalid host "127\.0\.0\.1\\x00"/,
        'a host with a NUL'],
    [["h$esc", $nodes[0]], qr/invalid host "h\\x1b\[31mred\\x07"/,
        'a host with control bytes'],
    [['h' x 256, $nodes[0]], qr/invalid host "h{20,}\.\.\."/,
        'a host of 256 bytes'],
    [['127.0.0.1', 'abc'], qr/invalid port "abc"/, 'a port not a number'],
    [['127.0.0.1', '0'], qr/invalid port "0"/, 'port 0'],
    [['127.0.0.1', '65536'], qr/invalid port "65536"/, 'port 65536'],
    [['127.0.0.1', '-1'], qr/invalid port "-1"/, 'a negative port'],
    [['127.0.0.1', ''], qr/invalid port ""/, 'an empty port'],
    [['127.0.0.1', '9' x 30], qr/invalid port "9{30}"/, 'a port of 30 digits'],
);
for my $g (@garbage) {
    my ($reply, $re, $name) = @$g;
    my $f = $c->fake_server(SENTINEL => $reply);
    $r = ctl_with(['--sentinel', "127.0.0.1:$f", '--master', 'consent',
        '--timeout', 300], {}, qw(subject get alice));
    is($r->{rc}, 1, "garbage Sentinel, $name: exit 1");
    like($r->{err}, $re, "garbage Sentinel, $name: the message");
    clean_err($r, "garbage Sentinel, $name");
    is($r->{out}, '', "garbage Sentinel, $name: nothing on stdout");
}

# garbage first, then the real Sentinels
my $g1 = $c->fake_server(SENTINEL => \":1\r\n");
$r = ctl_with(['--sentinel', "127.0.0.1:$g1,$list", '--master', 'consent'],
    {}, qw(subject get alice));
is($r->{rc}, 0, 'a garbage Sentinel, then good ones: exit 0');
is(purposes_of($r->{out}), 'necessary,analytics,advertising',
    'the record read');

# a "Sentinel" naming itself, whose answer to ROLE is garbage
my @roles = (
    [\":1\r\n", qr/ROLE: unexpected reply \(an integer\)/, 'an integer'],
    [[], qr/ROLE: unexpected reply \(an array of 0\)/, 'an empty array'],
    [[\":1\r\n"], qr/ROLE: unexpected reply \(an array of 1, element 1 not a string\)/,
        'an array of an integer'],
    [\"+master\r\n", qr/ROLE: unexpected reply \(a status\)/,
        'a status "master"'],
    [\"-ERR no role\r\n", qr/ROLE: ERR no role/, 'an error'],
    [['sentinel', ['consent']], qr/is not a primary: ROLE says "sentinel"/,
        'ROLE sentinel'],
    [["mas$esc"], qr/is not a primary: ROLE says "mas\\x1b\[31mred\\x07"/,
        'ROLE with control bytes'],
    [['masterx'], qr/is not a primary: ROLE says "masterx"/, 'ROLE masterx'],
    [\'CLOSE', qr/\(master "consent" from sentinel 127\.0\.0\.1:\d+\) closed the connection/,
        'a close'],
);
for my $g (@roles) {
    my ($reply, $re, $name) = @$g;
    my $f = $c->fake_server(
        SENTINEL => sub { ['127.0.0.1', $_[1]] },
        ROLE     => $reply,
    );
    $r = ctl_with(['--sentinel', "127.0.0.1:$f", '--master', 'consent',
        '--timeout', 300], {}, qw(subject get alice));
    is($r->{rc}, 1, "ROLE garbage, $name: exit 1");
    like($r->{err}, $re, "ROLE garbage, $name: the message");
    clean_err($r, "ROLE garbage, $name");
}

# a fake primary that says ROLE master: consentctl goes on to its
# commands, which it answers with errors
my $fp = $c->fake_server(SENTINEL => sub { ['127.0.0.1', $_[1]] },
    ROLE => ['master', \":0\r\n", []]);
$r = ctl_with(['--sentinel', "127.0.0.1:$fp", '--master', 'consent',
    '--timeout', 300], {}, qw(subject get alice));
is($r->{rc}, 1, 'a fake primary: exit 1 on its error replies');
like($r->{err}, qr/^consentctl: redis at 127\.0\.0\.1:$fp: HGETALL: ERR unknown command/m,
    'past ROLE, messages name the primary alone');

# ---------------------------------------------------------------- failover

my $old = $nodes[0];
is($c->failover, 'OK', 'SENTINEL FAILOVER');
my ($new, $secs) = $c->wait_failover;
ok(defined $new && $new != $old, 'a replica became the primary');
diag(sprintf 'forced failover: %.1f s', $secs) if defined $new;
ok($c->wait_role($old, 'slave'), 'the old primary is a replica now');

$r = ctl(qw(subject set bob advertising));
is($r->{rc}, 0, 'subject set after the failover: exit 0')
    or diag($r->{err});
is($c->cmd($new, 'HGET', 'consent:s:bob', 'p'), 'advertising',
    'the record is on the new primary');
is($c->cmd($new, 'HGET', 'consent:s:alice', 'p'), 'analytics,advertising',
    'with what was written before the failover');

$r = ctl_with(['-p', $old], {}, qw(subject set bob sharing));
is($r->{rc}, 1, 'the old primary refuses writes (asked directly)');
like($r->{err}, qr/READONLY/, 'READONLY');

$r = ctl(qw(subject get bob));
is(purposes_of($r->{out}), 'necessary,advertising',
    'read back through the Sentinels');

# the primary killed: the Sentinels agree it is down and fail over
my $killed = $c->kill_primary;
is($killed, $new, 'the primary killed');
my ($newer, $secs2) = $c->wait_failover;
ok(defined $newer && $newer != $killed, 'another replica became the primary');
diag(sprintf 'failover after SIGKILL: %.1f s', $secs2) if defined $newer;

$r = ctl(qw(subject set carol personalization));
is($r->{rc}, 0, 'subject set after the primary died: exit 0')
    or diag($r->{err});
SKIP: {
    skip 'no failover', 2 unless defined $newer;
    is($c->cmd($newer, 'HGET', 'consent:s:carol', 'p'), 'personalization',
        'the record is on the newest primary');
    is($c->cmd($newer, 'HGET', 'consent:s:bob', 'p'), 'advertising',
        'with the one written before');
}

$c->stop;
is_deeply([$c->running], [], 'every process of the cluster stopped');

# ---------------------------------------------------------------- passwords

my $p = ConsentCluster->new(replicas => 1, sentinels => 3,
    password => 'data-pw', sentinel_password => 'sentinel-pw');
my @pn = $p->redis_ports;
my $plist = $p->sentinel_list;
my $pdir = $p->dir;

# files of other passwords
for (['wrong-pw', "not-it\n"], ['acl-pw', "default sentinel-pw\n"],
     ['acl-wrong', "default not-it\n"], ['empty-pw', "\n"])
{
    open my $fh, '>', "$pdir/$_->[0]" or die "$pdir/$_->[0]: $!";
    print $fh $_->[1];
    close $fh;
}

$r = $p->consentctl(qw(subject set dave analytics));
is($r->{rc}, 0, 'both passwords right: exit 0') or diag($r->{err});
is($p->cmd($pn[0], 'HGET', 'consent:s:dave', 'p'), 'analytics',
    'the record is on the primary');

my @base = ('--sentinel', $plist, '--master', 'consent');

$r = $p->consentctl({ conn => [@base, '-a', $p->password_file] },
    qw(subject get dave));
is($r->{rc}, 1, 'no Sentinel password: exit 1');
is(scalar(() = $r->{err} =~ /SENTINEL get-master-addr-by-name: NOAUTH/g), 3,
    'every Sentinel asks for one');

$r = $p->consentctl({ conn => [@base, '-a', $p->password_file,
    '--sentinel-password-file', "$pdir/wrong-pw"] }, qw(subject get dave));
is($r->{rc}, 1, 'a wrong Sentinel password: exit 1');
like($r->{err}, qr/^consentctl: sentinel 127\.0\.0\.1:\d+ refused AUTH \(password file "\Q$pdir\E\/wrong-pw"\): WRONGPASS/m,
    'the Sentinel refuses AUTH, the file named');
unlike($r->{err}, qr/not-it/, 'the password is not shown');

$r = $p->consentctl({ conn => [@base, '-a', $p->password_file,
    '--sentinel-password-file', "$pdir/acl-pw"] }, qw(subject get dave));
is($r->{rc}, 0, 'a Sentinel password as "user password": exit 0')
    or diag($r->{err});

$r = $p->consentctl({ conn => [@base, '-a', $p->password_file,
    '--sentinel-password-file', "$pdir/acl-wrong"] }, qw(subject get dave));
is($r->{rc}, 1, 'a wrong "user password": exit 1');

$r = $p->consentctl({ conn => [@base, '-a', $p->password_file,
    '--sentinel-password-file', "$pdir/empty-pw"] }, qw(subject get dave));
is($r->{rc}, 1, 'an empty Sentinel password file: exit 1');
like($r->{err}, qr/password file "\Q$pdir\E\/empty-pw" has no password/,
    'says so');

$r = $p->consentctl({ conn => [@base, '-a', $p->password_file,
    '--sentinel-password-file', "$pdir/missing"] }, qw(subject get dave));
is($r->{rc}, 1, 'a missing Sentinel password file: exit 1');
like($r->{err}, qr/cannot read password file "\Q$pdir\E\/missing"/,
    'says so');

$r = $p->consentctl({ conn => [@base, '--sentinel-password-file',
    $p->sentinel_password_file] }, qw(subject get dave));
is($r->{rc}, 1, 'the Sentinels\' password but none for the primary: exit 1');
like($r->{err}, qr/NOAUTH/, 'the primary asks for one');

$r = $p->consentctl({ conn => [@base, '-a', "$pdir/wrong-pw",
    '--sentinel-password-file', $p->sentinel_password_file] },
    qw(subject get dave));
is($r->{rc}, 1, 'a wrong password for the primary: exit 1');
like($r->{err}, qr/^consentctl: redis at 127\.0\.0\.1:$pn[0] \(master "consent" from sentinel 127\.0\.0\.1:\d+\) refused AUTH/m,
    'the primary refuses AUTH, with the Sentinel that named it');

# the Sentinels' password is not the primary's: each is sent where it
# belongs (the wrong way round fails at the first Sentinel)
$r = $p->consentctl({ conn => [@base, '-a', $p->sentinel_password_file,
    '--sentinel-password-file', $p->password_file] }, qw(subject get dave));
is($r->{rc}, 1, 'the two passwords swapped: exit 1');

# a fake Sentinel answering AUTH with garbage, then the SENTINEL command
my $fa = $p->fake_server(AUTH => \":1\r\n", SENTINEL => \"*3\r\n:1\r\n:2\r\n:3\r\n");
$r = $p->consentctl({ conn => ['--sentinel', "127.0.0.1:$fa",
    '--master', 'consent', '--sentinel-password-file',
    $p->sentinel_password_file, '--timeout', 300] }, qw(subject get dave));
is($r->{rc}, 1, 'a fake Sentinel behind AUTH: exit 1');
like($r->{err}, qr/unexpected reply \(an array of 3, element 1 not a string/,
    'its answer is checked');
like($p->read_file("fake-$fa.log"), qr/^AUTH sentinel-pw\n/m,
    'the Sentinel password went to the Sentinel');
$fa = $p->fake_server(AUTH => \"-WRONGPASS $esc\r\n");
$r = $p->consentctl({ conn => ['--sentinel', "127.0.0.1:$fa",
    '--master', 'consent', '--sentinel-password-file',
    $p->sentinel_password_file, '--timeout', 300] }, qw(subject get dave));
is($r->{rc}, 1, 'AUTH refused with control bytes: exit 1');
clean_err($r, 'AUTH refused with control bytes');

# a failover with passwords everywhere
is($p->failover, 'OK', 'SENTINEL FAILOVER (passwords)');
my ($pnew) = $p->wait_failover;
ok(defined $pnew && $pnew != $pn[0], 'the replica became the primary');
$r = $p->consentctl(qw(subject set erin sharing));
is($r->{rc}, 0, 'subject set after the failover (passwords): exit 0')
    or diag($r->{err});
SKIP: {
    skip 'no failover', 1 unless defined $pnew;
    is($p->cmd($pnew, 'HGET', 'consent:s:erin', 'p'), 'sharing',
        'the record is on the new primary');
}

$p->stop;
is_deeply([$p->running], [], 'every process of the second cluster stopped');

done_testing;
