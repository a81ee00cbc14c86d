#!/usr/bin/perl
# Redis replicas and Sentinel: consent_redis sentinel=... master=... finds
# the primary through the Sentinels (one dead, one lying, one speaking
# garbage) and follows it through a failover without a reload;
# consent_redis_read sends lookups (and the invalidation subscription) to
# a replica and writes to the primary; consent_write_replicas answers 200
# only once WAIT counted the replicas, 503 otherwise; a primary that
# turned replica (READONLY) or a Sentinel naming a replica (ROLE) is left
# for the real one; passwords for Sentinel; configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);

use ConsentTest qw(time_scale);
use ConsentCluster;

my $json = JSON::PP->new;

my $c = ConsentCluster->new(replicas => 2, sentinels => 3);
my ($p0, $r1, $r2) = $c->redis_ports;
my $master = $c->master_name;

sub node { $c->edge(@_) }

sub post {
    my ($t, $account, @purposes) = @_;
    my $body = $json->encode({ purposes => [@purposes], policy_version => 1 });
    my $t0 = time;
    my $r = $t->get('/consent', method => 'POST', body => $body,
        headers => [['X-Account' => $account],
                    ['Content-Type' => 'application/json'],
                    ['Origin' => 'http://localhost']]);
    return wantarray ? ($r, time - $t0) : $r;
}

# a page of $account while $poster's write is in flight (sent 50 ms
# before, from another process): (the page, seconds it took)
sub page_while_posting {
    my ($t, $poster, $account) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        post($t, $poster, 'analytics');
        POSIX::_exit(0);
    }
    sleep 0.05;
    my $t0 = time;
    my $r = page($t, $account);
    my $took = time - $t0;
    waitpid $pid, 0;
    return ($r, $took);
}

sub page {
    my ($t, $account) = @_;
    return $t->get('/', headers => [['X-Account' => $account]]);
}

sub record_on {
    my ($port, $account) = @_;
    my $r = $c->cmd($port, 'HGETALL', "consent:s:$account");
    return { @{ ref $r eq 'ARRAY' ? $r : [] } };
}

# the calls of each command on a node since its last CONFIG RESETSTAT
sub calls {
    my ($port) = @_;
    my %n;
    my $info = $c->cmd($port, 'INFO', 'commandstats');
    $n{$1} = $2 while $info =~ /^cmdstat_(\w+):calls=(\d+)/mg;
    return \%n;
}

sub flat {
    my ($h) = @_;
    return join ',', map { "$_=$h->{$_}" } sort keys %$h;
}

# until the replica has the primary's record (replication is asynchronous)
sub wait_replicated {
    my ($port, $account) = @_;
    my $want = flat(record_on($p0, $account));
    my $deadline = time + 10 * time_scale();
    while (time < $deadline) {
        return 1 if $want ne '' && flat(record_on($port, $account)) eq $want;
        sleep 0.01;
    }
    return 0;
}

# ---------------------------------------------------------------- config

for my $case (
    [ 'sentinel= without master=', "consent_redis sentinel=127.0.0.1:1;",
      qr/"sentinel=" needs "master="/ ],
    [ 'master= without sentinel=', "consent_redis 127.0.0.1:1 master=x;",
      qr/"master=" and "sentinel_password_file=" are for "sentinel="/ ],
    [ 'sentinel_password_file= without sentinel=', "consent_redis 127.0.0.1:1 sentinel_password_file=/etc/hostname;",
      qr/"master=" and "sentinel_password_file=" are for "sentinel="/ ],
    [ 'a trailing comma', "consent_redis sentinel=127.0.0.1:1, master=x;",
      qr/empty address in "sentinel=/ ],
    [ 'an empty Sentinel address', "consent_redis sentinel=127.0.0.1:1,,127.0.0.1:2 master=x;",
      qr/empty address in "sentinel=/ ],
    [ 'an empty master name', "consent_redis sentinel=127.0.0.1:1 master=;",
      qr/invalid parameter "master="/ ],
    [ 'consent_redis_read without consent_redis', "consent_redis_read 127.0.0.1:1;",
      qr/"consent_redis_read" needs "consent_redis"/ ],
    [ 'consent_write_replicas without consent_redis', "consent_write_replicas 1;",
      qr/"consent_write_replicas" needs "consent_redis"/ ],
    [ 'replicas not a number', "consent_redis 127.0.0.1:1; consent_write_replicas x;",
      qr/invalid number of replicas "x"/ ],
    [ 'a zero timeout', "consent_redis 127.0.0.1:1; consent_write_replicas 1 0;",
      qr/invalid timeout "0"/ ],
    [ 'a duplicate consent_redis_read', "consent_redis 127.0.0.1:1; consent_redis_read 127.0.0.1:2; consent_redis_read 127.0.0.1:3;",
      qr/"consent_redis_read" directive is duplicate/ ],
    [ 'a missing sentinel password file', "consent_redis sentinel=127.0.0.1:1 master=x sentinel_password_file=/nonexistent/pw;",
      qr{open\(\) "/nonexistent/pw" failed} ],
) {
    my ($name, $conf, $want) = @$case;
    my ($rc, $out) = ConsentTest::config_test(http => "$conf\n");
    isnt($rc, 0, "nginx -t refuses $name");
    like($out, $want, "... and says why ($name)");
}

{
    my ($rc, $out) = ConsentTest::config_test(http => "consent_redis sentinel=127.0.0.1:1,localhost:2 master=m; consent_redis_read 127.0.0.1:3; consent_write_replicas 2 250ms;\n");
    is($rc, 0, 'nginx -t takes Sentinels, a read replica and WAIT')
        or diag($out);
}

# ---------------------------------------------------------------- discovery

# the first Sentinel is dead, the second does not know the master, the
# third speaks garbage: the fourth, real, one is found by every worker
my $unknown = $c->fake_server(SENTINEL => undef, '*' => 'OK');
my $garbage = $c->fake_server(SENTINEL => \":7\r\n", '*' => 'OK');
my $dead = ConsentCluster::closed_port();
my @real = $c->sentinel_ports;

my $a = node(name => 'discover',
    redis => "sentinel=127.0.0.1:$dead,127.0.0.1:$unknown,127.0.0.1:$garbage,"
           . join(',', map { "127.0.0.1:$_" } @real) . " master=$master");

my $log = $a->read_file('error.log');
like($log, qr/Sentinel 127\.0\.0\.1:$unknown does not know master "$master"/,
    'a Sentinel that does not know the master is named');
like($log, qr/Sentinel 127\.0\.0\.1:$garbage: unexpected reply to SENTINEL get-master-addr-by-name/,
    'a Sentinel answering garbage is named');
like($log, qr/127\.0\.0\.1:$dead: Sentinel: (connect failed|connection closed)/,
    'a dead Sentinel is named') or diag($log);
like($log, qr/the primary of "$master" is 127\.0\.0\.1:$p0/,
    'the primary found through the Sentinels');

my $r = post($a, 'alice', 'analytics');
is($r->status, 200, 'a choice through a Sentinel-found primary answers 200');
ok(%{ record_on($p0, 'alice') }, 'the record is on the primary');
$r = page($a, 'alice');
like($r->header('X-C-Purposes'), qr/analytics/, 'and decides the next request');

# ---------------------------------------------------------------- read replica

$c->cmd($_, 'CONFIG', 'RESETSTAT') for ($p0, $r1, $r2);

my $b = node(name => 'read-replica',
    extra => "consent_redis_read 127.0.0.1:$r1;");

$r = post($b, 'bob', 'advertising');
is($r->status, 200, 'a choice on a node reading from a replica answers 200');
ok(%{ record_on($p0, 'bob') }, 'the write went to the primary');
ok(wait_replicated($r1, 'bob'), 'and reached the replica');

# a lookup of a subject written elsewhere (not in this node's cache)
$r = post($a, 'carol', 'analytics');
is($r->status, 200, 'carol chose on another node');
ok(wait_replicated($r1, 'carol'), 'carol\'s record is on the replica');
my ($before_r, $before_p) = (calls($r1), calls($p0));
$r = page($b, 'carol');
like($r->header('X-C-Purposes'), qr/analytics/,
    'the node reading the replica decides by it');
is($r->header('X-C-Source'), 'redis', '... from Redis');

my $on_replica = calls($r1);
my $on_primary = calls($p0);
is(($on_replica->{hgetall} // 0) - ($before_r->{hgetall} // 0), 1,
    'the lookup went to the replica');
is(($on_primary->{hgetall} // 0) - ($before_p->{hgetall} // 0), 0,
    'not to the primary');
ok(($on_primary->{exec} // 0) >= 2, 'writes went to the primary');

# invalidation through the replica: carol is cached on $b; a withdrawal
# on another node reaches $b's cache through the replication stream
$r = page($b, 'carol');
like($r->header('X-C-Purposes'), qr/analytics/, 'carol cached on the replica node');
$r = $a->get('/consent', method => 'DELETE',
    headers => [['X-Account' => 'carol'], ['Origin' => 'http://localhost']]);
is($r->status, 200, 'carol withdraws on another node');
my $ok = 0;
my $deadline = time + 5 * time_scale();
my $polls = 0;
while (time < $deadline) {
    $polls++;
    $r = page($b, 'carol');
    if (($r->header('X-C-Purposes') // '') !~ /analytics/) { $ok = 1; last }
    sleep 0.01;
}
ok($ok, 'the replica node enforces the withdrawal');
cmp_ok($polls, '<=', 3, "... on the first requests ($polls)");

# ---------------------------------------------------------------- WAIT

my $w2 = node(name => 'wait-2', extra => "consent_write_replicas 2 1s;");
my $secs;
($r, $secs) = post($w2, 'dave', 'analytics');
is($r->status, 200, 'WAIT 2 with two replicas up: 200');
ok(scalar(grep { /^consent=/ } $r->header_all('Set-Cookie')), '... with the cookie');
for my $port ($r1, $r2) {
    ok(%{ record_on($port, 'dave') }, "... and replica $port has it at once");
}

my $w3 = node(name => 'wait-3', extra => "consent_write_replicas 3 300ms;");
($r, $secs) = post($w3, 'erin', 'analytics');
is($r->status, 503, 'WAIT 3 with two replicas: 503');
is(scalar(grep { /^consent=/ } $r->header_all('Set-Cookie')), 0,
    '... and no cookie: the browser keeps its state');
cmp_ok($secs, '>=', 0.29, sprintf('... after the WAIT timeout (%.3f s)', $secs));
ok($w3->wait_error_log(qr/2 of 3 replicas confirmed the write for "erin" within 300 ms/, 0),
    '... and the log says how many confirmed');
like($w3->get('/metrics')->body, qr/^consent_writes_unconfirmed_total 1$/m,
    '... and the metrics count it');
$r = page($w3, 'dave');
like($r->header('X-C-Purposes'), qr/analytics/,
    'lookups on a WAIT node are not held up by it');

# lookups keep answering while writes wait: a write and a page at once
{
    my $took;
    ($r, $took) = page_while_posting($w3, 'frank', 'dave');
    is($r->status, 200, 'a page while a write waits for replicas');
    cmp_ok($took, '<', 0.25, sprintf('... answered in %.3f s, not after the WAIT', $took));
}

# ---------------------------------------------------------------- WAIT, many

# POSTs sent together on their own connections, then read: (statuses,
# seconds until the last answer)
sub posts_at_once {
    my ($t, @accounts) = @_;
    my $t0 = time;
    my @s;
    for my $account (@accounts) {
        my $body = $json->encode({ purposes => ['analytics'], policy_version => 1 });
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $t->port, Proto => 'tcp', Timeout => 5) or die "connect: $!";
        push @s, [$s, "POST /consent HTTP/1.1\r\nHost: localhost\r\n"
            . "X-Account: $account\r\nContent-Type: application/json\r\n"
            . "Origin: http://localhost\r\nConnection: close\r\n"
            . "Content-Length: " . length($body) . "\r\n\r\n$body"];
    }
    print { $_->[0] } $_->[1] for @s;
    my @status;
    for (@s) {
        my $fh = $_->[0];
        local $/;
        my $resp = <$fh> // '';
        push @status, $resp =~ m{\AHTTP/1\.1 (\d+)} ? $1 : 0;
        close $fh;
    }
    return (\@status, time - $t0);
}

{
    my $one = node(name => 'wait-many', workers => 1,
        extra => "consent_write_replicas 2 1s;");
    my $before = calls($p0)->{wait} // 0;
    my ($st, $secs) = posts_at_once($one, map { "many-$_" } 1 .. 12);
    is(scalar(grep { $_ == 200 } @$st), 12,
        '12 writes at once, WAIT 2 with two replicas: all 200');
    my $waits = (calls($p0)->{wait} // 0) - $before;
    cmp_ok($waits, '<', 12, "... confirmed by $waits WAITs, not one each");
    ok(%{ record_on($r2, "many-$_") }, "... many-$_ on a replica") for 1, 12;

    my $short = node(name => 'wait-short', workers => 1,
        extra => "consent_write_replicas 3 300ms;");
    ($st, $secs) = posts_at_once($short, map { "short-$_" } 1 .. 6);
    is(scalar(grep { $_ == 503 } @$st), 6, '6 writes at once, WAIT 3 with two: all 503');
    cmp_ok($secs, '<', 0.6 + 0.3 * time_scale(),
        sprintf('... within two WAIT timeouts (%.3f s)', $secs));
    my $n = () = $short->read_file('error.log')
        =~ /2 of 3 replicas confirmed the write for "short-\d"/g;
    is($n, 6, '... each told by the WAIT count, none by a timeout');
}

# a read replica that is down: lookups go to the primary, unless WAIT
# runs there (they would queue behind it): then the fail policy at once
{
    my $gone = ConsentCluster::closed_port();
    my $f1 = node(name => 'read-gone', workers => 1, listen => 0,
        extra => "consent_redis_read 127.0.0.1:$gone;");
    is(post($f1, 'judy', 'analytics')->status, 200,
        'replica down: a write goes to the primary');
    $r = page($f1, 'judy');
    is($r->header('X-C-Source'), 'redis', '... and so do lookups');
    like($r->header('X-C-Purposes'), qr/analytics/, '... which decide');

    my $f2 = node(name => 'read-gone-wait', workers => 1, listen => 0,
        extra => "consent_redis_read 127.0.0.1:$gone; consent_write_replicas 3 500ms;");
    my $took;
    ($r, $took) = page_while_posting($f2, 'kim', 'judy');
    is($r->header('X-C-Source'), 'fail',
        'replica down, WAIT on the primary: lookups take the fail policy');
    cmp_ok($took, '<', 0.15 * time_scale(),
        sprintf('... at once (%.3f s), not behind the WAIT', $took));
}

# ---------------------------------------------------------------- failover

$c->failover;
my ($new, $took) = $c->wait_failover(30);
ok($new, "Sentinel promoted $new in " . sprintf('%.1f s', $took // 0));

# (a write the old primary took between the promotion and its own
# demotion is lost: that is what consent_write_replicas set to every
# replica prevents, see t/85; here the node is waited for first)
ok($a->wait_error_log(qr/the primary of "$master" is 127\.0\.0\.1:$new/, 0),
    'the node logged the new primary');
$deadline = time + 15 * time_scale();
my $status = 0;
my $tries = 0;
while (time < $deadline) {
    $tries++;
    $r = post($a, "grace-$tries", 'analytics');
    $status = $r->status;
    last if $status == 200;
    sleep 0.05;
}
is($status, 200, "after the failover writes answer 200 again, no reload ($tries tries)");
ok(%{ record_on($new, "grace-$tries") }, '... on the new primary');
like($a->get('/metrics')->body, qr/^consent_redis_primary_changes_total [2-9]$/m,
    'the metrics count each worker\'s move to the new primary');
$r = page($a, "grace-$tries");
like($r->header('X-C-Purposes'), qr/analytics/, 'and decides by it');

# the old primary comes back as a replica; a node configured with it
# directly (no Sentinel) gets READONLY on a write: 503, logged
ok($c->wait_role($p0, 'slave', 30), "the old primary $p0 is a replica now");
my $ro = node(name => 'readonly', redis => "127.0.0.1:$p0");
$r = post($ro, 'heidi', 'analytics');
is($r->status, 503, 'a write to a replica (READONLY) answers 503');
ok($ro->wait_error_log(qr/READONLY/, 0), '... and the log says READONLY');
$r = page($ro, 'dave');
is($r->status, 200, 'lookups on that node go on');
is($r->header('X-C-Source'), 'redis', '... from Redis: a refused write does '
    . 'not take the lookups down')
    or diag($ro->read_file('error.log'));

# a Sentinel that names a replica: ROLE says so, the next Sentinel is asked
my $liar = $c->fake_server(SENTINEL => ['127.0.0.1', "$p0"], '*' => 'OK');
my $d = node(name => 'liar', workers => 1,
    redis => "sentinel=127.0.0.1:$liar," . $c->sentinel_list . " master=$master");
ok($d->wait_error_log(qr/named the primary, but its role is "slave"/, 0),
    'a Sentinel naming a replica is caught by ROLE');
$deadline = time + 15 * time_scale();
$status = 0;
while (time < $deadline) {
    $r = post($d, 'ivan', 'analytics');
    $status = $r->status;
    last if $status == 200;
    sleep 0.05;
}
is($status, 200, '... and the real primary is found');
ok(%{ record_on($new, 'ivan') }, '... the write is on it');

done_testing;
