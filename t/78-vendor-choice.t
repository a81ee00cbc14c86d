#!/usr/bin/perl
# Vendors refused one by one: the consent API takes "vendors_refused"
# (JSON and form; unknown names 400 naming the field; vendors of refused
# purposes dropped; at most 128), the record keeps them ("vr"), the
# receipt shows them, the signed cookie carries them (a version 2 token,
# hashes of the names; version 1 when none), GET /consent shows them, and
# every request of the visitor, whichever source decides (Redis, the shared
# cache, the cookie alone), strips the refused vendor's cookies, drops its
# Set-Cookie and takes its hosts out of the Content-Security-Policy though
# its purpose is granted.  Visitors with different refusals alternate on
# one keep-alive connection and over HTTP/2; a reload that renumbers the
# vendors keeps each refusal on its vendor; forged and malformed tokens
# decide nothing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Digest::SHA ();

use ConsentTest qw(mint_token mint_token_vendors vendor_hash keys_line b64url);

my $key  = 'v' x 32;
my $json = JSON::PP->new;

# the vendors, their cookies, and 130 more advertising ones for the limit
my $MANY = 130;

sub rules {
    my ($first) = @_;
    my $r = $first // '';
    $r .= <<'EOF';
@vendor criteo name="Criteo" purposes=advertising domains=criteo.com,criteo.net
cto_bundle   advertising   criteo
@vendor yahoo_japan name="Yahoo! JAPAN" purposes=advertising domains=yimg.jp
B            advertising   yahoo_japan
@vendor hotjar name="Hotjar" purposes=analytics domains=hotjar.com
_hjid        analytics     hotjar
@vendor both purposes=analytics,advertising domains=both.example
both_id      analytics     both
@vendor mycmp purposes=necessary domains=cmp.example
cmp_id       necessary     mycmp
@vendor odd purposes=analytics
odd_ad       advertising   odd
EOF
    $r .= "\@vendor v$_ purposes=advertising\nv${_}_id advertising v$_\n"
        for 0 .. $MANY - 1;
    return $r;
}

my %files = (
    keys           => keys_line('k1', $key),
    'vendors.rules' => rules(),
);

my $t = ConsentTest->new(
    name  => 'vendor-choice',
    redis => 1,
    h2    => 1,
    files => \%files,
    http  => <<'EOF',
    consent_rules %%DIR%%/vendors.rules;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    consent_zone zone=consent:1m ttl=60s;
    consent_policy_version 2;
    log_format vc 'req=$http_x_req stripped=$consent_stripped '
                  'dropped=$consent_dropped source=$consent_source';
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    access_log %%DIR%%/access.log vc;
    client_max_body_size 64k;

    location = /consent { consent_api; }
    location = /redis-down { consent_api; }

    # the origin: what reached it, and the headers the request asks for
    location /o/ {
        consent off;
        add_header Set-Cookie $http_x_set1 always;
        add_header Set-Cookie $http_x_set2 always;
        add_header Content-Security-Policy $http_x_csp always;
        return 200 "cookie=[$http_cookie]\n";
    }

    location / {
        consent_csp on;
        proxy_pass http://127.0.0.1:%%PORT%%/o/;
        %%VARS_HEADERS%%
    }
EOF
);

my $origin = 'http://localhost';

sub api {
    my (%o) = @_;
    my @h = (['X-Country' => $o{country} // 'FR']);
    push @h, [Cookie => $o{cookie}] if defined $o{cookie};
    push @h, [Origin => $origin] if ($o{method} || 'GET') ne 'GET';
    push @h, ['Content-Type' => $o{type} // 'application/json']
        if defined $o{body};
    return $t->get('/consent', method => $o{method} || 'GET',
        headers => \@h, (defined $o{body} ? (body => $o{body}) : ()));
}

sub decode { my $d = eval { $json->decode($_[0]->body) }; $d || {} }

sub consent_cookie {
    my ($r) = @_;
    for ($r->header_all('Set-Cookie')) {
        return $1 if /^consent=([^;]+)/;
    }
    return undef;
}

sub xlen { $t->redis_cmd(XLEN => 'consent:log') }

sub last_receipt {
    my $all = $t->redis_cmd(XREVRANGE => 'consent:log', '+', '-',
        'COUNT', 1);
    return { @{ $all->[0][1] } };
}

sub hgetall {
    my %h = @{ $t->redis_cmd(HGETALL => $_[0]) || [] };
    return \%h;
}

# the cookie form of a set of vendor names
sub form {
    my %seen;
    return join '', map { b64url(substr(pack('N', $_), 1)) }
        sort { $a <=> $b } grep { !$seen{$_}++ } map { vendor_hash($_) } @_;
}

my $ALL_COOKIES = 'cto_bundle=1; B=2; _hjid=3; both_id=4; cmp_id=5; v7_id=6';

# a page view: what the origin got, in order
sub visit {
    my ($cookie, %o) = @_;
    my $r = $t->get($o{path} // '/page', headers => [
        [Cookie => "consent=$cookie; $ALL_COOKIES"],
        ['X-Country' => $o{country} // 'FR'],
        @{ $o{headers} || [] },
    ]);
    my ($got) = $r->body =~ /cookie=\[([^\]]*)\]/;
    $got //= '';
    $got =~ s/(?:^|; )consent=[^;]*//;
    $got =~ s/^; //;
    return ($r, join ',', map { (split /=/)[0] } split /; /, $got);
}

# ------------------------------------------------------------ the API

my $n0 = xlen();
my $r = api(method => 'POST', body => $json->encode({
    purposes => [qw(analytics advertising)],
    vendors_refused => [qw(hotjar criteo mycmp criteo)],
}));
is($r->status, 200, 'POST with vendors_refused');
my $d = decode($r);
is_deeply($d->{vendors_refused}, [qw(criteo hotjar)],
    'the answer shows the refused vendors (rules order), not a '
    . 'necessary-only one');
my $subject = $d->{subject};
my $rec = hgetall("consent:s:$subject");
is($rec->{vr}, 'hotjar,criteo', 'the record keeps the names, once each');
is($rec->{p}, 'analytics,advertising', 'and the purposes');
is(xlen(), $n0 + 1, 'one receipt');
is(last_receipt()->{vendors_refused}, 'hotjar,criteo',
    'the receipt shows them');

my $tok = consent_cookie($r);
like($tok, qr/^2\.k1\.\Q$subject\E\.0000000d\.2\.\d+\.([A-Za-z0-9_-]+)\./,
    'a version 2 token');
my ($vform) = $tok =~ /^2\.(?:[^.]+\.){5}([^.]+)\./;
is($vform, form(qw(criteo hotjar)), 'carrying the hashes, ascending');

# the API's own answers
$r = api(cookie => "consent=$tok");
is_deeply(decode($r)->{vendors_refused}, [qw(criteo hotjar)],
    'GET shows them');

# the vendors of a refused purpose are refused with it: not kept
$r = api(method => 'POST', cookie => "consent=$tok", body => $json->encode({
    purposes => ['analytics'], vendors_refused => [qw(criteo hotjar)],
}));
is($r->status, 200, 'POST refusing advertising and criteo');
is_deeply(decode($r)->{vendors_refused}, ['hotjar'],
    'criteo goes with its purpose, hotjar stays');
is(hgetall("consent:s:$subject")->{vr}, 'hotjar', 'the record too');

# no vendors_refused: a choice replaces the earlier one, so none
$r = api(method => 'POST', cookie => "consent=$tok", body => $json->encode({
    purposes => [qw(analytics advertising)],
}));
is_deeply(decode($r)->{vendors_refused}, [], 'a later choice without them '
    . 'refuses none');
is(hgetall("consent:s:$subject")->{vr}, '', 'the record says so');
like(consent_cookie($r), qr/^1\./, 'and the token is version 1 again');
ok(!exists last_receipt()->{vendors_refused}, 'the receipt names none');

# a vendor whose line says analytics but whose cookie rule says
# advertising: refusing it with advertising granted is kept, and its
# advertising cookie goes
$r = api(method => 'POST', body => $json->encode({
    purposes => ['advertising'], vendors_refused => ['odd'],
}));
is_deeply(decode($r)->{vendors_refused}, ['odd'],
    'a vendor refused for a purpose only its rules name is kept');
my ($vo) = $t->get('/page', headers => [
    [Cookie => 'consent=' . consent_cookie($r) . '; odd_ad=1; B=2'],
    ['X-Country' => 'FR']]);
like($vo->body, qr/cookie=\[[^\]]*B=2/, 'another advertising cookie kept');
unlike($vo->body, qr/odd_ad/, 'its advertising cookie stripped');

# a POST refusing a vendor expires its cookies the browser sent, as it
# does for the purposes it turns off
$r = api(method => 'POST', cookie => 'cto_bundle=1; B=2; _hjid=3',
    body => $json->encode({ purposes => [qw(analytics advertising)],
        vendors_refused => ['criteo'] }));
my @exp = grep { /Max-Age=0|Expires=Thu, 01 Jan 1970/ }
    $r->header_all('Set-Cookie');
ok((grep { /^cto_bundle=/ } @exp), 'the refused vendor\'s cookie expires');
ok(!(grep { /^(?:B|_hjid)=/ } @exp), 'the others do not');

# the form
$r = api(method => 'POST', type => 'application/x-www-form-urlencoded',
    body => 'purposes=advertising&vendors_refused=yahoo_japan%2Cv3'
        . '&vendors_refused=v4');
is($r->status, 200, 'form with vendors_refused');
is_deeply(decode($r)->{vendors_refused}, [qw(yahoo_japan v3 v4)],
    'form: repeated and comma lists');

# what is wrong names the field, and nothing is written
my $n1 = xlen();
for my $c (
    [qr/unknown vendor "nope"/, { purposes => [], vendors_refused => ['nope'] }],
    [qr/unknown vendor "Criteo"/,
        { purposes => ['advertising'], vendors_refused => ['Criteo'] }],
    [qr/must be an array of vendor names/,
        { purposes => [], vendors_refused => 'criteo' }],
    [qr/must be an array of vendor names/,
        { purposes => [], vendors_refused => [1] }],
    [qr/more than 128 vendors refused with their purposes granted/,
        { purposes => ['advertising'],
          vendors_refused => [map { "v$_" } 0 .. 128] }],
) {
    my ($want, $body) = @$c;
    $r = api(method => 'POST', body => $json->encode($body));
    is($r->status, 400, "400: $want");
    is(decode($r)->{field}, 'vendors_refused', "names vendors_refused: $want");
    like(decode($r)->{error}, $want, "says why: $want");
    ok(!defined consent_cookie($r), "no cookie: $want");
}
$r = api(method => 'POST', type => 'application/x-www-form-urlencoded',
    body => 'purposes=&vendors_refused=criteo,nope');
is(decode($r)->{field}, 'vendors_refused', 'form: unknown vendor 400');
is(xlen(), $n1, 'nothing recorded for any refused body');

# 129 refused but one of them with its purpose refused: 128 kept
$r = api(method => 'POST', body => $json->encode({
    purposes => ['advertising'],
    vendors_refused => [(map { "v$_" } 0 .. 127), 'hotjar'],
}));
is($r->status, 200, '128 vendors of granted purposes (and one more not)');
is(scalar @{ decode($r)->{vendors_refused} }, 128, 'all 128 kept');
my $tok128 = consent_cookie($r);
ok(length($tok128) > 255 && length($tok128) < 800,
    'a long token (' . length($tok128) . ' bytes), longer than the ring '
    . 'remembers');

# ------------------------------------------------------------ enforcement

# a visitor who granted advertising and analytics but refused criteo and
# hotjar: through Redis, then the shared cache, then the cookie alone
$r = api(method => 'POST', body => $json->encode({
    purposes => [qw(analytics advertising)],
    vendors_refused => [qw(criteo hotjar)],
}));
my $refuser = consent_cookie($r);
my $refuser_id = decode($r)->{subject};

my ($v, $kept) = visit($refuser);
is($kept, 'B,both_id,cmp_id,v7_id',
    'criteo and hotjar stripped, their purposes granted');
like($v->var('source'), qr/^(?:cache|redis)$/, 'decided by the record');
like($v->var('stripped'), qr/^(?=.*cto_bundle)(?=.*_hjid)/,
    '$consent_stripped names them');

# from Redis, the cache emptied by a write elsewhere
$t->redis_cmd(PUBLISH => 'consent:inval', $refuser_id);
$t->wait_log_entry('access.log', $v->req);
my $src = '';
for (1 .. 50) {
    ($v, $kept) = visit($refuser);
    $src = $v->var('source');
    last if $src eq 'redis';
}
is($src, 'redis', 'after an invalidation: from Redis');
is($kept, 'B,both_id,cmp_id,v7_id', 'from Redis: the same');
($v, $kept) = visit($refuser);
is($v->var('source'), 'cache', 'then from the cache');
is($kept, 'B,both_id,cmp_id,v7_id', 'from the cache: the same');

# Set-Cookie and CSP of the refused vendor
($v) = visit($refuser, headers => [
    ['X-Set1' => 'cto_bundle=x; Path=/'], ['X-Set2' => 'B=y; Path=/'],
    ['X-Csp' => "script-src 'self' https://static.criteo.net "
        . "https://s.yimg.jp https://hotjar.com; img-src https://both.example"],
]);
my @set = grep { !/^consent=/ } $v->header_all('Set-Cookie');
ok(!grep(/^cto_bundle=x/, @set), "a refused vendor's Set-Cookie dropped");
ok(grep(/^B=y/, @set), "another vendor's of the same purpose kept");
is($v->header('Content-Security-Policy'),
    "script-src 'self' https://s.yimg.jp; img-src https://both.example",
    'CSP: the refused vendors\' hosts out, the others kept');

# the cookie alone decides (no record): a version 2 token minted here
my $tok2 = mint_token_vendors('k1', $key, 'solo-1', 0x0d, ['yahoo_japan'], 2);
($v, $kept) = visit($tok2);
is($v->var('source'), 'cookie', 'no record: the cookie decides');
is($kept, 'cto_bundle,_hjid,both_id,cmp_id,v7_id',
    'the cookie\'s refusal: yahoo_japan stripped');

# the same over HTTP/2
SKIP: {
    skip 'nghttp not installed', 2
        unless grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
    my $h = $t->h2_get('/page', headers => [
        [cookie => "consent=$tok2; $ALL_COOKIES"], ['x-country' => 'FR']]);
    my ($got) = $h->body =~ /cookie=\[([^\]]*)\]/;
    unlike($got // '', qr/(?:^|; )B=/, 'HTTP/2: refused vendor stripped');
    like($got // '', qr/cto_bundle=1/, 'HTTP/2: the others kept');
}

# the long token: verified (not remembered) each time, enforced each time
for my $i (1 .. 2) {
    ($v, $kept) = visit($tok128);
    unlike($kept, qr/\bv7_id\b/, "the 128-vendor token, request $i: v7 "
        . 'stripped');
    like($kept, qr/\bcto_bundle\b/, "the 128-vendor token, request $i: "
        . 'criteo kept');
}

# old tokens are still read; forged and malformed ones decide nothing
my $tok1 = mint_token('k1', $key, 'old-1', 0x0d, 2);
($v, $kept) = visit($tok1);
is($v->var('source'), 'cookie', 'a version 1 token still decides');
is($kept, 'cto_bundle,B,_hjid,both_id,cmp_id,v7_id', 'and refuses no vendor');

(my $forged = $tok2) =~ s/^(2\.(?:[^.]+\.){5})[^.]+/$1 . form('criteo')/e;
($v, $kept) = visit($forged);
is($v->var('source'), 'default', 'vendors changed: the signature fails');
is($kept, 'cmp_id', 'and FR\'s default stands');

for my $bad (
    [unordered => form('yahoo_japan') . form('criteo')],
    [repeated  => form('criteo') x 2],
    [empty     => ''],
    [short     => substr(form('criteo'), 0, 3)],
) {
    my $p = sprintf('2.k1.bad-1.0000000d.2.%d.%s', time, $bad->[1]);
    my $sig = b64url(Digest::SHA::hmac_sha256($p, $key));
    ($v, $kept) = visit("$p.$sig");
    is($v->var('source'), 'default', "signed but $bad->[0] vendors: refused");
}

# a record written by hand (consentctl, an old writer): names it does not
# know, and ones that are not names, ignored; the others enforced
$t->redis_cmd(HSET => 'consent:s:hand-1', p => 'analytics,advertising',
    v => 2, t => time, src => 'consentctl', gpc => 0,
    vr => 'gone_vendor,criteo');
my $hand = mint_token('k1', $key, 'hand-1', 0x0d, 2);
($v, $kept) = visit($hand);
is($v->var('source'), 'redis', 'a hand-written record decides');
is($kept, 'B,_hjid,both_id,cmp_id,v7_id',
    'its known vendor enforced, the gone one matches nothing');

# a "vr" the module did not write (not names, or more than 128): what it
# meant cannot be known, so every vendor is refused, never one let through
my $warned = $t->error_log_count(qr/"vr" of more than 128 vendors/);
for my $vr ('criteo,bad name', join(',', map { "v$_" } 0 .. 128)) {
    $t->redis_cmd(HSET => 'consent:s:hand-2', p => 'analytics,advertising',
        v => 2, t => time, src => 'consentctl', gpc => 0, vr => $vr);
    $t->redis_cmd(PUBLISH => 'consent:inval', 'hand-2');
    ($v, $kept) = visit(mint_token('k1', $key, 'hand-2', 0x0d, 2));
    is($kept, 'cmp_id', 'a "vr" not understood ('
        . substr($vr, 0, 20) . '...): every vendor refused');
    is($v->var('source'), 'redis', 'and never cached: from Redis');
}
ok($t->wait_error_log(qr/"vr" of more than 128 vendors or not vendor names/,
        $warned), 'and it is logged');

# withdrawal clears them
$r = api(method => 'DELETE', cookie => "consent=$refuser");
is($r->status, 200, 'DELETE');
is(hgetall("consent:s:$refuser_id")->{vr}, '', 'no refused vendor left');
is_deeply(decode($r)->{vendors_refused}, [], 'the answer says so');

# ------------------------------------------------------------ isolation

# visitors with different refusals, alternating on one connection
my @VISITORS = (
    [mint_token_vendors('k1', $key, 'alt-a', 0x0d, ['criteo'], 2),
        'B,_hjid,both_id,cmp_id,v7_id'],
    [mint_token_vendors('k1', $key, 'alt-b', 0x0d, ['yahoo_japan', 'v7'], 2),
        'cto_bundle,_hjid,both_id,cmp_id'],
    [mint_token('k1', $key, 'alt-c', 0x0d, 2),
        'cto_bundle,B,_hjid,both_id,cmp_id,v7_id'],
    [mint_token_vendors('k1', $key, 'alt-d', 0x0d, ['hotjar', 'both'], 2),
        'cto_bundle,B,cmp_id,v7_id'],
);

sub alternate {
    my ($label) = @_;
    my $s = $t->ka_connect;
    my @bad;
    my $n = 0;
    for my $round (1 .. 3) {
        for my $vis (@VISITORS, reverse @VISITORS) {
            $n++;
            my $a = $t->ka_request($s, "GET /ka/$n HTTP/1.1\r\n"
                . "Host: localhost\r\nX-Country: FR\r\n"
                . "Cookie: consent=$vis->[0]; $ALL_COOKIES\r\n\r\n");
            unless ($a) { push @bad, "#$n no answer"; $s = $t->ka_connect; next }
            my ($got) = $a->body =~ /cookie=\[([^\]]*)\]/;
            $got //= '';
            $got =~ s/(?:^|; )consent=[^;]*//;
            $got =~ s/^; //;
            my $k = join ',', map { (split /=/)[0] } split /; /, $got;
            push @bad, "#$n got $k want $vis->[1]" if $k ne $vis->[1];
        }
    }
    close $s;
    is_deeply(\@bad, [], "$label: $n requests on one keep-alive connection, "
        . 'each visitor its own refusals')
        or diag join "\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)];
}

alternate('before reload');

# ------------------------------------------------------------ reload

# a new vendor first renumbers every vendor: hashes of names do not move
$files{'vendors.rules'} = rules("\@vendor newcomer purposes=advertising\n"
    . "nc_id advertising newcomer\n");
my ($rc, $out) = $t->reload(files => \%files);
is($rc, 0, 'reload with a vendor inserted before the others')
    or diag $out;

alternate('after reload');
($v, $kept) = visit($tok2);
is($kept, 'cto_bundle,_hjid,both_id,cmp_id,v7_id',
    'after reload: the refusal still on yahoo_japan only');

$t->stop;
done_testing();
