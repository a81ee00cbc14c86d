# Set-Cookie filtering on the response: upstream Set-Cookie headers are
# dropped by cookie name (rules) and by tracker Domain (rule domain=) when
# the visitor's decision refuses the purpose; everything else goes out
# byte-for-byte and in order.  Regimes, a consent change, duplicates,
# quoting and attributes, HTTP/2, static, cached, HEAD and 304 responses,
# a consent off location, and $consent_dropped in the access log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use Time::HiRes ();
use ConsentTest qw(std_rules mint_token keys_line purpose_bit);

my $K1 = sha256('set-cookie-test-key');

# 20 upstream Set-Cookie headers, with what each one is for
my @SC = (
    ['sid=abc123; Path=/; HttpOnly; Secure',                 'unknown'],
    ['_ga=GA1.2.111.222; Path=/; Domain=.example.com; Max-Age=63072000',
                                                             'analytics'],
    ['lang=fr; Path=/; SameSite=Lax',                        'unknown'],
    ['_fbp=fb.1.1700000000.42; Path=/; Domain=.example.com; Secure',
                                                             'advertising'],
    ['q="quoted value"; Path=/',                             'unknown'],
    ['_gid=GA1.2.333; Path=/; Max-Age=86400',                'analytics'],
    ['chip=1; Path=/; Secure; Partitioned; SameSite=None',   'unknown'],
    ['_ga_XYZ123=GS1.1.1700.1.0; Path=/; Domain=.example.com', 'analytics'],
    ['pref=dark; Path=/; Max-Age=31536000',                  'functional'],
    ['IDE=AHWqTUm; Domain=.doubleclick.net; Path=/; Secure; SameSite=None',
                                                             'advertising'],
    ['test_cookie=CheckForPermission; Domain=.doubleclick.net; Path=/',
                                                             'advertising'],
    ['ar_debug=1; Domain=ads.doubleclick.net; Path=/',       'advertising'],
    ['ok3p=1; Domain=notdoubleclick.net; Path=/',            'unknown'],
    ['perso=abc; Path=/',                         'personalization'],
    ['share_id=s1; Path=/; Secure',                          'sharing'],
    ['_ga=GA1.2.dup1; Path=/blog; Domain=blog.example.com',  'analytics'],
    ['_ga=GA1.2.dup2; Path=/',                               'analytics'],
    ['csrftoken=t0k3n; Path=/; SameSite=Strict',             'unknown'],
    ['_gcl_au=1.1.123; Path=/; Expires=Thu, 01 Jan 2099 00:00:00 GMT',
                                                             'advertising'],
    ['up=1; Domain=.DoubleClick.NET; Path=/',                'advertising'],
);

my @ALL = map { $_->[0] } @SC;

# Set-Cookie headers with tracker domains and look-alikes
my @DOM = (
    ['a=1; Domain=doubleclick.net',                  'advertising'],
    ['b=1; Path=/; Domain=.doubleclick.net',         'advertising'],
    ['c=1; Domain=ads.doubleclick.net; Secure',      'advertising'],
    ['d=1; Domain=notdoubleclick.net',               'unknown'],
    ['e=1; Domain=doubleclick.net.example.com',      'unknown'],
    ['f=1; domain=.DOUBLECLICK.NET',                 'advertising'],
    ['g=1; Path=/; Domain=example.com',              'unknown'],
    ['IDE=2; Path=/; Domain=example.com',            'advertising'],
    ['h=1; Domain=.hotjar.com',                      'analytics'],
    ['i=1; Domain=x.y.hotjar.com; Path=/',           'analytics'],
    ['j=1; Domain=hotjar.co',                        'unknown'],
    ['k=1; Path=/doubleclick.net',                   'unknown'],
);

sub add_headers {
    my ($indent, @v) = @_;
    return join "\n", map {
        (my $s = $_) =~ s/(["\\])/\\$1/g;
        "${indent}add_header Set-Cookie \"$s\";";
    } @v;
}

my $sc_lines  = add_headers(' ' x 12, @ALL);
my $dom_lines = add_headers(' ' x 12, map { $_->[0] } @DOM);

my $server = <<"EOF";
        consent on;
        consent_region \$http_x_country;

        location /sc-origin/ {
            consent off;
$sc_lines
            return 200 "ok\\n";
        }

        location /dom-origin/ {
            consent off;
$dom_lines
            return 200 "ok\\n";
        }

        location /sc/ {
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
        }

        location /dom/ {
            proxy_pass http://127.0.0.1:%%PORT%%/dom-origin/;
        }

        location /cached/ {
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
            proxy_cache sc;
            proxy_cache_valid 200 10m;
            proxy_ignore_headers Set-Cookie Cache-Control Expires;
            add_header X-Cache \$upstream_cache_status always;
        }

        location /static/ {
            root %%DIR%%/html;
            add_header Set-Cookie "_ga=static1; Path=/";
            add_header Set-Cookie "sid=static; Path=/; HttpOnly";
            add_header Set-Cookie "tc=1; Domain=.doubleclick.net; Path=/";
            add_header Set-Cookie "_fbp=static2; Path=/";
            add_header Set-Cookie "lang=static; Path=/";
        }

        location /off/ {
            consent off;
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
        }
EOF

my $t = ConsentTest->new(
    name   => 'set-cookie',
    h2     => 1,
    files  => { keys => keys_line('k1', $K1),
                'html/static/page.txt' => "static page\n" },
    http   => std_rules() . <<'EOF',
    consent_rule IDE advertising DoubleClick domain=doubleclick.net;
    consent_rule _hjid analytics hotjar domain=.hotjar.com;
    consent_keys %%DIR%%/keys;
    proxy_cache_path %%DIR%%/cache keys_zone=sc:1m;
EOF
    server => $server,
);

# the Set-Cookie values a decision that grants %granted keeps, in order
sub expect_kept {
    my ($list, %granted) = @_;
    $granted{unknown} = $granted{necessary} = 1;
    return [map { $_->[0] } grep { $granted{ $_->[1] } } @$list];
}

sub expect_dropped {
    my ($list, %granted) = @_;
    $granted{unknown} = $granted{necessary} = 1;
    return join ',', map { $_->[0] =~ /^([^=;]*)/ }
        grep { !$granted{ $_->[1] } } @$list;
}

my %NONE = ();
my %ALLP = map { $_ => 1 }
    qw(functional analytics advertising personalization sharing);
my %NOTICE = (functional => 1, analytics => 1, personalization => 1);

sub visit {
    my ($path, $country, %o) = @_;
    return $t->get($path, method => $o{method}, headers => [
        ['X-Country' => $country],
        ($o{cookie} ? [Cookie => $o{cookie}] : ()),
        @{ $o{headers} || [] },
    ]);
}

# the front access log line of the request itself (proxied requests to
# /sc-origin/ and /dom-origin/ log their own line with the same X-Req)
sub front_entry {
    my ($r) = @_;
    my $deadline = Time::HiRes::time() + 5;
    while (1) {
        my ($e) = grep {
            ($_->{req} // '') eq ($r->req // '')
                && ($_->{uri} // '') !~ m{^/(?:sc|dom)-origin/}
        } $t->log_entries('access.log');
        return $e if $e || Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
}

sub dropped_of {
    my ($r) = @_;
    my $e = front_entry($r);
    return $e ? $e->{dropped} : 'NO LOG LINE';
}

# --- regimes

{
    my $r = visit('/sc/', 'FR');
    is($r->status, 200, 'FR: proxied, 200');
    is($r->body, "ok\n", 'FR: body from the origin location');
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@SC, %NONE),
        'FR (opt_in): only unknown Set-Cookies kept, byte-for-byte, in order');
    is(dropped_of($r), expect_dropped(\@SC, %NONE),
        'FR: $consent_dropped names every dropped header in order');
    is(scalar(() = $r->header_all('Set-Cookie')), 6, 'FR: 6 of 20 kept');
}

{
    my $r = visit('/sc/', 'US');
    is_deeply([$r->header_all('Set-Cookie')], \@ALL,
        'US (opt_out): all 20 Set-Cookies kept byte-for-byte, in order');
    is(dropped_of($r), '', 'US: $consent_dropped empty');
}

{
    my $r = visit('/sc/', 'JP');
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@SC, %NOTICE),
        'JP (notice): advertising, sharing and tracker domains dropped');
    is(dropped_of($r), '_fbp,IDE,test_cookie,ar_debug,share_id,_gcl_au,up',
        'JP: $consent_dropped');
    is(scalar(grep { /^_ga=/ } $r->header_all('Set-Cookie')), 3,
        'JP: all three _ga duplicates kept (analytics granted)');
}

{
    my $r = visit('/sc/', 'US', headers => [['Sec-GPC' => '1']]);
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@SC, %NOTICE),
        'US + Sec-GPC: advertising and sharing Set-Cookies dropped');
}

# --- quoting and attributes survive untouched

{
    my $r = visit('/sc/', 'FR');
    my @sc = $r->header_all('Set-Cookie');
    ok((grep { $_ eq 'q="quoted value"; Path=/' } @sc),
        'quoted value kept exactly');
    ok((grep { $_ eq 'chip=1; Path=/; Secure; Partitioned; SameSite=None' }
        @sc), 'Partitioned cookie kept with all its attributes');
    ok((grep { $_ eq 'ok3p=1; Domain=notdoubleclick.net; Path=/' } @sc),
        'Domain=notdoubleclick.net kept');
    ok(!(grep { /^_ga=/ } @sc),
        'FR: every _ga duplicate (different Path/Domain) dropped');
    my ($raw_head) = split /\r\n\r\n/, $r->{raw}, 2;
    my @lines = grep { /^set-cookie:/i } split /\r\n/, $raw_head;
    is_deeply(\@lines, [map { "Set-Cookie: $_" } @{ expect_kept(\@SC) }],
        'raw response head: kept Set-Cookie lines exactly');
}

# --- tracker domains

{
    my $r = visit('/dom/', 'FR');
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@DOM, %NONE),
        'FR: Domain equal to or under a refused rule domain dropped');
    is(dropped_of($r), 'a,b,c,f,IDE,h,i', 'FR: dropped by domain, named');

    $r = visit('/dom/', 'JP');
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@DOM, %NOTICE),
        'JP: only the advertising domain dropped, analytics domain kept');
    is(dropped_of($r), 'a,b,c,f,IDE', 'JP: $consent_dropped');

    $r = visit('/dom/', 'US');
    is_deeply([$r->header_all('Set-Cookie')], [map { $_->[0] } @DOM],
        'US: every tracker-domain cookie kept');
}

# --- a consent change between two requests of one visitor

{
    my $before = visit('/sc/', 'FR', cookie => 'sid=v1');
    ok(!(grep { /^_ga=/ } $before->header_all('Set-Cookie')),
        'before consent: _ga Set-Cookie dropped');

    my $tok = mint_token('k1', $K1, 'v1',
        purpose_bit('necessary') | purpose_bit('analytics'), 3, time - 5);
    my $after = visit('/sc/', 'FR', cookie => "sid=v1; consent=$tok");
    is_deeply([$after->header_all('Set-Cookie')],
        expect_kept(\@SC, analytics => 1),
        'after a consent cookie granting analytics: _ga/_gid kept');
    is(scalar(grep { /^_ga=/ } $after->header_all('Set-Cookie')), 3,
        'after consent: all three _ga kept');
    is(dropped_of($after),
        '_fbp,pref,IDE,test_cookie,ar_debug,perso,share_id,_gcl_au,up',
        'after consent: $consent_dropped has no analytics name');

    my $all = mint_token('k1', $K1, 'v1', 0x3f, 4, time - 5);
    my $r = visit('/sc/', 'FR', cookie => "sid=v1; consent=$all");
    is_deeply([$r->header_all('Set-Cookie')], \@ALL,
        'consent cookie granting everything: all 20 kept');

    $r = visit('/sc/', 'FR', cookie => 'sid=v1');
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@SC, %NONE),
        'without the cookie again: back to dropping');
}

# --- HTTP/2

SKIP: {
    my $have = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
    skip 'nghttp (nghttp2-client) not installed', 4 unless $have;

    my $r = $t->h2_get('/sc/', headers => [['x-country' => 'FR']]);
    is($r->status, 200, 'h2 FR: 200') or diag $r->{output};
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@SC, %NONE),
        'h2 FR: same filtering, same order');

    $r = $t->h2_get('/dom/', headers => [['x-country' => 'JP']]);
    is_deeply([$r->header_all('Set-Cookie')], expect_kept(\@DOM, %NOTICE),
        'h2 JP: tracker domains dropped');

    $r = $t->h2_get('/sc/', headers => [['x-country' => 'US']]);
    is_deeply([$r->header_all('Set-Cookie')], \@ALL, 'h2 US: all kept');
}

# --- a cached response (the cache keeps the upstream headers)

{
    my $miss = visit('/cached/', 'US');
    is($miss->header('X-Cache'), 'MISS', 'cached: first request is a MISS');
    is_deeply([$miss->header_all('Set-Cookie')], \@ALL, 'cached MISS US: all');

    my $hit = visit('/cached/', 'FR');
    is($hit->header('X-Cache'), 'HIT', 'cached: second request is a HIT');
    is_deeply([$hit->header_all('Set-Cookie')], expect_kept(\@SC, %NONE),
        'cached HIT FR: refused Set-Cookies dropped from the cached headers');
    is(dropped_of($hit), expect_dropped(\@SC, %NONE),
        'cached HIT FR: $consent_dropped');

    my $hit2 = visit('/cached/', 'US');
    is($hit2->header('X-Cache'), 'HIT', 'cached: third request is a HIT');
    is_deeply([$hit2->header_all('Set-Cookie')], \@ALL,
        'cached HIT US: the cache was not stored filtered');
}

# --- static responses (add_header), HEAD, 304

{
    my $r = visit('/static/page.txt', 'FR');
    is($r->status, 200, 'static: 200');
    is($r->body, "static page\n", 'static: body');
    is_deeply([$r->header_all('Set-Cookie')],
        ['sid=static; Path=/; HttpOnly', 'lang=static; Path=/'],
        'static FR: add_header Set-Cookies filtered (name and domain)');
    is(dropped_of($r), '_ga,tc,_fbp', 'static FR: $consent_dropped');

    my $us = visit('/static/page.txt', 'US');
    is(scalar(() = $us->header_all('Set-Cookie')), 5, 'static US: all 5');

    my $lm = $r->header('Last-Modified');
    ok(defined $lm, 'static: Last-Modified given');
    my $nm = visit('/static/page.txt', 'FR',
        headers => [['If-Modified-Since' => $lm // '']]);
    is($nm->status, 304, '304: not modified');
    is_deeply([$nm->header_all('Set-Cookie')],
        ['sid=static; Path=/; HttpOnly', 'lang=static; Path=/'],
        '304 FR: Set-Cookies filtered too');

    my $h = visit('/static/page.txt', 'FR', method => 'HEAD');
    is($h->status, 200, 'static HEAD: 200');
    is_deeply([$h->header_all('Set-Cookie')],
        ['sid=static; Path=/; HttpOnly', 'lang=static; Path=/'],
        'static HEAD FR: filtered');

    $h = visit('/sc/', 'FR', method => 'HEAD');
    is($h->status, 200, 'proxied HEAD: 200');
    is($h->body, '', 'proxied HEAD: no body');
    is_deeply([$h->header_all('Set-Cookie')], expect_kept(\@SC, %NONE),
        'proxied HEAD FR: filtered');
}

# --- consent off: nothing dropped

{
    my $r = visit('/off/', 'FR', headers => [['Sec-GPC' => '1']]);
    is($r->status, 200, 'consent off: 200');
    is_deeply([$r->header_all('Set-Cookie')], \@ALL,
        'consent off: all 20 Set-Cookies kept');
    my $e = front_entry($r);
    like($e ? $e->{dropped} : 'NO LOG LINE', qr/^-?$/,
        'consent off: $consent_dropped empty');
}

$t->stop;

done_testing;
