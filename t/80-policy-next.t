#!/usr/bin/perl
# consent_policy_next: a policy version announced ahead of its effective
# date.  Before the date the API shows it (next_policy_version and its
# effective time) and the current version and floor stand, and a visitor
# may already agree to it; from the date, with no reload, it is the
# current version and its re-consent floor applies.  The clock is moved
# with libfaketime (Debian's libfaketime: LD_PRELOAD, a timestamp file read
# on every call), never waited for.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;

use ConsentTest qw(mint_token keys_line config_test);

my $LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
plan skip_all => "libfaketime not installed ($LIB)" unless -e $LIB;

my $key  = 'p' x 32;
my $json = JSON::PP->new;
my $now  = time;
my $EFFECTIVE = int($now) + 10 * 86400;

# every process this test starts reads its time from this file
my $clock = "/tmp/consent-clock-$$";
sub set_clock {
    my ($offset) = @_;
    open my $fh, '>', "$clock.new" or die "$clock: $!";
    print $fh "+${offset}s\n";
    close $fh;
    rename "$clock.new", $clock or die "$clock: $!";
}
set_clock(0);
END { unlink $clock }

# nginx alone: its timers run on the monotonic clock, left alone.  An
# ASan build wants its runtime first, and libfaketime is before it here.
# ASan's allocator reads the clock inside free() to pace returning memory
# to the system; libfaketime frees while it holds its lock (re-reading the
# clock file), so that deadlocks nginx at random (libfaketime #365/#391):
# not pacing the release removes the call.
my %FAKE = (
    LD_PRELOAD                   => $LIB,
    FAKETIME_TIMESTAMP_FILE      => $clock,
    FAKETIME_NO_CACHE            => 1,
    FAKETIME_DONT_FAKE_MONOTONIC => 1,
    ($ENV{ASAN_OPTIONS}
        ? (ASAN_OPTIONS => "$ENV{ASAN_OPTIONS}:verify_asan_link_order=0"
            . ':allocator_release_to_os_interval_ms=-1')
        : ()),
);

my $t = ConsentTest->new(
    name  => 'policy-next',
    redis => 1,
    nginx_env => \%FAKE,
    files => { keys => keys_line('k1', $key) },
    main  => join("\n", map { "env $_;" } qw(LD_PRELOAD
        FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE
        FAKETIME_DONT_FAKE_MONOTONIC)),
    http  => <<"EOF",
    consent_rule _ga analytics google;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    consent_policy_version 4 reconsent_below=3;
    # announced here without a floor of its own: each place's current
    # floor applies from the date
    consent_policy_next 5 effective=\@$EFFECTIVE;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name strict.test;
        consent on;
        consent_region \$http_x_country;
        location = /consent {
            consent_policy_version 4 reconsent_below=4;
            consent_api;
        }
    }
EOF
    server => <<"EOF",
    consent on;
    consent_region \$http_x_country;
    consent_policy_next 5 effective=\@$EFFECTIVE reconsent_below=5;
    location = /consent { consent_api; }
    location = /later {
        consent_policy_next off;
        consent_api;
    }
    # its own version and floor, the server's announcement inherited
    location = /strict {
        consent_policy_version 4 reconsent_below=4;
        consent_api;
    }
    location / {
        %%VARS_HEADERS%%
        proxy_pass %%ORIGIN%%;
    }
EOF
);

sub api {
    my (%o) = @_;
    my @h = (['X-Country' => 'FR']);
    push @h, [Cookie => "consent=$o{token}"] if $o{token};
    push @h, [Origin => 'http://localhost'], ['Content-Type' =>
        'application/json'] if $o{body};
    return $t->get($o{path} // '/consent', method => $o{body} ? 'POST' : 'GET',
        headers => \@h, ($o{host} ? (host => $o{host}) : ()),
        ($o{body} ? (body => $o{body}) : ()));
}

sub decode { my $d = eval { $json->decode($_[0]->body) }; $d || {} }

my $v4 = mint_token('k1', $key, 'visitor-v4', 0x05, 4);
my $v3b = mint_token('k1', $key, 'visitor-v3b', 0x05, 3);
my $v3 = mint_token('k1', $key, 'visitor-v3', 0x05, 3);

# ------------------------------------------------------------ before

my $d = decode(api(token => $v4));
is($d->{current_policy_version}, 4, 'before the date: version 4 is current');
is($d->{next_policy_version}, 5, 'version 5 announced');
is($d->{next_policy_effective}, $EFFECTIVE, 'with its effective time');
is($d->{reconsent}, JSON::PP::false, 'a version 4 decision stands');
is(decode(api(token => $v3))->{reconsent}, JSON::PP::false,
    'so does a version 3 one (the current floor is 3)');
is(decode(api(path => '/later', token => $v4))->{next_policy_version}, undef,
    'consent_policy_next off: nothing announced');

# agreeing to the announced version ahead of its date
my $r = api(body => '{"purposes":["analytics"],"policy_version":5}');
is($r->status, 200, 'a choice under the announced version, before its date');
my ($v5) = map { /^consent=([^;]+)/ ? $1 : () } $r->header_all('Set-Cookie');
$r = api(body => '{"purposes":["analytics"],"policy_version":6}');
is($r->status, 400, 'a version above the announced one is refused');
like(decode($r)->{error}, qr/newer than the current policy version 4/,
    'and says why');

my $p = $t->get('/', headers => [[Cookie => "consent=$v4; _ga=1"],
    ['X-Country' => 'FR']]);
like($p->origin->{cookie}, qr/_ga=1/, 'before the date: analytics kept');

# ------------------------------------------------------------ after

set_clock($EFFECTIVE - int($now) + 3600);

# the next request's time is the new one: no reload, no wait
$d = decode(api(token => $v4));
is($d->{current_policy_version}, 5, 'after the date: version 5 is current');
is($d->{next_policy_version}, undef, 'nothing announced any more');
is($d->{reconsent}, JSON::PP::true,
    'a version 4 decision is below the new floor: asked again');
is(decode(api(token => $v5))->{reconsent}, JSON::PP::false,
    'one given under version 5 ahead of the date stands');

$p = $t->get('/', headers => [[Cookie => "consent=$v4; _ga=1"],
    ['X-Country' => 'FR']]);
is($p->var('source'), 'default', 'after the date: the old decision is none');
unlike($p->origin->{cookie}, qr/_ga/, 'analytics refused until asked again');

is(decode(api(path => '/later', token => $v4))->{current_policy_version}, 4,
    'a location with consent_policy_next off keeps version 4');

# the announcement's own floor (5) applies everywhere it is inherited
is(decode(api(path => '/strict', token => $v4))->{reconsent}, JSON::PP::true,
    'a location with its own floor: the announced floor applies after');

# one without a floor of its own: the place's current floor (4 here, not
# http's 3) decides from the date
$d = decode(api(host => 'strict.test', token => $v4));
is($d->{current_policy_version}, 5, 'another server: version 5 is current');
is($d->{reconsent}, JSON::PP::false, 'its floor is 4: a v4 decision stands');
is(decode(api(host => 'strict.test', token => $v3b))->{reconsent},
    JSON::PP::true, 'and a v3 one is asked again (not the http floor 3)');

$r = api(body => '{"purposes":["analytics"],"policy_version":4}');
is($r->status, 400, 'a choice under version 4 is below the new floor');

# back before the date (a clock set back): version 4 again
set_clock(0);
is(decode(api(token => $v4))->{current_policy_version}, 4,
    'the clock back before the date: version 4 again');

$t->stop;

# ------------------------------------------------------------ errors

for my $c (
    ['consent_policy_next 3 effective=2027-01-01;', qr/is not above/],
    ['consent_policy_next 5;', qr/needs effective=DATE/],
    ['consent_policy_next 5 effective=2027-13-01;', qr/invalid "effective=/],
    ['consent_policy_next 5 effective=01/01/2027;', qr/invalid "effective=/],
    ['consent_policy_next 5 effective=2027-02-31;', qr/invalid "effective=/],
    ['consent_policy_next 5 effective=2027-04-31;', qr/invalid "effective=/],
    ['consent_policy_next 5 effective=2027-02-29;', qr/invalid "effective=/],
    ['consent_policy_next 5 effective=2027-01-01T24:00:00Z;',
        qr/invalid "effective=/],
    ['consent_policy_next 5 effective=@-5;', qr/invalid "effective=/],
    ['consent_policy_next 5 effective=2027-01-01 reconsent_below=6;',
        qr/no greater than the policy version/],
    ['consent_policy_next 5 effective=2027-01-01T09:00:00Z; '
        . 'consent_policy_next 6 effective=2028-01-01;', qr/is duplicate/],
) {
    my ($rc, $out) = config_test(
        http => "consent_policy_version 4;\n$c->[0]");
    isnt($rc, 0, "nginx -t refuses: $c->[0]");
    like($out, $c->[1], "and says why: $c->[0]");
}

my ($rc, $out) = config_test(http => "consent_policy_version 4;\n"
    . 'consent_policy_next 5 effective=2027-01-01T09:00:00Z;');
is($rc, 0, 'a date and time in UTC') or diag $out;
($rc, $out) = config_test(http => "consent_policy_version 4;\n"
    . 'consent_policy_next 5 effective=2028-02-29;');
is($rc, 0, 'a leap day') or diag $out;

# a location raising its version past an inherited announcement is told
($rc, $out) = config_test(http => "consent_policy_version 4;\n"
    . 'consent_policy_next 5 effective=2028-02-29;',
    extra => 'location /x { consent_policy_version 5; }');
isnt($rc, 0, 'an inherited announcement not above a location\'s version');
like($out, qr/here or inherited.*consent_policy_next off/,
    'and says what to do');

done_testing();
