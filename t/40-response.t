# The response side: upstream Set-Cookie headers dropped by rule and by
# tracker domain (proxied, cached, static, HEAD, 304, HTTP/2), rejected
# cookies expired, consent_require, consent_strip_args, the Consent header
# to the origin, Permissions-Policy merged, the privacy-policy Link and
# /.well-known/gpc.json.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest ();
use ConsentTest qw(std_rules mint_token keys_line purpose_bit
    config_test);

my $K1 = sha256('response-side-key');

# 20 Set-Cookie headers: necessary/unknown, analytics, advertising,
# duplicates of one name, tracker domains, quoting and attributes
my @SC = (
    'sid=abc; Path=/; HttpOnly',
    '_ga=GA1.2.3.4; Path=/; Domain=.example.com; Max-Age=63072000',
    'lang=ja; Path=/',
    '_fbp=fb.1.2.3; Path=/; Secure; SameSite=Lax',
    '_gid=GA1.2.5; Path=/',
    'q="quoted value"; Path=/; Partitioned; Secure',
    '_ga_ABC=GS1.1; Path=/',
    'cart=3; Path=/shop',
    'IDE=xyz; Domain=.doubleclick.net; Path=/; Secure',
    'other=1; Domain=ads.doubleclick.net',
    'safe=1; Domain=notdoubleclick.net',
    '_gcl_au=1.1.1; Path=/',
    'perso=1; Path=/',
    'share_id=9; Path=/',
    'pref=dark; Path=/',
    '_ga=GA1.2.9; Path=/blog; Domain=blog.example.com',
    '_ga=GA1.2.10; Path=/',
    'csrftoken=t0k; Path=/; SameSite=Strict',
    'consent=keepme; Path=/',
    'noeq',
);

my $sc_lines = join "\n",
    map { (my $v = $_) =~ s/"/\\"/g; "            add_header Set-Cookie \"$v\";" }
    @SC;

my $server = <<"EOF";
        consent on;
        consent_region \$http_x_country;

        location /sc-origin/ {
            consent off;
$sc_lines
            add_header Permissions-Policy "geolocation=(self), browsing-topics=(self)";
            return 200 "ok\\n";
        }

        location /sc/ {
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
        }

        location /cached/ {
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
            proxy_cache c;
            proxy_cache_valid 200 1m;
            proxy_ignore_headers Set-Cookie;
            add_header X-Cache \$upstream_cache_status;
        }

        location /static/ {
            root %%DIR%%/html;
            add_header Set-Cookie "_ga=static; Path=/";
            add_header Set-Cookie "sid=static; Path=/";
        }

        location /expire/ {
            consent_expire_rejected on;
            proxy_pass %%ORIGIN%%;
        }

        location /pixel/ {
            consent_require analytics;
            consent_expire_rejected on;
            proxy_pass %%ORIGIN%%;
        }

        location /ads/ {
            consent_require advertising sharing status=451;
            proxy_pass %%ORIGIN%%;
        }

        location /args/ {
            consent_strip_args advertising gclid fbclid msclkid yclid ttclid;
            consent_strip_args analytics utm_*;
            proxy_pass %%ORIGIN%%;
        }

        location /hdr/ {
            proxy_pass %%ORIGIN%%;
        }

        location /nohdr/ {
            consent_upstream_header off;
            proxy_pass %%ORIGIN%%;
        }

        location /link/ {
            consent_policy_url https://example.com/privacy;
            consent_permissions_policy off;
            proxy_pass %%ORIGIN%%;
        }

        location = /.well-known/gpc.json {
            consent_gpc_json last_update=2026-11-01;
        }

        location = /gpc-nodate.json {
            consent_gpc_json;
        }

        location /off/ {
            consent off;
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
        }
EOF

my $t = ConsentTest->new(
    name   => 'response',
    h2     => 1,
    files  => { keys => keys_line('k1', $K1), 'html/static/f.txt' => "hi\n" },
    http   => std_rules()
        . "    consent_rule IDE advertising doubleclick domain=doubleclick.net;\n"
        . "    consent_keys %%DIR%%/keys;\n"
        . "    proxy_cache_path %%DIR%%/cache keys_zone=c:1m;\n",
    server => $server,
);

sub visit {
    my ($path, $country, %o) = @_;
    return $t->get($path, host => $o{host}, method => $o{method}, headers => [
        ['X-Country' => $country],
        ($o{cookie} ? [Cookie => $o{cookie}] : ()),
        @{ $o{headers} || [] },
    ]);
}

sub kept_names {
    my ($r) = @_;
    return [map { /^([^=;]*)/ ? $1 : $_ } $r->header_all('Set-Cookie')];
}

# --- Set-Cookie: opt-in visitor without consent: only necessary/unknown

{
    my $r = visit('/sc/', 'FR');
    is($r->status, 200, 'FR: proxied');
    is_deeply([$r->header_all('Set-Cookie')],
        [grep { !/^(_ga|_fbp|_gid|_ga_ABC|IDE|other|_gcl_au|perso|share_id|pref)=/ }
            @SC],
        'FR: refused Set-Cookies dropped, the rest byte-for-byte in order');
    my $f = $t->front_log($r);
    is($f->{dropped},
        '_ga,_fbp,_gid,_ga_ABC,IDE,other,_gcl_au,perso,share_id,pref,_ga,_ga',
        'FR: $consent_dropped names every dropped header, duplicates too');
}

# --- opt-out visitor: everything kept

{
    my $r = visit('/sc/', 'US');
    is_deeply([$r->header_all('Set-Cookie')], \@SC, 'US: all 20 kept');
    is($r->header('Permissions-Policy'),
        'geolocation=(self), browsing-topics=(self)',
        'US: upstream Permissions-Policy untouched');
    is($t->front_log($r)->{dropped}, '', 'US: nothing dropped');
}

# --- notice (JP): advertising and sharing refused, analytics kept

{
    my $r = visit('/sc/', 'JP');
    my $names = kept_names($r);
    ok((grep { $_ eq '_ga' } @$names) == 3, 'JP: all three _ga kept');
    ok(!(grep { /^(_fbp|IDE|other|_gcl_au|share_id)$/ } @$names),
        'JP: advertising, sharing and tracker-domain cookies dropped');
    ok((grep { $_ eq 'safe' } @$names), 'JP: look-alike domain kept');
    is(scalar $r->header_all('Permissions-Policy'), 1,
        'JP: one Permissions-Policy header');
    is($r->header('Permissions-Policy'),
        'geolocation=(self), browsing-topics=(), interest-cohort=()',
        'JP: merged, ours replace, rest appended');
}

# --- a consent change between two requests

{
    my $before = visit('/sc/', 'FR', cookie => 'sid=1');
    ok(!(grep { $_ eq '_ga' } @{ kept_names($before) }),
        'before consent: _ga Set-Cookie dropped');
    my $tok = mint_token('k1', $K1, 'v1',
        purpose_bit('necessary') | purpose_bit('analytics'), 2, time - 5);
    my $after = visit('/sc/', 'FR', cookie => "sid=1; consent=$tok");
    my $names = kept_names($after);
    ok((grep { $_ eq '_ga' } @$names) == 3, 'after consent: _ga kept');
    ok(!(grep { $_ eq '_fbp' } @$names), 'after consent: _fbp still dropped');
    like($after->header('Permissions-Policy') // '', qr/browsing-topics=\(\)/,
        'after consent: advertising still refused');
}

# --- HTTP/2, cached, static, HEAD, 304, consent off

{
    my $r = $t->h2_get('/sc/', headers => [['X-Country' => 'FR']]);
    is($r->status, 200, 'h2: proxied');
    my $names = kept_names($r);
    ok(!(grep { /^(_ga|_fbp|IDE)$/ } @$names), 'h2: refused dropped');
    ok((grep { $_ eq 'sid' } @$names), 'h2: necessary kept');
}

{
    visit('/cached/', 'US');
    my $r = visit('/cached/', 'FR');
    is($r->header('X-Cache'), 'HIT', 'cached: second request is a HIT');
    my $names = kept_names($r);
    ok(!(grep { /^(_ga|_fbp)$/ } @$names) && (grep { $_ eq 'sid' } @$names),
        'cached: refused dropped from the cached headers');
}

{
    my $r = visit('/static/f.txt', 'FR');
    is($r->body, "hi\n", 'static: served');
    is_deeply(kept_names($r), ['sid'], 'static: add_header _ga dropped');

    my $h = visit('/sc/', 'FR', method => 'HEAD');
    ok(!(grep { $_ eq '_ga' } @{ kept_names($h) })
        && (grep { $_ eq 'sid' } @{ kept_names($h) }), 'HEAD: filtered');

    my $lm = $r->header('Last-Modified');
    my $nm = visit('/static/f.txt', 'FR',
        headers => [['If-Modified-Since' => $lm]]);
    is($nm->status, 304, '304: not modified');
    is_deeply(kept_names($nm), ['sid'], '304: filtered too');

    my $off = visit('/off/', 'FR');
    is_deeply([$off->header_all('Set-Cookie')], \@SC,
        'consent off: nothing dropped');
}

# --- consent_expire_rejected

{
    my $r = visit('/expire/x', 'FR', host => 'www.shop.example.com',
        cookie => '_ga=1; _fbp=2; session=3; _ga=4; unknown=5');
    my @sc = $r->header_all('Set-Cookie');
    is_deeply([@sc[0 .. 7]], [
        '_ga=; Max-Age=0; Path=/',
        '_fbp=; Max-Age=0; Path=/',
        '_ga=; Max-Age=0; Path=/; Domain=example.com',
        '_fbp=; Max-Age=0; Path=/; Domain=example.com',
        '_ga=; Max-Age=0; Path=/; Domain=www.shop.example.com',
        '_fbp=; Max-Age=0; Path=/; Domain=www.shop.example.com',
        '_ga=; Max-Age=0; Path=/; Domain=shop.example.com',
        '_fbp=; Max-Age=0; Path=/; Domain=shop.example.com',
    ], 'expire: each refused name once, host-only and every parent, '
        . 'Path=/ first');
    is_deeply(\@sc, [ConsentTest::expiries(host => 'www.shop.example.com',
        path => '/expire/x', names => [qw(_ga _fbp)])],
        'expire: then the same for Path=/expire and Path=/expire/');
    is(scalar(grep { m{Path=/expire/?(?:;|\z)} } @sc), 16,
        'expire: 16 of them for the page\'s directory');

    $r = visit('/expire/x', 'FR', host => '127.0.0.1', cookie => '_ga=1');
    is_deeply([$r->header_all('Set-Cookie')], ['_ga=; Max-Age=0; Path=/',
        '_ga=; Max-Age=0; Path=/expire', '_ga=; Max-Age=0; Path=/expire/'],
        'expire: an IP host gets only the host-only variants');

    $r = visit('/expire/x', 'US', cookie => '_ga=1; _fbp=2');
    is_deeply([$r->header_all('Set-Cookie')], [], 'expire: US, nothing');

    $r = visit('/hdr/x', 'FR', cookie => '_ga=1');
    is_deeply([$r->header_all('Set-Cookie')], [], 'expire off by default');
}

# --- consent_require

{
    my $r = visit('/pixel/collect', 'FR', cookie => '_ga=1; sid=2');
    is($r->status, 204, 'require: 204 without analytics');
    is($r->body, '', 'require: no body');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'require: no cookies, not even expiries');
    my $f = $t->front_log($r);
    is($f->{status}, 204, 'require: logged');
    is(scalar $t->origin_log($r, timeout => 0.3), undef,
        'require: the origin never saw it');

    $r = visit('/pixel/collect', 'US');
    is($r->status, 200, 'require: granted, proxied');
    is($r->origin->{uri}, '/pixel/collect', 'require: origin saw it');

    $r = visit('/ads/x', 'JP');
    is($r->status, 451, 'require: status=451');
    is(scalar $t->origin_log($r, timeout => 0.3), undef,
        'require 451: the origin never saw it');
}

# --- consent_strip_args

{
    my $r = visit('/args/p?a=1&gclid=X&utm_source=y&b=2&utm_medium=z', 'FR');
    is($r->origin->{uri}, '/args/p?a=1&b=2', 'args: FR stripped, order kept');

    $r = visit('/args/p?a=1&gclid=X&utm_source=y', 'US');
    is($r->origin->{uri}, '/args/p?a=1&gclid=X&utm_source=y',
        'args: US untouched');

    $r = visit('/args/p?gclid=1&utm_source=y&fbclid=2', 'JP');
    is($r->origin->{uri}, '/args/p?utm_source=y',
        'args: JP drops advertising ids, keeps utm_*');

    $r = visit('/args/p?gclid=1', 'FR');
    is($r->origin->{uri}, '/args/p', 'args: nothing left, no "?"');

    $r = visit('/args/p%20q?x=%41&gclid=1', 'FR');
    is($r->origin->{uri}, '/args/p%20q?x=%41', 'args: escaping kept');
}

# --- the Consent header to the origin

{
    my $r = visit('/hdr/x', 'FR', headers => [
        [Consent => 'analytics=?1, advertising=?1'],
        [Consent => 'forged=?1'],
    ]);
    is($r->origin->{consent}, 'functional=?0, analytics=?0, advertising=?0, '
        . 'personalization=?0, sharing=?0, gpc=?0, v=0',
        'Consent: the decision, the client\'s values replaced');

    my $tok = mint_token('k1', $K1, 'v2',
        purpose_bit('necessary') | purpose_bit('analytics'), 7, time - 5);
    $r = visit('/hdr/x', 'FR', cookie => "consent=$tok",
        headers => [['Sec-GPC' => '1']]);
    is($r->origin->{consent}, 'functional=?0, analytics=?1, advertising=?0, '
        . 'personalization=?0, sharing=?0, gpc=?1, v=7',
        'Consent: cookie purposes, GPC and policy version');

    $r = visit('/nohdr/x', 'FR', headers => [[Consent => 'client=?1']]);
    is($r->origin->{consent}, 'client=?1', 'consent_upstream_header off');

    # no CR, LF or NUL ever reaches a header we write: nginx refuses them
    # in requests, and names we echo back are checked byte by byte
    $r = $t->raw("GET /expire/x HTTP/1.1\r\nHost: localhost\r\n"
        . "X-Country: FR\r\nCookie: _ga=1\x00x\r\n"
        . "Connection: close\r\n\r\n");
    is($r->status, 400, 'NUL in a request header: refused by nginx');

    $r = visit('/expire/x', 'FR', cookie => '_ga_a"b=1; _ga_a\\b=2; _ga_ok=3');
    is_deeply([$r->header_all('Set-Cookie')], ['_ga_ok=; Max-Age=0; Path=/',
        '_ga_ok=; Max-Age=0; Path=/expire', '_ga_ok=; Max-Age=0; Path=/expire/'],
        'expire: names with quotes or backslashes are never echoed');
    my ($head) = split /\r\n\r\n/, $r->{raw}, 2;
    my (undef, @lines) = split /\r\n/, $head;
    my @bad = grep { !/^[!-9;-~]+: [^\x00-\x08\x0a-\x1f\x7f]*\z/ } @lines;
    is_deeply(\@bad, [], 'every response header line is clean');
}

# --- Link and Permissions-Policy off

{
    my $r = visit('/link/x', 'FR');
    is($r->header('Link'), '<https://example.com/privacy>; rel="privacy-policy"',
        'consent_policy_url: Link');
    is($r->header('Permissions-Policy'), undef,
        'consent_permissions_policy off');
}

# --- gpc.json

{
    my $r = visit('/.well-known/gpc.json', 'FR');
    is($r->status, 200, 'gpc.json: 200');
    is($r->header('Content-Type'), 'application/json', 'gpc.json: JSON');
    is($r->body, '{"gpc": true, "lastUpdate": "2026-11-01"}', 'gpc.json: body');

    $r = visit('/gpc-nodate.json', 'FR');
    is($r->body, '{"gpc": true}', 'gpc.json without a date');

    $r = visit('/.well-known/gpc.json', 'FR', method => 'HEAD');
    is($r->status, 200, 'gpc.json HEAD: 200');
    is($r->body, '', 'gpc.json HEAD: no body');

    $r = visit('/.well-known/gpc.json', 'FR', method => 'POST');
    is($r->status, 405, 'gpc.json POST: 405');
}

$t->stop;

# --- configuration errors

for my $bad (
    ['location /x { consent_require tracking; }', qr/unknown purpose "tracking"/],
    ['location /x { consent_require analytics status=500; }', qr/status may be/],
    ['location /x { consent_gpc_json last_update=2026-13-01; }', qr/last_update=YYYY-MM-DD/],
    ['location /x { consent_gpc_json last_update=yesterday; }', qr/last_update=YYYY-MM-DD/],
    ['consent_policy_url "https://a b";', qr/invalid URL/],
    ['consent_strip_args tracking gclid;', qr/unknown purpose/],
    ['consent_upstream_header "Bad:Name";', qr/invalid header name/],
    ['location /y { consent off; consent_require analytics; }',
        qr/"consent_require" needs "consent on"/],
) {
    my ($rc, $out) = config_test(extra => $bad->[0]);
    isnt($rc, 0, "nginx -t fails: $bad->[0]");
    like($out, $bad->[1], "  and says why");
}

done_testing;
