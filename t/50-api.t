#!/usr/bin/perl
# consent_api: GET the decision, POST a choice (JSON, form, chunked), DELETE
# to withdraw; the record, the receipt and the invalidation in Redis; the
# signed cookie only once Redis confirmed; 400/403/405 naming what is
# wrong; 503 with nothing set when Redis refuses writes or is gone; policy
# versions and re-consent; vendor overrides switched at run time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);

use ConsentTest qw(mint_token keys_line repo_root time_scale);

my $key = 'k' x 32;
my $json = JSON::PP->new;

my $t = ConsentTest->new(
    name  => 'api',
    redis => 1,
    h2    => 1,
    files => { keys => keys_line('k1', $key) },
    http  => <<'EOF',
    consent_rule _ga analytics Google_Analytics;
    consent_rule _fbp advertising Meta;
    consent_rule pref functional site;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    consent_zone zone=consent:1m ttl=60s;
    consent_receipts retain=400d ip=hash;
    consent_policy_version 3 reconsent_below=2;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $http_x_account trusted;
    location = /consent { consent_api; }
    location = /consent-untrusted {
        consent_subject $http_x_account;
        consent_api;
    }
    location / {
        %%VARS_HEADERS%%
        add_header X-C-Policy-Version "$consent_policy_version" always;
        proxy_pass %%ORIGIN%%;
    }
EOF
);

my $origin = 'http://localhost';

sub api {
    my (%o) = @_;
    my @h = @{ $o{headers} || [] };
    push @h, ['X-Country' => $o{country} // 'FR'];
    push @h, [Cookie => $o{cookie}] if defined $o{cookie};
    push @h, [Origin => $o{origin} // $origin]
        if ($o{method} || 'GET') ne 'GET' && !$o{no_origin};
    push @h, ['Content-Type' => $o{type} // 'application/json']
        if defined $o{body} && !$o{no_type};
    return $t->get('/consent', method => $o{method} || 'GET',
        headers => \@h, (defined $o{body} ? (body => $o{body}) : ()));
}

sub decode {
    my ($r) = @_;
    my $d = eval { $json->decode($r->body) };
    return $d || {};
}

sub consent_cookie {
    my ($r) = @_;
    for ($r->header_all('Set-Cookie')) {
        return $1 if /^consent=([^;]+)/;
    }
    return undef;
}

sub xlen { $t->redis_cmd(XLEN => 'consent:log') }

sub receipts {
    my ($subject) = @_;
    my $all = $t->redis_cmd(XRANGE => 'consent:log', '-', '+');
    my @r;
    for my $e (@$all) {
        my %f = @{ $e->[1] };
        push @r, \%f if !defined $subject || $f{subject} eq $subject;
    }
    return @r;
}

sub visit {
    my ($cookie, %o) = @_;
    return $t->get('/', headers => [
        [Cookie => "$cookie; _ga=1; _fbp=2"],
        ['X-Country' => $o{country} || 'FR'],
        @{ $o{headers} || [] },
    ]);
}

# ------------------------------------------------------------ GET, no state

my $r = api();
is($r->status, 200, 'GET answers');
like($r->header('Content-Type'), qr{^application/json}, 'as JSON');
is($r->header('Cache-Control'), 'no-store', 'never cached');
is(scalar $r->header_all('Set-Cookie'), 0, 'GET sets no cookie');
my $d = decode($r);
is_deeply($d, {
    subject => undef, purposes => ['necessary'],
    available => [qw(necessary functional analytics advertising
        personalization sharing)],
    policy_version => undef, current_policy_version => 3,
    reconsent => JSON::PP::true, source => 'default', regime => 'opt_in',
    region => 'FR', gpc => JSON::PP::false, updated => undef,
    next_policy_version => undef, next_policy_effective => undef,
    vendors_refused => [],
}, 'GET: no decision yet, the visitor is to be asked');

$d = decode(api(country => "J\"P\\\x01"));
is($d->{region}, "J\"P\\\x01", 'a region with quotes and control bytes '
    . 'round-trips as valid JSON');

# ------------------------------------------------------------ POST JSON

my $before = time;
$r = api(method => 'POST',
    body => '{"purposes": ["analytics"], "policy_version": 3}');
is($r->status, 200, 'POST JSON records a choice');
$d = decode($r);
my $sub = $d->{subject} // '';
like($sub, qr/^[A-Za-z0-9_-]{22}$/, 'a new random subject id');
is_deeply($d->{purposes}, [qw(necessary analytics)], 'the new purposes');
is($d->{policy_version}, 3, 'under the current policy');
ok(!$d->{reconsent}, 'not to be asked again');
is($d->{source}, 'redis', 'recorded in Redis');
cmp_ok($d->{updated}, '>=', int $before, 'updated now');

my ($sc) = grep { /^consent=/ } $r->header_all('Set-Cookie');
like($sc // '', qr/^consent=1\.k1\.\Q$sub\E\.00000005\.3\.\d+\.[A-Za-z0-9_-]+; /,
    'a signed cookie for the subject with analytics and version 3');
like($sc // '', qr/; Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly$/,
    'cookie attributes');
unlike($sc // '', qr/[\r\n\0]/, 'no control bytes in the cookie');
my $cookie = "consent=" . consent_cookie($r);

my $rec = $t->redis_cmd(HGETALL => "consent:s:$sub");
my %rec = @{ $rec || [] };
is($rec{p}, 'analytics', 'record: p lists the purposes');
is($rec{v}, 3, 'record: v');
cmp_ok($rec{t}, '>=', int $before, 'record: t');
is($rec{src}, 'api', 'record: src');
is($rec{gpc}, 0, 'record: gpc');

my @rc = receipts($sub);
is(scalar @rc, 1, 'one receipt');
is($rc[0]{action}, 'grant', 'receipt: action');
is($rc[0]{purposes}, 'analytics', 'receipt: purposes');
is($rc[0]{v}, 3, 'receipt: policy version');
is($rc[0]{region}, 'FR', 'receipt: region');
is($rc[0]{regime}, 'opt_in', 'receipt: regime');
is($rc[0]{gpc}, 0, 'receipt: gpc');
like($rc[0]{ip} // '', qr/^[0-9a-f]{32}$/, 'receipt: a keyed hash of the '
    . 'address (ip=hash)');
ok(!grep({ /127\.0\.0\.1/ } values %{ $rc[0] }), 'no address in the clear');

# the same receipt as an operator reads it for a disclosure request
SKIP: {
    my $ctl = repo_root() . '/build/consentctl';
    skip "$ctl not built", 6 unless -x $ctl;
    my $port = $t->redis_port;
    my @lines = `$ctl -p $port receipts $sub`;
    is($? >> 8, 0, 'consentctl receipts: exit 0');
    is(scalar @lines, 1, 'consentctl receipts: one JSON line');
    my $j = eval { $json->decode($lines[0] // '') } || {};
    is($j->{subject}, $sub, 'consentctl receipts: the subject');
    is($j->{action}, 'grant', 'consentctl receipts: the action');
    is_deeply([@$j{qw(purposes v src region)}], ['analytics', 3, 'api', 'FR'],
        'consentctl receipts: purposes, version, source, region');
    like($j->{id} // '', qr/^\d+-\d+$/, 'consentctl receipts: the stream id');
}

# enforcement on the very next request

$r = visit($cookie);
is($r->origin->{cookie}, "$cookie; _ga=1", 'next request: analytics kept, '
    . 'advertising stripped');
like($r->var('source'), qr/^(cache|redis)$/, 'decided by the record');
is($r->header('X-C-Policy-Version'), 3, '$consent_policy_version');

$d = decode(api(cookie => $cookie));
is($d->{subject}, $sub, 'GET with the cookie: the subject');
is_deeply($d->{purposes}, [qw(necessary analytics)], 'GET: its purposes');
ok(!$d->{reconsent}, 'GET: nothing to ask');

# ------------------------------------------------------------ POST form

$r = api(method => 'POST', cookie => $cookie,
    type => 'application/x-www-form-urlencoded; charset=UTF-8',
    body => 'purposes=analytics%2Cadvertising&policy_version=3');
is($r->status, 200, 'POST form');
is(decode($r)->{subject}, $sub, 'the same subject');
is($t->redis_cmd(HGET => "consent:s:$sub", 'p'), 'analytics,advertising',
    'form choice recorded');
$cookie = "consent=" . consent_cookie($r);
is(visit($cookie)->origin->{cookie}, "$cookie; _ga=1; _fbp=2",
    'advertising now kept');

# ------------------------------------------------------------ chunked body

$r = $t->raw("POST /consent HTTP/1.1\r\nHost: localhost\r\n"
    . "Origin: $origin\r\nContent-Type: application/json\r\n"
    . "Cookie: $cookie\r\nTransfer-Encoding: chunked\r\n"
    . "Connection: close\r\n\r\n"
    . "6\r\n{\"purp\r\n15\r\noses\": [\"analytics\"]}\r\n0\r\n\r\n");
is($r->status, 200, 'a chunked body is read whole');
is($t->redis_cmd(HGET => "consent:s:$sub", 'p'), 'analytics',
    'chunked choice recorded');
$cookie = "consent=" . consent_cookie($r);

# ------------------------------------------------------------ DELETE

$r = api(method => 'DELETE',
    cookie => "$cookie; _ga=GA1.2.3; _fbp=fb.1; pref=x; session=abc");
is($r->status, 200, 'DELETE withdraws');
$d = decode($r);
is_deeply($d->{purposes}, ['necessary'], 'only necessary left');
is($t->redis_cmd(HGET => "consent:s:$sub", 'p'), '', 'record: p empty');
my @sc = $r->header_all('Set-Cookie');
ok(scalar(grep { /^_ga=; Max-Age=0; Path=\/$/ } @sc), '_ga expired');
ok(scalar(grep { /^_fbp=; Max-Age=0; Path=\/$/ } @sc), '_fbp expired');
ok(scalar(grep { /^pref=; Max-Age=0; Path=\/$/ } @sc),
    'functional too (withdrawal is of every optional purpose)');
ok(!grep({ /^(session|consent)=;/ } @sc),
    'an unknown cookie, and the consent cookie, are not expired');
ok(scalar(grep { /^consent=1\.k1\.\Q$sub\E\.00000001\.3\./ } @sc),
    'a fresh cookie with only necessary');
$cookie = "consent=" . consent_cookie($r);
@rc = receipts($sub);
is($rc[-1]{action}, 'withdraw', 'receipt: withdraw');
is($rc[-1]{purposes}, '', 'receipt: no purposes');
is(visit($cookie)->origin->{cookie}, $cookie,
    'withdrawal enforced on the next proxied request');

# ------------------------------------------------------------ GPC

$r = api(method => 'POST', cookie => $cookie,
    headers => [['Sec-GPC' => '1']],
    body => '{"purposes":["analytics","advertising","sharing"]}');
is($r->status, 200, 'POST with Sec-GPC');
$d = decode($r);
is_deeply($d->{purposes}, [qw(necessary analytics)],
    'GPC: advertising and sharing stay off in effect');
ok($d->{gpc}, 'gpc: true');
is((receipts($sub))[-1]{gpc}, 1, 'receipt notes GPC');
is($d->{policy_version}, 3, 'no version given: the current one');
$cookie = "consent=" . consent_cookie($r);

# ------------------------------------------------------------ IAB strings

$r = api(method => 'POST',
    cookie => "$cookie; euconsent-v2=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAA"
        . "; __gpp=DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
        . "; usprivacy=1YNN",
    body => '{"purposes":[]}');
is($r->status, 200, 'POST with a CMP\'s strings around');
my $last = (receipts($sub))[-1];
is($last->{tcf}, 'CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAA', 'receipt: TCF');
is($last->{gpp}, 'DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA',
    'receipt: GPP');
is($last->{usp}, '1YNN', 'receipt: US Privacy');
$cookie = "consent=" . consent_cookie($r);

# ------------------------------------------------------------ bad input

my $n = xlen();
my @bad = (
    [400, 'purposes', qr/unknown purpose "spying"/,
        body => '{"purposes":["analytics","spying"]}'],
    [400, 'purposes', qr/array/, body => '{"purposes":"analytics"}'],
    [400, 'purposes', qr/missing/, body => '{"policy_version":3}'],
    [400, 'policy_version', qr/integer/,
        body => '{"purposes":[],"policy_version":"3"}'],
    [400, 'policy_version', qr/newer than the current policy version 3/,
        body => '{"purposes":[],"policy_version":4}'],
    [400, 'policy_version', qr/below the re-consent floor 2/,
        body => '{"purposes":[],"policy_version":1}'],
    [400, 'body', qr/invalid JSON at byte \d+/, body => '{"purposes":['],
    [400, 'body', qr/invalid JSON/, body => "{\"purposes\":[]}\0"],
    [400, 'body', qr/larger than 16384/,
        body => '{"purposes":[],"x":"' . ('a' x 17000) . '"}'],
    [400, 'Content-Type', qr/application\/json/, type => 'text/plain',
        body => '{"purposes":[]}'],
    [400, 'Content-Type', qr/missing/, no_type => 1,
        body => '{"purposes":[]}'],
    [400, 'purposes', qr/unknown purpose/,
        type => 'application/x-www-form-urlencoded', body => 'purposes=x'],
    [403, 'Origin', qr/cross-site/, origin => 'https://evil.example',
        body => '{"purposes":["advertising"]}'],
    [403, 'Origin', qr/cross-site/, origin => 'null',
        body => '{"purposes":["advertising"]}'],
    [403, 'Origin', qr/cross-site/, origin => 'http://localhost.evil',
        body => '{"purposes":["advertising"]}'],
    [403, 'Origin', qr/cross-site/, no_origin => 1,
        headers => [['Sec-Fetch-Site' => 'cross-site']],
        body => '{"purposes":["advertising"]}'],
    [403, 'Origin', qr/cross-site/, method => 'DELETE',
        origin => 'https://evil.example'],
    [405, 'method', qr/GET, POST or DELETE/, method => 'PUT',
        body => '{"purposes":[]}'],
);
for my $b (@bad) {
    my ($status, $field, $re, %o) = @$b;
    my $what = "$status $field" . ($o{body} ? ' ' . substr($o{body}, 0, 30)
        : '') . ($o{origin} ? " from $o{origin}" : '');
    $r = api(method => 'POST', cookie => $cookie, %o);
    is($r->status, $status, "bad: $what");
    my $e = decode($r);
    is($e->{field}, $field, "bad: names $field");
    like($e->{error} // '', $re, "bad: says why ($what)");
    is(scalar $r->header_all('Set-Cookie'), 0, "bad: no cookie ($what)");
}
is($r->header('Allow'), 'GET, HEAD, POST, DELETE', '405 says what is allowed');
is(xlen(), $n, 'nothing recorded for any bad request');

# same-site and same-origin fetches, and clients that are not browsers
for my $h ([['Sec-Fetch-Site' => 'same-origin']],
           [['Sec-Fetch-Site' => 'same-site']],
           [['Sec-Fetch-Site' => 'none']]) {
    $r = api(method => 'POST', cookie => $cookie, no_origin => 1,
        headers => $h, body => '{"purposes":[]}');
    is($r->status, 200, "allowed: Sec-Fetch-Site $h->[0][1]");
}
$r = api(method => 'POST', cookie => $cookie, no_origin => 1,
    body => '{"purposes":[]}');
is($r->status, 200, 'allowed: no Origin, no Sec-Fetch-Site (not a browser)');
$cookie = "consent=" . consent_cookie($r);

# ------------------------------------------------------------ operator subject

$r = api(method => 'POST', headers => [['X-Account' => 'acct-42@example.com']],
    body => '{"purposes":["functional"]}');
is($r->status, 200, 'POST for a logged-in account');
is(decode($r)->{subject}, 'acct-42@example.com', 'the account is the subject');
is($t->redis_cmd(HGET => 'consent:s:acct-42@example.com', 'p'), 'functional',
    'recorded under the account');
like(consent_cookie($r) // '', qr/^1\.k1\.[A-Za-z0-9_-]{22}\.00000003\./,
    'the cookie carries a browser id (the account id cannot go in a token)');

# a subject the client could have chosen: neither read nor written
{
    my $before = $t->redis_cmd(HGET => 'consent:s:acct-42@example.com', 'p');
    for my $m (['POST', '{"purposes":["functional","analytics"]}'],
               ['DELETE', undef], ['GET', undef]) {
        my $u = $t->get('/consent-untrusted', method => $m->[0],
            body => $m->[1], headers => [['X-Country' => 'FR'],
                ['X-Account' => 'acct-42@example.com'], [Origin => $origin],
                (defined $m->[1] ? (['Content-Type' => 'application/json'])
                                 : ())]);
        is($u->status, 403, "untrusted consent_subject: $m->[0] refused");
        like($u->body, qr/"field":"subject"/,
            "untrusted consent_subject: $m->[0] names the field");
        ok(!(grep { /^consent=/ } $u->header_all('Set-Cookie')),
            "untrusted consent_subject: $m->[0] sets no consent cookie");
        unlike($u->body, qr/acct-42/,
            "untrusted consent_subject: $m->[0] discloses nothing");
    }
    is($t->redis_cmd(HGET => 'consent:s:acct-42@example.com', 'p'), $before,
        'untrusted consent_subject: the record is untouched');

    # without the operator's value the browser's own id still works there
    my $u = $t->get('/consent-untrusted', method => 'POST',
        body => '{"purposes":["analytics"]}', headers => [
            ['X-Country' => 'FR'], [Origin => $origin],
            ['Content-Type' => 'application/json']]);
    is($u->status, 200, 'untrusted location, no consent_subject value: 200');
}

# ------------------------------------------------------------ policy versions

# a decision under version 1 is below the floor: no decision
$t->redis_cmd(HSET => 'consent:s:old1', p => 'analytics,advertising',
    v => 1, t => 1700000000);
my $old = 'consent=' . mint_token('k1', $key, 'old1', 0x0f, 1);
$r = visit($old);
is($r->var('purposes'), 'necessary', 'a record below the floor counts as none');
is($r->var('source'), 'default', 'the regime default decides');
is($r->header('X-C-Policy-Version'), 1, 'yet the old version shows');
is($r->origin->{cookie}, $old, 'tracking cookies stripped');
$d = decode(api(cookie => $old));
ok($d->{reconsent}, 'GET: reconsent');
is($d->{policy_version}, 1, 'GET: the stale version');
$r = api(method => 'POST', cookie => $old,
    body => '{"purposes":["analytics"],"policy_version":3}');
is($r->status, 200, 're-consent under the new version');
my $new = 'consent=' . consent_cookie($r);
$r = visit($new);
is($r->var('purposes'), 'necessary,analytics', 're-consented: analytics on');
is($r->header('X-C-Policy-Version'), 3, 'and the new version shows');

# a version 2 decision still stands (floor is 2)
$t->redis_cmd(HSET => 'consent:s:v2', p => 'analytics', v => 2, t => 1);
$r = visit('consent=' . mint_token('k1', $key, 'v2', 0x05, 2));
is($r->var('purposes'), 'necessary,analytics', 'version 2 is not below 2');

# ------------------------------------------------------------ retention

# one entry a node, so that "MINID ~" trims exactly; stream ids only grow,
# so the ancient entry goes into a fresh stream
$t->redis_cmd(CONFIG => 'SET', 'stream-node-max-entries', 1);
$t->redis_cmd(DEL => 'consent:log');
$t->redis_cmd(XADD => 'consent:log', '1000-0', subject => 'ancient',
    action => 'grant');
ok(scalar(grep { $_->{subject} eq 'ancient' } receipts()), 'an ancient receipt');
$r = api(method => 'POST', cookie => $cookie, body => '{"purposes":[]}');
is($r->status, 200, 'a write');
ok(!grep({ $_->{subject} eq 'ancient' } receipts()),
    'receipts older than retain= are trimmed by the next write');
is(scalar(receipts($sub)), 1, 'the new receipt kept');
$t->redis_cmd(CONFIG => 'SET', 'stream-node-max-entries', 100);

# ------------------------------------------------------------ vendor overrides

my $switched = qr/consent rules: \d+ of 3 vendors switched off/;

my $fresh = 'consent=' . mint_token('k1', $key, 'nobody', 0x01, 3);
is(visit($fresh)->origin->{cookie}, $fresh, 'before: _ga and _fbp stripped');
my $seen = $t->error_log_count($switched);
$t->redis_cmd(SADD => 'consent:rules:disabled', 'google_analytics');
$t->redis_cmd(PUBLISH => 'consent:inval', '*rules');
ok($t->wait_error_log($switched, $seen), 'the worker read the overrides');
ok($t->error_log_count(qr/consent rules: 1 of 3 vendors switched off/),
    'one vendor off, any case of its name');
is(visit($fresh)->origin->{cookie}, "$fresh; _ga=1",
    'a vendor switched off in Redis: its cookie is kept');
$seen = $t->error_log_count($switched);
$t->redis_cmd(SREM => 'consent:rules:disabled', 'google_analytics');
$t->redis_cmd(PUBLISH => 'consent:inval', '*rules');
ok($t->wait_error_log($switched, $seen), 'switched on again');
is(visit($fresh)->origin->{cookie}, $fresh, 'stripped again');

# garbage in the overrides key changes nothing
$t->redis_cmd(SET => 'consent:rules:disabled', 'x');
$t->redis_cmd(PUBLISH => 'consent:inval', '*rules');
ok($t->wait_error_log(qr/rules:disabled is not a set/, 0), 'a wrong type is logged');
is(visit($fresh)->origin->{cookie}, $fresh, 'and ignored');
$t->redis_cmd(DEL => 'consent:rules:disabled');

# ------------------------------------------------------------ Redis refuses

$n = xlen();
my $p_before = $t->redis_cmd(HGET => "consent:s:$sub", 'p');
$t->redis_cmd(CONFIG => 'SET', 'min-replicas-to-write', 1);
$r = api(method => 'POST', cookie => $cookie,
    body => '{"purposes":["advertising"]}');
is($r->status, 503, 'Redis refusing writes: 503');
is(decode($r)->{error}, 'consent store unavailable', 'says so');
is(scalar $r->header_all('Set-Cookie'), 0, 'and sets no cookie');
$r = api(method => 'DELETE', cookie => "$cookie; _ga=1");
is($r->status, 503, 'DELETE too');
is(scalar $r->header_all('Set-Cookie'), 0, 'no cookie, no expiry');
$t->redis_cmd(CONFIG => 'SET', 'min-replicas-to-write', 0);
is(xlen(), $n, 'no receipt written');
is($t->redis_cmd(HGET => "consent:s:$sub", 'p'), $p_before,
    'the record unchanged');
ok($t->error_log_grep(qr/consent record: redis refused the write/),
    'the refusal is logged');

$r = api(method => 'POST', cookie => $cookie, body => '{"purposes":[]}');
is($r->status, 200, 'writable again: recorded');

# HTTP/2: the body arrives in DATA frames; Origin carries the port

my $h2 = $t->h2_port;

sub curl_h2 {
    my (@args) = @_;
    open my $fh, '-|', 'curl', '-s', '-m', '10', '--http2-prior-knowledge',
        '-D', '-', @args or die "curl: $!";
    local $/;
    my $o = <$fh>;
    close $fh;
    return $o // '';
}

my $out = curl_h2('-X', 'POST', '-H', 'Content-Type: application/json',
    '-H', "Origin: http://127.0.0.1:$h2", '-H', 'X-Country: FR',
    '-H', "Cookie: $cookie", '--data-binary', '{"purposes":["analytics"]}',
    "http://127.0.0.1:$h2/consent");
like($out, qr{^HTTP/2 200}, 'POST over HTTP/2');
like($out, qr{^set-cookie: consent=1\.k1\.}mi, 'with a fresh cookie');
like($out, qr{"purposes":\["necessary","analytics"\]}, 'and the new state');
# an early answer ends with RST_STREAM(NO_ERROR), which curl reports as
# an error before showing the response: nghttp shows the frames
$t->write_file('body.json', '{"purposes":[]}');
open my $ng, '-|', 'nghttp', '-v', '--timeout=10', '-d', $t->dir . '/body.json',
    '-H', 'origin: http://127.0.0.1:1', '-H', 'content-type: application/json',
    "http://127.0.0.1:$h2/consent" or die "nghttp: $!";
$out = do { local $/; <$ng> } // '';
close $ng;
like($out, qr{:status: 403}, 'another port is another origin');


# Redis slower than timeout=: 503 in time, and nothing hangs

# writes wait while reads go on; CLIENT PAUSE answers once it holds
is($t->redis_cmd(CLIENT => 'PAUSE', 1500, 'WRITE'), 'OK', 'Redis pauses writes');
my $t0 = time;
$r = api(method => 'POST', cookie => $cookie,
    body => '{"purposes":["advertising"]}');
is($r->status, 503, 'Redis asleep: 503');
is(scalar $r->header_all('Set-Cookie'), 0, 'no cookie');
cmp_ok(time - $t0, '<', 1.4 * time_scale(), 'answered within the timeout and a margin');

# a client that leaves while its write is pending frees everything
my $gone = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $t->port, Proto => 'tcp') or die "connect: $!";
my $body = '{"purposes":[]}';
print $gone "POST /consent HTTP/1.1\r\nHost: localhost\r\n"
    . "Content-Type: application/json\r\nContent-Length: "
    . length($body) . "\r\n\r\n$body";
close $gone;

my $ok = 0;
for (1 .. 200) {
    $r = api(method => 'POST', cookie => $cookie,
        body => '{"purposes":["analytics"]}');
    if ($r->status == 200) { $ok = 1; last }
    sleep 0.05;
}
ok($ok, 'after the pause, writes work again');
$cookie = 'consent=' . consent_cookie($r);

# Redis gone: answered at once, nothing claimed

$t->stop_redis;
$t0 = time;
$r = api(method => 'POST', cookie => $cookie,
    body => '{"purposes":["analytics"]}');
is($r->status, 503, 'Redis down: 503');
is(scalar $r->header_all('Set-Cookie'), 0, 'no cookie');
cmp_ok(time - $t0, '<', 2 * time_scale(), 'within the timeout and a margin');
$r = api(cookie => $cookie);
is($r->status, 200, 'GET still answers from the cookie');
like(decode($r)->{source}, qr/^(cache|cookie)$/,
    'from what this node knows: the cache, else the cookie');

$t->start_redis;
$ok = 0;
for (1 .. 200) {
    $r = api(method => 'POST', cookie => $cookie,
        body => '{"purposes":["analytics"]}');
    if ($r->status == 200) { $ok = 1; last }
    sleep 0.05;
}
ok($ok, 'writes work again once Redis is back, by themselves');
is($t->redis_cmd(HGET => "consent:s:$sub", 'p'), 'analytics',
    'and are recorded');

$t->stop;
done_testing();
