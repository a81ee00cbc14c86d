# consent_expire_rejected: cookies the browser sent that the decision
# refuses are expired with Set-Cookie NAME=; Max-Age=0 for Path=/ and the
# request path's first directories, host-only and with the Domain= values
# of the server's own names (bounded: see ConsentTest::expiries).
# consent_require: a request lacking a purpose is answered at once with
# 204 (or status=403|451) and never reaches the origin.  Config errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(std_rules mint_token keys_line purpose_bit
    config_test);
use ConsentTest ();

my $K1 = sha256('expire-require-key');

# --- configuration errors first (nginx -t only)

sub conf_t { (config_test(extra => $_[0]))[0, 1] }

for my $bad (
    ['location /x { consent_require tracking; }',
        qr/unknown purpose "tracking"/],
    ['location /x { consent_require analytics status=500; }', qr/status/],
    ['location /x { consent_require analytics status=200; }', qr/status/],
    ['location /x { consent_require analytics status=abc; }', qr/status/],
    ['location /x { consent_require status=451; }', qr/purpose/],
    ['location /x { consent_require; }', qr/number of arguments/],
    ['consent_require analytics;', qr/not allowed here/],
    ['location /x { consent off; consent_require analytics; }',
        qr/consent on/],
    ['location /x { consent_expire_rejected maybe; }', qr/\[emerg\]/],
) {
    my ($rc, $out) = conf_t($bad->[0]);
    isnt($rc, 0, "nginx -t fails: $bad->[0]");
    like($out, $bad->[1], "  and says why ($bad->[1])") or diag $out;
}

for my $good (
    'location /x { consent_require analytics; }',
    'location /x { consent_require analytics advertising status=403; }',
    'location /x { consent_require sharing status=451; }',
    'location /x { consent_require functional status=204; }',
    'consent_expire_rejected on; location /x { consent_expire_rejected off; }',
) {
    my ($rc, $out) = conf_t($good);
    is($rc, 0, "nginx -t ok: $good") or diag $out;
}

# --- the running instance

my $t = ConsentTest->new(
    name   => 'expire-require',
    h2     => 1,
    files  => { keys => keys_line('k1', $K1) },
    http   => std_rules() . "    consent_keys %%DIR%%/keys;\n",
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;

        location /exp/ {
            consent_expire_rejected on;
            proxy_pass %%ORIGIN%%;
        }

        location /plain/ {
            proxy_pass %%ORIGIN%%;
        }

        location /exp-off/ {
            consent_expire_rejected off;
            proxy_pass %%ORIGIN%%;
        }

        location /sc-origin/ {
            consent off;
            add_header Set-Cookie "sid=new; Path=/";
            add_header Set-Cookie "_ga=GA1.2.new; Path=/";
            return 200 "ok\n";
        }

        location /exp-sc/ {
            consent_expire_rejected on;
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
        }

        location /pixel/ {
            consent_require analytics;
            consent_expire_rejected on;
            proxy_pass %%ORIGIN%%;
        }

        location /ads451/ {
            consent_require advertising sharing status=451;
            proxy_pass %%ORIGIN%%;
        }

        location /ads403/ {
            consent_require advertising status=403;
            proxy_pass %%ORIGIN%%;
        }

        location /multi/ {
            consent_require analytics advertising;
            proxy_pass %%ORIGIN%%;
        }
EOF
);

sub visit {
    my ($path, $country, %o) = @_;
    return $t->get($path, host => $o{host}, method => $o{method},
        body => $o{body}, headers => [
            (defined $country ? ['X-Country' => $country] : ()),
            (defined $o{cookie} ? [Cookie => $o{cookie}] : ()),
            @{ $o{headers} || [] },
        ]);
}

# expiry headers for NAMEs on HOST for a request to /exp/x (the contract
# is modelled in the harness)
sub expiries {
    my ($host, @names) = @_;
    return ConsentTest::expiries(host => $host, path => '/exp/x',
        names => \@names);
}

# the host-only variants alone, for each of /exp/x's paths
sub host_only {
    my ($path, @names) = @_;
    return ConsentTest::expiries(host => undef, path => $path,
        names => \@names);
}

sub sc_set {
    my ($r) = @_;
    return [sort $r->header_all('Set-Cookie')];
}

sub head_clean {
    my ($r, $what) = @_;
    my ($head) = split /\r\n\r\n/, $r->{raw} // '', 2;
    my (undef, @lines) = split /\r\n/, $head // '';
    my @bad = grep { !/^[!-9;-~]+:[ \t]*[^\x00-\x08\x0a-\x1f\x7f]*\z/ }
        @lines;
    is_deeply(\@bad, [], "$what: every response header line is clean");
}

# --- consent_expire_rejected

{
    my $host = 'www.shop.example.com';
    my $r = visit('/exp/x', 'FR', host => $host,
        cookie => '_ga=1; _fbp=2; session=3');
    is($r->status, 200, 'expire FR: proxied');
    is($r->origin->{cookie}, 'session=3', 'expire FR: origin got session');
    is_deeply([$r->header_all('Set-Cookie')], [expiries($host, qw(_ga _fbp))],
        'expire FR: _ga and _fbp expired host-only and on every parent, '
        . 'on / and /exp, likeliest first');
    is(scalar(() = $r->header_all('Set-Cookie')), 24,
        'expire FR: exactly 24 expiry headers (2 names x 3 paths x '
        . '(host-only + 3 domains)), no duplicates');
    ok((grep { $_ eq '_ga=; Max-Age=0; Path=/; Domain=example.com' }
        $r->header_all('Set-Cookie')), 'expire FR: Domain=example.com');
    ok(!(grep { /^session=/ } $r->header_all('Set-Cookie')),
        'expire FR: session (no rule) never expired');
    ok(!(grep { /Domain=com\b/ } $r->header_all('Set-Cookie')),
        'expire FR: never Domain=com (one label)');
    head_clean($r, 'expire FR');
}

{
    my $r = visit('/plain/x', 'FR', host => 'www.example.com',
        cookie => '_ga=1; _fbp=2; session=3');
    is($r->status, 200, 'default (off): 200');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'consent_expire_rejected off by default: no Set-Cookie');

    $r = visit('/exp-off/x', 'FR', host => 'www.example.com',
        cookie => '_ga=1; _fbp=2');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'consent_expire_rejected off: no Set-Cookie');
}

{
    my $r = visit('/exp/x', 'US', host => 'www.example.com',
        cookie => '_ga=1; _fbp=2; session=3');
    is($r->origin->{cookie}, '_ga=1; _fbp=2; session=3', 'US: all sent on');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'expire US: nothing refused, nothing expired');
}

{
    my $r = visit('/exp/x', 'FR', host => '127.0.0.1',
        cookie => '_ga=1; session=3');
    is_deeply([$r->header_all('Set-Cookie')], [host_only('/exp/x', '_ga')],
        'expire, Host 127.0.0.1: only the host-only variant');

    $r = visit('/exp/x', 'FR', host => 'localhost', cookie => '_ga=1');
    is_deeply([$r->header_all('Set-Cookie')], [host_only('/exp/x', '_ga')],
        'expire, single-label Host: only the host-only variant');

    $r = visit('/exp/x', 'FR', host => '[::1]', cookie => '_ga=1');
    is_deeply([$r->header_all('Set-Cookie')], [host_only('/exp/x', '_ga')],
        'expire, Host [::1]: only the host-only variant');

    $r = visit('/exp/x', 'FR', host => 'example.com', cookie => '_fbp=1');
    is_deeply(sc_set($r), [sort(expiries('example.com', '_fbp'))],
        'expire, Host example.com: host-only and Domain=example.com');

    $r = visit('/exp/x', 'FR', host => 'www.example.com:8080',
        cookie => '_fbp=1');
    is_deeply(sc_set($r), [sort(expiries('www.example.com', '_fbp'))],
        'expire, Host with a port: the port is not part of Domain');

    $r = $t->raw("GET /exp/x HTTP/1.0\r\nX-Country: FR\r\n"
        . "Cookie: _ga=1\r\n\r\n");
    is($r->status, 200, 'HTTP/1.0 without Host: 200');
    is_deeply([$r->header_all('Set-Cookie')], [host_only('/exp/x', '_ga')],
        'HTTP/1.0 without Host: only the host-only variant');
}

{
    # JP: advertising refused, analytics granted
    my $r = visit('/exp/x', 'JP', host => 'www.example.com',
        cookie => '_ga=1; _fbp=2; share_id=3; pref=4');
    is_deeply(sc_set($r),
        [sort(expiries('www.example.com', qw(_fbp share_id)))],
        'expire JP: only advertising and sharing cookies expired');

    # US with GPC
    $r = visit('/exp/x', 'US', host => 'www.example.com',
        cookie => '_ga=1; _fbp=2', headers => [['Sec-GPC' => '1']]);
    is_deeply(sc_set($r), [sort(expiries('www.example.com', '_fbp'))],
        'expire US + GPC: _fbp expired');

    # a name sent twice is expired, but never twice the same header
    $r = visit('/exp/x', 'FR', host => 'a.example.com',
        cookie => '_ga=1; x=1; _ga=2', headers => [[Cookie => '_ga=3']]);
    my @sc = $r->header_all('Set-Cookie');
    is_deeply([sort @sc], [sort(expiries('a.example.com', '_ga'))],
        'expire: a repeated name gives one set of expiries');

    # a consent cookie granting analytics: _ga is no longer expired
    my $tok = mint_token('k1', $K1, 'e1',
        purpose_bit('necessary') | purpose_bit('analytics'), 1, time - 5);
    $r = visit('/exp/x', 'FR', host => 'www.example.com',
        cookie => "consent=$tok; _ga=1; _fbp=2");
    is_deeply(sc_set($r), [sort(expiries('www.example.com', '_fbp'))],
        'expire with consent for analytics: only _fbp');
    ok(!(grep { /^consent=/ } $r->header_all('Set-Cookie')),
        'expire: the consent cookie itself is never expired');

    # no refused cookie sent: nothing
    $r = visit('/exp/x', 'FR', host => 'www.example.com',
        cookie => 'session=1; other=2');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'expire FR without tracking cookies: nothing');
    $r = visit('/exp/x', 'FR', host => 'www.example.com');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'expire FR without any Cookie header: nothing');
}

{
    # upstream Set-Cookie filtering and expiry together
    my $r = visit('/exp-sc/x', 'FR', host => 'www.example.com',
        cookie => '_ga=1; sid=old');
    my @sc = $r->header_all('Set-Cookie');
    is_deeply([sort @sc],
        [sort('sid=new; Path=/', ConsentTest::expiries(
            host => 'www.example.com', path => '/exp-sc/x',
            names => ['_ga']))],
        'upstream _ga Set-Cookie dropped, sid kept, _ga expired');
    is($sc[0], 'sid=new; Path=/', 'the upstream header comes first');
}

SKIP: {
    my $have = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
    skip 'nghttp (nghttp2-client) not installed', 1 unless $have;
    my $r = $t->h2_get('/exp/x', headers => [['x-country' => 'FR'],
        [cookie => '_ga=1'], [cookie => 'session=2']]);
    is_deeply([$r->header_all('Set-Cookie')], [host_only('/exp/x', '_ga')],
        'h2 (Host 127.0.0.1 from :authority): host-only expiry');
}

# --- consent_require

# the origin log line of a request made after $r: once it is written,
# a line for $r would be there too (one worker, lines in order)
sub origin_never_saw {
    my ($r, $what) = @_;
    my $s = visit('/plain/sentinel', 'US');
    my $e = $t->origin_log($s);
    ok($e, "$what: sentinel request reached the origin");
    my @seen = grep { ($_->{req} // '') eq $r->req }
        $t->log_entries('origin.log');
    is(scalar @seen, 0, "$what: the origin never saw the request");
}

{
    my $r = visit('/pixel/collect?x=1', 'FR', host => 'www.example.com',
        cookie => '_ga=1; sid=2');
    is($r->status, 204, 'require FR: 204 without analytics');
    is($r->body, '', 'require 204: empty body');
    is($r->header('Content-Length') // '0', '0',
        'require 204: no Content-Length (or 0)');
    is_deeply([$r->header_all('Set-Cookie')], [],
        'require 204: no Set-Cookie, not even expiries');
    origin_never_saw($r, 'require 204');
    my $f = $t->front_log($r);
    is($f && $f->{status}, 204, 'require 204: logged with status 204');
    head_clean($r, 'require 204');
}

{
    my $r = visit('/pixel/collect', 'US', cookie => '_ga=1; sid=2');
    is($r->status, 200, 'require US: analytics granted, proxied');
    is($r->origin->{uri}, '/pixel/collect', 'require US: origin saw it');
    is($r->origin->{cookie}, '_ga=1; sid=2', 'require US: cookies passed');
    ok(scalar $t->origin_log($r), 'require US: in origin.log');

    my $tok = mint_token('k1', $K1, 'p1',
        purpose_bit('necessary') | purpose_bit('analytics'), 1, time - 5);
    $r = visit('/pixel/collect', 'FR', cookie => "consent=$tok; _ga=1");
    is($r->status, 200, 'require FR with analytics consent: proxied');

    $r = visit('/pixel/collect', 'JP');
    is($r->status, 200, 'require JP (analytics granted): proxied');

    $r = visit('/pixel/collect', 'US', headers => [['Sec-GPC' => '1']]);
    is($r->status, 200, 'require US + GPC (analytics granted): proxied');
}

{
    my $r = visit('/ads451/x', 'JP');
    is($r->status, 451, 'require status=451: JP refused');
    is_deeply([$r->header_all('Set-Cookie')], [], 'require 451: no cookies');
    origin_never_saw($r, 'require 451');

    $r = visit('/ads451/x', 'US', headers => [['Sec-GPC' => '1']]);
    is($r->status, 451, 'require status=451: US + GPC refused');

    $r = visit('/ads451/x', 'US');
    is($r->status, 200, 'require status=451: US granted, proxied');
    is($r->origin->{uri}, '/ads451/x', 'require 451 US: origin saw it');
}

{
    my $r = visit('/ads403/x', 'FR');
    is($r->status, 403, 'require status=403: FR refused');
    origin_never_saw($r, 'require 403');

    $r = visit('/ads403/x', 'US');
    is($r->status, 200, 'require status=403: US proxied');
}

{
    my $r = visit('/multi/x', 'JP');
    is($r->status, 204, 'require two purposes, one missing (JP): 204');
    origin_never_saw($r, 'require two purposes');

    $r = visit('/multi/x', 'US');
    is($r->status, 200, 'require two purposes, both granted (US): 200');

    my $tok = mint_token('k1', $K1, 'p2',
        purpose_bit('necessary') | purpose_bit('analytics'), 1, time - 5);
    $r = visit('/multi/x', 'FR', cookie => "consent=$tok");
    is($r->status, 204, 'require two purposes, only analytics consented: 204');
}

{
    my $r = visit('/pixel/collect', 'FR', method => 'POST',
        body => 'event=pageview&x=' . ('y' x 3000));
    is($r->status, 204, 'require POST with a body: 204');
    origin_never_saw($r, 'require POST');

    $r = visit('/pixel/collect', 'FR', method => 'HEAD');
    is($r->status, 204, 'require HEAD: 204');
}

SKIP: {
    my $have = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
    skip 'nghttp (nghttp2-client) not installed', 3 unless $have;
    my $r = $t->h2_get('/pixel/collect', headers => [['x-country' => 'FR'],
        [cookie => '_ga=1']]);
    is($r->status, 204, 'h2 require FR: 204');
    is_deeply([$r->header_all('Set-Cookie')], [], 'h2 require: no cookies');
    $r = $t->h2_get('/pixel/collect', headers => [['x-country' => 'US']]);
    is($r->status, 200, 'h2 require US: 200');
}

$t->stop;

done_testing;
