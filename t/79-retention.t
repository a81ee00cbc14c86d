#!/usr/bin/perl
# Retention and withdrawal, as the privacy policies promise them:
# consent_record_ttl gives every record written an EXPIRE in the write's
# own MULTI/EXEC (renewed by each decision; "off" makes a record written
# under an earlier retention permanent again), the signed cookie issued
# with it lives no longer than it, and a decision older than the
# retention counts as none (re-consent), never as an error; receipts keep
# their own retain=.  consent_clear_site_data adds Clear-Site-Data to a
# withdrawal's answer only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;

use ConsentTest qw(mint_token keys_line config_test);

my $key  = 'r' x 32;
my $json = JSON::PP->new;
my $TTL  = 30 * 86400;

my $t = ConsentTest->new(
    name  => 'retention',
    redis => 1,
    files => { keys => keys_line('k1', $key) },
    http  => <<'EOF',
    consent_rule _ga analytics google;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    consent_zone zone=consent:1m ttl=60s;
    consent_record_ttl 30d;
    consent_receipts retain=400d;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    location = /consent {
        consent_api;
        consent_clear_site_data cookies storage;
    }
    location = /consent-storage {
        consent_api;
        consent_clear_site_data storage;
    }
    location = /consent-plain { consent_api; }
    location / {
        %%VARS_HEADERS%%
        proxy_pass %%ORIGIN%%;
    }
EOF
);

sub api {
    my ($path, %o) = @_;
    my @h = (['X-Country' => 'FR'], [Origin => 'http://localhost']);
    push @h, [Cookie => $o{cookie}] if $o{cookie};
    push @h, ['Content-Type' => 'application/json'] if $o{body};
    return $t->get($path, method => $o{method} || 'POST', headers => \@h,
        ($o{body} ? (body => $o{body}) : ()));
}

sub decode { my $d = eval { $json->decode($_[0]->body) }; $d || {} }

sub consent_cookie {
    for ($_[0]->header_all('Set-Cookie')) {
        return ($1, $2) if /^consent=([^;]+);.*Max-Age=(\d+)/;
    }
    return;
}

# ------------------------------------------------------------ retention

my $r = api('/consent-plain', body => '{"purposes":["analytics"]}');
is($r->status, 200, 'a choice');
my $id = decode($r)->{subject};
my $ttl = $t->redis_cmd(TTL => "consent:s:$id");
ok($ttl > $TTL - 60 && $ttl <= $TTL, "the record expires in 30d ($ttl s)");
my ($tok, $age) = consent_cookie($r);
is($age, $TTL, 'the cookie lives no longer than the record');
is($t->redis_cmd(TTL => 'consent:log'), -1, 'receipts keep their own '
    . 'retention: the stream has no TTL');

# a later decision renews it from then
$t->redis_cmd(EXPIRE => "consent:s:$id", 100);
$r = api('/consent-plain', cookie => "consent=$tok",
    body => '{"purposes":[]}');
is($r->status, 200, 'a later choice');
$ttl = $t->redis_cmd(TTL => "consent:s:$id");
ok($ttl > $TTL - 60, 'renews the retention from the new decision');

# a decision older than the retention counts as none: its record is gone
# (Redis expired it) and its cookie is past its age
my $old = mint_token('k1', $key, 'old-subject', 0x05, 1, time - $TTL - 60);
$r = $t->get('/', headers => [[Cookie => "consent=$old; _ga=1"],
    ['X-Country' => 'FR']]);
is($r->status, 200, 'an expired decision is no error');
is($r->var('source'), 'default', 'and no decision: the default stands');
unlike($r->origin->{cookie}, qr/_ga/, 'analytics refused again');
$r = $t->get('/consent-plain', headers => [[Cookie => "consent=$old"],
    ['X-Country' => 'FR']]);
is(decode($r)->{reconsent}, JSON::PP::true, 'the API asks again');

# one within the retention still stands from its cookie
my $young = mint_token('k1', $key, 'young-subject', 0x05, 1,
    time - $TTL + 3600);
$r = $t->get('/', headers => [[Cookie => "consent=$young; _ga=1"],
    ['X-Country' => 'FR']]);
is($r->var('source'), 'cookie', 'a decision within the retention stands');

# ------------------------------------------------------------ off

$t->reload(http => <<'EOF');
    consent_rule _ga analytics google;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    consent_zone zone=consent:1m ttl=60s;
    consent_record_ttl off;
EOF
$t->redis_cmd(EXPIRE => "consent:s:$id", 1000);
$r = api('/consent-plain', cookie => "consent=$tok",
    body => '{"purposes":["analytics"]}');
is($r->status, 200, 'a choice with consent_record_ttl off');
is($t->redis_cmd(TTL => "consent:s:$id"), -1,
    'the record written under a retention is kept again (PERSIST)');
(undef, $age) = consent_cookie($r);
is($age, 395 * 86400, 'and the cookie has its own max_age');

# ------------------------------------------------------------ clear

$r = api('/consent', body => '{"purposes":["analytics"]}');
ok(!defined $r->header('Clear-Site-Data'), 'a choice clears nothing');
($tok) = consent_cookie($r);
$r = api('/consent', method => 'DELETE', cookie => "consent=$tok");
is($r->status, 200, 'a withdrawal');
is($r->header('Clear-Site-Data'), '"cookies", "storage"',
    'its answer clears the site\'s cookies and storage');
$r = api('/consent-storage', method => 'DELETE', cookie => "consent=$tok");
is($r->header('Clear-Site-Data'), '"storage"', 'storage only');
$r = api('/consent-plain', method => 'DELETE', cookie => "consent=$tok");
ok(!defined $r->header('Clear-Site-Data'), 'off by default');

$t->stop;

# ------------------------------------------------------------ errors

for my $c (
    ['consent_record_ttl 0;', qr/invalid value "0"/],
    ['consent_record_ttl soon;', qr/invalid value "soon"/],
    ['consent_record_ttl 101y;', qr/invalid value "101y" \(a time up to 100y/],
    ['consent_record_ttl 1d; consent_record_ttl 2d;', qr/is duplicate/],
) {
    my ($rc, $out) = config_test(http => $c->[0]);
    isnt($rc, 0, "nginx -t refuses: $c->[0]");
    like($out, $c->[1], "and says why: $c->[0]");
}
for my $c (
    ['consent_clear_site_data everything;', qr/invalid value "everything"/],
    ['consent_clear_site_data cookies off;', qr/invalid value "off"/],
    ['consent_clear_site_data off; consent_clear_site_data cookies;',
        qr/is duplicate/],
) {
    my ($rc, $out) = config_test(http => '', extra => $c->[0]);
    isnt($rc, 0, "nginx -t refuses: $c->[0]");
    like($out, $c->[1], "and says why: $c->[0]");
}

done_testing();
