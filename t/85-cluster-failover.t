#!/usr/bin/perl
# Many edge nodes through a Redis failover, on loopback: a primary, two
# replicas and three Sentinels; three nginx edge nodes (two reading from
# "their" replica, one from the primary), each finding the primary through
# the Sentinels and confirming writes with consent_write_replicas 1.  Under
# continuous consent writes and lookups through every node, the primary is
# killed (SIGKILL) and Sentinel promotes a replica.  Then:
#   - every write answered 200 is in the new primary's records and
#     receipts stream: no acknowledged write lost;
#   - writes answered 503 meanwhile are absent, or present as exactly the
#     choice that was posted (harmless: the visitor's own);
#   - lookups kept answering within the Redis timeout plus a margin (from
#     Redis, the cache or the fail policy), every one complete;
#   - a withdrawal made after the failover is enforced by every node on
#     its next request.
# The counts are printed (diag) for the closing note.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);

use ConsentTest qw(time_scale);
use ConsentCluster;
use ConsentLoad;

my $json = JSON::PP->new->canonical;
my $timeout_ms = 100;
# what a loaded two-core machine adds to a lookup bounded by the timeout
my $margin = 0.4 * time_scale();

my $c = ConsentCluster->new(replicas => 2, sentinels => 3);
my ($p0, $r1, $r2) = $c->redis_ports;
my $master = $c->master_name;

my %nodes;
for my $n (['A', "consent_redis_read 127.0.0.1:$r1;"],
           ['B', "consent_redis_read 127.0.0.1:$r2;"],
           ['C', '']) {
    my ($name, $read) = @$n;
    $nodes{$name} = $c->edge(name => "edge-$name", workers => 1,
        timeout => "${timeout_ms}ms",
        extra => "$read consent_write_replicas 1 500ms;");
}
my @names = sort keys %nodes;
ok(ConsentCluster::edge_ready($nodes{$_}, 1),
    "edge node $_ found the primary and listens") for @names;

sub post {
    my ($t, $account, @purposes) = @_;
    return $t->get('/consent', method => 'POST',
        body => $json->encode({ purposes => [@purposes], policy_version => 1 }),
        headers => [['X-Account' => $account],
                    ['Content-Type' => 'application/json'],
                    ['Origin' => 'http://localhost']]);
}

sub page {
    my ($t, $account) = @_;
    return $t->get('/', headers => [['X-Account' => $account]]);
}

# the readers' subjects, one a node, granted analytics before anything
for my $n (@names) {
    is(post($nodes{$n}, "reader-$n", 'analytics')->status, 200,
        "reader-$n chose analytics on node $n");
}

# ---------------------------------------------------------------- load

my @purposes = (['analytics'], ['advertising'], ['analytics', 'advertising'], []);
sub write_of {
    my ($node, $client, $seq) = @_;
    return ("w-$node-$client-$seq", $purposes[$seq % @purposes]);
}

my (%writers, %readers);
for my $n (@names) {
    my $node = $n;
    $writers{$n} = ConsentLoad->start($nodes{$n},
        clients => 2,
        min     => 20,
        request => sub {
            my ($client, $seq) = @_;
            my ($account, $p) = write_of($node, $client, $seq);
            return { method => 'POST', path => '/consent',
                body => $json->encode({ purposes => $p, policy_version => 1 }),
                headers => [['X-Account' => $account],
                            ['Content-Type' => 'application/json'],
                            ['Origin' => 'http://localhost']] };
        });
    $readers{$n} = ConsentLoad->start($nodes{$n},
        clients => 1,
        min     => 20,
        fields  => ['X-C-Purposes', 'X-C-Source'],
        request => sub {
            my ($client, $seq) = @_;
            # the readers in turn (cached), and a subject nobody wrote
            # (a lookup each time: Redis, or the fail policy without it)
            my $who = $seq % 4 == 3 ? "nobody-$node-$seq"
                : "reader-" . $names[$seq % @names];
            return ('/', ['X-Account' => $who]);
        });
}

$writers{$_}->wait_count(50, 30, 200) for @names;

my %acked_before = map { $_ => $writers{$_}->count(200) } @names;
my $killed = $c->kill_primary;
my $t_kill = time;
my ($new, $failover_secs) = $c->wait_failover(30);
ok($new, sprintf('Sentinel promoted %s %.2f s after the primary %s was killed',
    $new // '?', $failover_secs, $killed));

# until every node had 100 more writes confirmed
for my $n (@names) {
    $writers{$n}->wait_count($acked_before{$n} + 100, 30, 200);
}
my $t_end = time;

my (%w, %rd);
$w{$_} = [ $writers{$_}->stop ] for @names;
$rd{$_} = [ $readers{$_}->stop ] for @names;

# ---------------------------------------------------------------- writes

my $records = 0;
my %receipts;
{
    my $stream = $c->cmd($new, 'XRANGE', 'consent:log', '-', '+');
    for my $e (@{ ref $stream eq 'ARRAY' ? $stream : [] }) {
        my %f = @{ $e->[1] };
        $receipts{ $f{subject} } = \%f if defined $f{subject};
    }
}

my ($acked, $lost, $s503, $present503, $wrong503, $other, $incomplete) = (0) x 7;
my ($first503, $last503, $first_ok_after);
my @lost;
for my $n (@names) {
    for my $rec (@{ $w{$n} }) {
        my ($account, $p) = write_of($n, $rec->{client}, $rec->{seq});
        my $want = join ',', @$p;
        if (!$rec->{complete}) {
            $incomplete++;
            next;
        }
        my $h = $c->cmd($new, 'HGETALL', "consent:s:$account");
        my %h = @{ ref $h eq 'ARRAY' ? $h : [] };
        if ($rec->{status} == 200) {
            $acked++;
            my $r = $receipts{$account};
            unless (($h{p} // '') eq $want && $r && ($r->{purposes} // '') eq $want) {
                $lost++;
                push @lost, "$account (node $n, sent " . sprintf('%.3f', $rec->{t0} - $t_kill)
                    . " s after the kill): record p=" . ($h{p} // 'none')
                    . ', receipt ' . ($r ? "purposes=$r->{purposes}" : 'none');
            }
            $first_ok_after = $rec->{t0}
                if $rec->{t0} > $t_kill && (!defined $first_ok_after || $rec->{t0} < $first_ok_after);
        } elsif ($rec->{status} == 503) {
            $s503++;
            $first503 = $rec->{t0} if !defined $first503 || $rec->{t0} < $first503;
            $last503 = $rec->{t1} if !defined $last503 || $rec->{t1} > $last503;
            if (%h) {
                $present503++;
                $wrong503++ unless ($h{p} // '') eq $want;
            }
        } else {
            $other++;
        }
    }
}

cmp_ok($acked, '>=', 300, "writes acknowledged through the failover: $acked");
is($lost, 0, 'no acknowledged write lost') or diag(join "\n", @lost[0 .. ($#lost < 9 ? $#lost : 9)]);
is($other, 0, 'every write answered 200 or 503');
is($incomplete, 0, 'every write got a whole answer');
cmp_ok($s503, '>', 0, "writes refused while there was no primary: $s503");
is($wrong503, 0, "refused writes present in Redis ($present503) hold exactly the choice posted");

# ---------------------------------------------------------------- lookups

my ($lookups, $slowest, $bad, $by_source) = (0, 0, 0, {});
for my $n (@names) {
    for my $rec (@{ $rd{$n} }) {
        $lookups++;
        my $took = $rec->{t1} - $rec->{t0};
        $slowest = $took if $took > $slowest;
        $bad++ unless $rec->{complete} && $rec->{status} == 200;
        $by_source->{ $rec->{'X-C-Source'} // 'none' }++;
    }
}
is($bad, 0, "every lookup answered 200 ($lookups through the failover)");
cmp_ok($slowest, '<', $timeout_ms / 1000 + $margin,
    sprintf('the slowest lookup took %.3f s (timeout %d ms + margin)', $slowest, $timeout_ms));

# ---------------------------------------------------------------- after

# WAIT 1 needs the surviving replica linked to the new primary again (a
# resync after a failover can take a moment, longer under ASan)
my ($other) = grep { $_ != $new && $_ != $killed } $c->redis_ports;
ok($c->wait_role($other, 'slave', 30),
    "replica $other is linked to the new primary");

# reader-A is in every node's cache: withdrawn on node A, each node
# enforces it on its next request
for my $n (@names) {
    like(page($nodes{$n}, 'reader-A')->header('X-C-Purposes'), qr/analytics/,
        "node $n has reader-A's grant");
}
my $del = $nodes{A}->get('/consent', method => 'DELETE',
    headers => [['X-Account' => 'reader-A'], ['Origin' => 'http://localhost']]);
is($del->status, 200, 'reader-A withdraws on node A after the failover');
for my $n (@names) {
    my $r = page($nodes{$n}, 'reader-A');
    unlike($r->header('X-C-Purposes') // '', qr/analytics/,
        "node $n enforces the withdrawal on the next request")
        or diag("source " . ($r->header('X-C-Source') // '?'));
}

# a new choice after the failover lands on the new primary from every node
for my $n (@names) {
    is(post($nodes{$n}, "after-$n", 'advertising')->status, 200,
        "node $n writes after the failover");
    my $h = $c->cmd($new, 'HGETALL', "consent:s:after-$n");
    my %h = @{ ref $h eq 'ARRAY' ? $h : [] };
    is($h{p}, 'advertising', '... to the new primary');
}

diag(sprintf "failover: primary %s killed, %s promoted after %.2f s; "
    . "writes refused from %.2f s to %.2f s after the kill; "
    . "%d writes acknowledged, %d lost, %d answered 503 (%d of them present, "
    . "each the choice posted); %d lookups, slowest %.3f s, sources %s",
    $killed, $new // '?', $failover_secs,
    defined $first503 ? $first503 - $t_kill : -1,
    defined $last503 ? $last503 - $t_kill : -1,
    $acked, $lost, $s503, $present503, $lookups, $slowest,
    join(',', map { "$_=$by_source->{$_}" } sort keys %$by_source));

done_testing;
