#!/usr/bin/perl
# Redis failing under continuous keep-alive load, no cache (every request
# asks Redis): killed, then restarted; then paused (CLIENT PAUSE) beyond
# the lookup timeout.  No request fails or hangs; while Redis cannot
# answer the fail policy decides (the signed cookie where there is one,
# else only necessary), within timeout + a margin; afterwards lookups go
# to Redis again by themselves.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);

use ConsentTest qw(mint_token keys_line time_scale);
use ConsentLoad;

my $scale = time_scale();
my $timeout_ms = int(200 * $scale);
my $timeout = $timeout_ms / 1000;
my $margin = 0.5 * $scale;
my $pause_ms = int(2000 * $scale);
my $subjects = 20;          # per client
my $key = 'k' x 32;

my $t = ConsentTest->new(
    name  => 'redis-faults-under-load',
    redis => 1,
    files => { keys => keys_line('k1', $key) },
    http  => <<"EOF",
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=${timeout_ms}ms
                  connect_timeout=${timeout_ms}ms;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

# every load subject has a record granting advertising; odd requests
# also carry a signed consent cookie granting analytics instead, so the
# origin's cookie tells which source decided
my (%tok, @subj);
for my $c (1 .. 4) {
    for my $i (0 .. $subjects - 1) {
        my $s = "s${c}_$i";
        push @subj, $s;
        $tok{$s} = mint_token('k1', $key, $s, 0b101);
    }
}

sub records {
    $t->redis_cmd(HSET => "consent:s:$_", p => 'advertising') for @subj;
}

sub subject_of { my ($c, $seq) = @_; "s${c}_" . ($seq % $subjects) }

# what the origin must get for each source
sub expected_cookie {
    my ($c, $seq, $source) = @_;
    my $s = subject_of($c, $seq);
    my $pre = $seq % 2 ? "consent=$tok{$s}; " : '';
    return "${pre}uid=$s; _fbp=2" if $source eq 'redis';
    return "${pre}uid=$s; _ga=1"  if $source eq 'cookie';
    return "${pre}uid=$s";                         # fail (closed), default
}

records();

my $load = ConsentLoad->start($t,
    clients => 4,
    min     => 100,
    fields  => ['X-C-Source'],
    request => sub {
        my ($c, $seq) = @_;
        my $s = subject_of($c, $seq);
        my $pre = $seq % 2 ? "consent=$tok{$s}; " : '';
        return ('/', [Cookie => "${pre}uid=$s; _ga=1; _fbp=2"],
            ['X-Country' => 'FR']);
    },
);

# until at least n more answers and at least secs seconds
sub run_for {
    my ($n, $secs) = @_;
    my $until = time + $secs;
    $load->wait_count($load->count + $n);
    sleep 0.02 while time < $until;
}

# the first answer from Redis sent after $since, by polling the records
# on disk (the load goes on meanwhile); undef after the deadline
sub wait_redis_again {
    my ($since, $secs) = @_;
    my $deadline = time + $secs * $scale;
    my %off;
    while (time < $deadline) {
        for my $f (@{ $load->{files} }) {
            open my $fh, '<', $f or next;
            seek $fh, $off{$f} // 0, 0;
            while (my $l = <$fh>) {
                last unless $l =~ /\n\z/;      # a line still being written
                $off{$f} = tell $fh;
                my @v = split /\t/, $l;
                return $v[2] if $v[2] > $since && ($v[9] // '') =~ /\Aredis\b/;
            }
            close $fh;
        }
        sleep 0.05;
    }
    return undef;
}

run_for(300, 0.3);

# killed

my $t_kill = time;
$t->stop_redis(signal => 'KILL');
my $t_killed = time;
run_for(300, 0.5 * $scale);

# restarted: the records are back once start_redis and records() return

my $t_restart = time;
$t->start_redis;
records();
my $t_data = time;
my $t_back = wait_redis_again($t_data, 10);
ok(defined $t_back, 'Redis restarted: lookups go to Redis again by '
    . 'themselves') and diag sprintf 'recovered %.2fs after the restart',
    $t_back - $t_restart;
$t_back //= time;
run_for(300, 0.3);

# paused beyond the timeout

my $t_pause = time;
is($t->redis_cmd(CLIENT => 'PAUSE', $pause_ms), 'OK', 'CLIENT PAUSE');
my $t_pause_end = $t_pause + $pause_ms / 1000;
sleep 0.02 while time < $t_pause_end + 0.05;
my $t_back2 = wait_redis_again($t_pause_end, 15);
ok(defined $t_back2, 'pause over: lookups go to Redis again by themselves')
    and diag sprintf 'recovered %.2fs after the pause ended',
    $t_back2 - $t_pause_end;
$t_back2 //= time;
run_for(300, 0.3);

my @rec = $load->stop;
is($load->killed, 0, 'every load client finished by itself');
diag scalar(@rec) . ' requests under load';

my @failed = grep { !$_->{complete} || $_->{status} != 200 } @rec;
is(scalar @failed, 0, 'zero failed requests: every answer a complete 200')
    or diag explain [@failed[0 .. ($#failed > 4 ? 4 : $#failed)]];

# checks one phase: records sent in [from, to] (answered by to_end when
# given): each one's source among @ok and what the origin got matching it
sub phase {
    my ($name, $from, $to, $to_end, @ok) = @_;
    my %ok = map { $_ => 1 } @ok;
    my @in = grep { $_->{t0} >= $from && $_->{t0} <= $to
        && (!defined $to_end || $_->{t1} <= $to_end) } @rec;
    my (@bad, %src);
    for my $x (@in) {
        my $src = $x->{'X-C-Source'} // '';
        $src{$src}++;
        push @bad, $x unless $ok{$src} && ($x->{cookie} // '')
            eq expected_cookie($x->{client}, $x->{seq}, $src);
    }
    cmp_ok(scalar @in, '>', 0, "$name: " . scalar(@in) . ' requests ('
        . join(', ', map { "$_ $src{$_}" } sort keys %src) . ')');
    is(scalar @bad, 0, "$name: decided by " . join(' or ', @ok)
        . ', and the origin got what that decision allows')
        or diag explain [@bad[0 .. ($#bad > 4 ? 4 : $#bad)]];
    return @in;
}

# what each kind of request gets while Redis cannot answer
sub fail_policy_ok {
    my ($name, @in) = @_;
    my @odd  = grep { $_->{seq} % 2 } @in;
    my @even = grep { !($_->{seq} % 2) } @in;
    is(scalar(grep { ($_->{'X-C-Source'} // '') ne 'cookie' } @odd), 0,
        "$name: with a signed cookie, the cookie decides");
    is(scalar(grep { ($_->{'X-C-Source'} // '') ne 'fail' } @even), 0,
        "$name: without one, the fail policy (closed: only necessary)");
}

sub max_latency {
    my $max = 0;
    for (@_) { my $d = $_->{t1} - $_->{t0}; $max = $d if $d > $max }
    return $max;
}

phase('up', 0, $t_kill, $t_kill, 'redis');
my @down = phase('Redis killed', $t_killed, $t_restart, $t_restart,
    'cookie', 'fail');
fail_policy_ok('Redis killed', @down);
cmp_ok(max_latency(grep { $_->{t0} >= $t_killed && $_->{t0} <= $t_restart } @rec),
    '<', $timeout + $margin, 'Redis killed: every request answered within '
    . 'timeout + margin');

# between the restart and records() the records are not there yet
phase('restarting', $t_restart, $t_data, undef,
    'cookie', 'fail', 'redis', 'default');
phase('Redis back', $t_back, $t_pause, $t_pause, 'redis');

my @paused = phase('Redis paused', $t_pause + 0.01, $t_pause_end,
    $t_pause_end, 'cookie', 'fail');
fail_policy_ok('Redis paused', @paused);
my @during = grep { $_->{t0} >= $t_pause && $_->{t0} <= $t_pause_end } @rec;
my $max = max_latency(@during);
cmp_ok($max, '<', $timeout + $margin, 'Redis paused: every request answered '
    . 'within timeout + margin, none hung') and diag sprintf
    'slowest while paused: %.0f ms (timeout %d ms)', $max * 1000, $timeout_ms;
my $fast = grep { $_->{t1} - $_->{t0} < $timeout / 2 } @during;
cmp_ok($fast, '>', @during / 2, 'Redis paused: most requests did not wait '
    . "at all (circuit open): $fast of " . scalar(@during));

phase('after the pause', $t_back2, time, undef, 'redis');

ok(scalar $t->error_log_grep(qr/consent redis .*lookups fail fast/),
    'the outage is logged');

$t->stop;
done_testing();
