#!/usr/bin/perl
# `nginx -s reload` under continuous keep-alive load, with a rules file
# that the reload changes (one rule removed, one added): no request fails
# (every answer a complete 200; a keep-alive connection the old worker
# closes while idle is re-sent, as clients do), every answer comes from
# the rules of the worker that gave it, the new rule is in force once the
# old worker is gone, and the shared-memory cache survives the reload.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);

use ConsentTest qw(time_scale);
use ConsentLoad;

my $clients = 4;
my $per_client = 750;      # at least 3,000 requests in all

my $rules_v1 = "_ga     analytics   google-analytics\n"
    . "oldtrk  advertising acme\n";
my $rules_v2 = "_ga     analytics   google-analytics\n"
    . "newtrk  advertising acme\n";

my $t = ConsentTest->new(
    name  => 'reload-under-load',
    redis => 1,
    files => { 'site.rules' => $rules_v1 },
    http  => <<'EOF',
    consent_rules %%DIR%%/site.rules;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s connect_timeout=2s;
    consent_zone zone=consent:1m ttl=600s negative_ttl=600s;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    add_header X-Pid $pid always;
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

# what the origin gets from a load request under each rule set (FR: opt-in,
# no record: only necessary; _ga always stripped, then the changed rule)
my %variant = (
    v1 => sub { "uid=load$_[0]; sid=s$_[0]; newtrk=3" },
    v2 => sub { "uid=load$_[0]; sid=s$_[0]; oldtrk=2" },
);

sub visit {
    my ($uid) = @_;
    return $t->get('/', headers => [
        [Cookie => "uid=$uid; _ga=1; oldtrk=2; newtrk=3"],
        ['X-Country' => 'FR'],
    ]);
}

# a subject cached before the reload

$t->redis_cmd(HSET => 'consent:s:cached', p => 'analytics');
my $r = visit('cached');
is($r->var('source'), 'redis', 'before: first lookup from Redis');
$r = visit('cached');
is($r->var('source'), 'cache', 'before: then from the shared cache');
is($r->origin->{cookie}, 'uid=cached; _ga=1; newtrk=3',
    'before: analytics granted, oldtrk (advertising) stripped, newtrk '
    . 'not a tracking cookie yet');

# changed in Redis without an invalidation: only the cache still says
# "analytics", so an answer with it after the reload comes from the zone
$t->redis_cmd(HSET => 'consent:s:cached', p => '');

my @old = $t->worker_pids;
ok(scalar @old, 'worker pid(s) before: ' . join(',', @old));

my $load = ConsentLoad->start($t,
    clients => $clients,
    min     => $per_client,
    fields  => ['X-Pid', 'X-C-Source', 'X-C-Stripped'],
    request => sub {
        my ($c) = @_;
        return ('/', [Cookie => "uid=load$c; sid=s$c; _ga=1; oldtrk=2; newtrk=3"],
            ['X-Country' => 'FR']);
    },
);

my $before = $load->wait_count(400);
cmp_ok($before, '>=', 400, "load running: $before answers before the reload");

$t->write_file('site.rules', $rules_v2);
my $t_start = time;
my ($rc, $out, $new) = $t->reload;
my $t_done = time;
is($rc, 0, 'nginx -s reload exits 0') or diag $out;
ok(scalar @$new, 'new worker pid(s): ' . join(',', @$new));
my %old = map { $_ => 1 } @old;
ok(!(grep { $old{$_} } $t->worker_pids), 'the old worker has exited');
diag sprintf 'reload took %.2fs under load', $t_done - $t_start;

# the cache survived the reload: the new worker answers from the zone
$r = visit('cached');
is($r->var('source'), 'cache', 'after: the subject cached before the '
    . 'reload is answered from the cache');
is($r->var('purposes'), 'necessary,analytics',
    'after: with the cached decision (Redis has another one by now)');
is($r->origin->{cookie}, 'uid=cached; _ga=1; oldtrk=2',
    'after: newtrk is stripped now, oldtrk no longer is');
ok($old{ $r->header('X-Pid') // '' } ? 0 : 1, 'after: answered by a new worker');

my $at_done = $load->count;
$load->wait_count($at_done + 400);
my @rec = $load->stop;
is($load->killed, 0, 'every load client finished by itself');

cmp_ok(scalar @rec, '>=', $clients * $per_client,
    scalar(@rec) . ' requests under load');

my @failed = grep { !$_->{complete} || $_->{status} != 200 } @rec;
is(scalar @failed, 0, 'zero failed requests: every answer a complete 200')
    or diag explain [@failed[0 .. ($#failed > 4 ? 4 : $#failed)]];

my @retried = grep { $_->{retried} } @rec;
diag scalar(@retried) . ' requests re-sent after the old worker closed '
    . 'an idle keep-alive connection';

my (%by, @wrong, @late_old);
for my $x (@rec) {
    my $v = (grep { ($x->{cookie} // '') eq $variant{$_}->($x->{client}) }
        keys %variant)[0] // 'other';
    $by{$v}++;
    my $pid = $x->{'X-Pid'} // '';
    push @wrong, $x if $v eq 'other'
        || ($old{$pid} && $v ne 'v1') || (!$old{$pid} && $v ne 'v2');
    push @late_old, $x if $x->{t0} > $t_done && $v ne 'v2';
}
is(scalar @wrong, 0, 'every answer used the rules of the worker that '
    . 'gave it (old: oldtrk stripped, new: newtrk stripped)')
    or diag explain [@wrong[0 .. ($#wrong > 4 ? 4 : $#wrong)]];
cmp_ok($by{v1} // 0, '>', 0, 'answers under the old rules: ' . ($by{v1} // 0));
cmp_ok($by{v2} // 0, '>', 0, 'answers under the new rules: ' . ($by{v2} // 0));
is(scalar @late_old, 0, 'after the reload every request gets the new rule');

my $across = grep { $_->{t1} >= $t_start && $_->{t0} <= $t_done } @rec;
cmp_ok($across, '>', 0, "load did not pause for the reload: $across "
    . 'requests in flight during it');

# per client, once the new rules answered, the old ones never again
my %seen_new;
my $back = 0;
for my $x (sort { $a->{client} <=> $b->{client} || $a->{seq} <=> $b->{seq} } @rec) {
    my $is_new = ($x->{cookie} // '') eq $variant{v2}->($x->{client});
    $back++ if $seen_new{ $x->{client} } && !$is_new;
    $seen_new{ $x->{client} } ||= $is_new;
}
is($back, 0, 'no client went back to the old rules');

# the load subjects have no record: Redis (or its cached "no record")
# says so and the regime default decides, never the fail policy
my %src;
$src{ $_->{'X-C-Source'} // '' }++ for @rec;
is_deeply([keys %src], ['default'], 'every decision: "no record", the '
    . 'regime default; none from the fail policy')
    or diag explain \%src;

$t->stop;
done_testing();
