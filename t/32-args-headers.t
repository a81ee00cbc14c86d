# What the origin sees and what the response carries besides cookies:
# consent_strip_args (tracking query parameters removed upstream),
# consent_upstream_header (the RFC 8941 Consent dictionary, replacing the
# client's), Permissions-Policy merged when advertising is refused,
# consent_policy_url (the privacy-policy Link), no header injection, and
# their configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(std_rules mint_token sign_payload keys_line purpose_bit
    config_test);

my $K1 = sha256('args-headers-key');

# the default: the ad APIs current browsers recognise (Chromium logs an
# error on every page for each feature it does not know)
my $OURS_PP = 'browsing-topics=(), interest-cohort=()';

sub dict {
    my (%h) = @_;
    my @p = (qw(functional analytics advertising personalization sharing),
        @{ $h{custom} || [] });
    return join ', ', (map { "$_=?" . ($h{$_} ? 1 : 0) } @p),
        'gpc=?' . ($h{gpc} ? 1 : 0), 'v=' . ($h{v} // 0);
}

# --- configuration errors first (nginx -t only)

sub conf_t { (config_test(extra => $_[0]))[0, 1] }

for my $bad (
    ['consent_strip_args tracking gclid;', qr/unknown purpose "tracking"/],
    ['consent_strip_args advertising;', qr/number of arguments/],
    ['location /x { consent_strip_args analytics "a=b"; }', qr/invalid/],
    ['consent_upstream_header "Bad:Name";', qr/invalid header name/],
    ['consent_upstream_header "Bad Name";', qr/invalid header name/],
    ['consent_permissions_policy Maybe;', qr/invalid feature/],
    ['consent_permissions_policy on browsing-topics;', qr/cannot be combined/],
    ['consent_policy_url "https://a b/privacy";', qr/invalid URL/],
    ['consent_policy_url "https://a.example/<privacy>";', qr/invalid URL/],
    ['consent_policy_url "https://a.example/p<";', qr/invalid URL/],
    ['consent_policy_url "https://a.example/p>";', qr/invalid URL/],
) {
    my ($rc, $out) = conf_t($bad->[0]);
    isnt($rc, 0, "nginx -t fails: $bad->[0]");
    like($out, $bad->[1], "  and says why ($bad->[1])") or diag $out;
}

for my $good (
    'consent_strip_args advertising gclid fbclid; '
        . 'consent_strip_args analytics utm_*;',
    'location /x { consent_strip_args sharing ref; }',
    'consent_upstream_header X-Consent;',
    'consent_upstream_header off;',
    'consent_permissions_policy off;',
    'consent_policy_url https://example.com/privacy?lang=en#top;',
) {
    my ($rc, $out) = conf_t($good);
    is($rc, 0, "nginx -t ok: $good") or diag $out;
}

# --- the running instance

# an upstream policy naming all five of ours, with quoted members
my $PP_ALL = join ', ', 'run-ad-auction=(self "https://ads.example")',
    'camera=()', 'join-ad-interest-group=*', 'interest-cohort=()',
    'geolocation=(self "https://a.example")', 'attribution-reporting=(self)',
    'browsing-topics=(self)';
(my $pp_all_conf = $PP_ALL) =~ s/"/\\"/g;

my $http = std_rules() . <<'EOF';
    consent_keys %%DIR%%/keys;

    map $arg_pp $pp_one {
        default "";
        merge   "geolocation=(self), browsing-topics=(self)";
        all     "%%PP_ALL%%";
        two     "geolocation=(self)";
        other   "camera=()";
    }
    map $arg_pp $pp_two {
        default "";
        two     "microphone=(), run-ad-auction=(self)";
    }
EOF
$http =~ s/%%PP_ALL%%/$pp_all_conf/;

my $t = ConsentTest->new(
    name   => 'args-headers',
    files  => { keys => keys_line('k1', $K1),
                'html/pp-static/f.txt' => "f\n" },
    http   => $http,
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        consent_strip_args sharing sref;

        location /args/ {
            consent_strip_args advertising gclid fbclid msclkid yclid ttclid;
            consent_strip_args analytics utm_*;
            proxy_pass %%ORIGIN%%;
        }

        location /args-uri/ {
            consent_strip_args advertising gclid fbclid msclkid yclid ttclid;
            consent_strip_args analytics utm_*;
            proxy_pass %%ORIGIN%%/rewritten/;
        }

        location /args-raw/ {
            consent_strip_args advertising gclid fbclid msclkid yclid ttclid;
            consent_strip_args analytics utm_*;
            proxy_pass %%RAW%%;
        }

        location /srvargs/ {
            proxy_pass %%ORIGIN%%;
        }

        location /hdr/ {
            proxy_pass %%RAW%%;
        }

        location /hdr-o/ {
            proxy_pass %%ORIGIN%%;
        }

        location /hdr-off/ {
            consent_upstream_header off;
            proxy_pass %%RAW%%;
        }

        location /hdr-x/ {
            consent_upstream_header X-Consent;
            proxy_pass %%RAW%%;
        }

        location /pp-origin/ {
            consent off;
            add_header Permissions-Policy $pp_one;
            add_header Permissions-Policy $pp_two;
            return 200 "ok\n";
        }

        location /pp/ {
            proxy_pass http://127.0.0.1:%%PORT%%/pp-origin/;
        }

        # a feature list of the operator's: all five ad APIs
        location /pp5/ {
            consent_permissions_policy browsing-topics interest-cohort
                attribution-reporting join-ad-interest-group run-ad-auction;
            proxy_pass http://127.0.0.1:%%PORT%%/pp-origin/;
        }

        location /pp-off/ {
            consent_permissions_policy off;
            proxy_pass http://127.0.0.1:%%PORT%%/pp-origin/;
        }

        location /pp-static/ {
            root %%DIR%%/html;
        }

        location /link/ {
            consent_policy_url https://example.com/privacy?lang=en;
            proxy_pass %%ORIGIN%%;
        }

        location /link-off/ {
            consent off;
            consent_policy_url https://example.com/privacy;
            proxy_pass %%ORIGIN%%;
        }
EOF
);

sub visit {
    my ($path, $country, %o) = @_;
    return $t->get($path, method => $o{method}, headers => [
        (defined $country ? ['X-Country' => $country] : ()),
        (defined $o{cookie} ? [Cookie => $o{cookie}] : ()),
        @{ $o{headers} || [] },
    ]);
}

# header lines NAME the raw origin received, in order
sub raw_lines {
    my ($r, $name) = @_;
    return map { /^\Q$name\E:[ \t]*(.*?)[ \t]*$/i ? $1 : () }
        split /\r?\n/, $r->raw_head;
}

sub request_line {
    my ($r) = @_;
    my ($l) = split /\r?\n/, $r->raw_head;
    return $l // '';
}

sub head_clean {
    my ($r, $what) = @_;
    my ($head) = split /\r\n\r\n/, $r->{raw} // '', 2;
    my (undef, @lines) = split /\r\n/, $head // '';
    my @bad = grep { !/^[!-9;-~]+:[ \t]*[^\x00-\x08\x0a-\x1f\x7f]*\z/ }
        @lines;
    is_deeply(\@bad, [], "$what: every response header line is clean");
    ok(!(grep { /^x-evil$/i } map { $_->[0] } $r->headers),
        "$what: no injected X-Evil response header");
}

my $tok_an = mint_token('k1', $K1, 'a1',
    purpose_bit('necessary') | purpose_bit('analytics'), 7, time - 5);
my $tok_ad = mint_token('k1', $K1, 'a2',
    purpose_bit('necessary') | purpose_bit('advertising'), 2, time - 5);
my $tok_all = mint_token('k1', $K1, 'a3', 0x3f, 12, time - 5);

# --- consent_strip_args

{
    my $q = 'a=1&gclid=X&utm_source=y&b=2&utm_medium=z';
    my $r = visit("/args/p?$q", 'FR');
    is($r->status, 200, 'args FR: 200');
    is($r->origin->{uri}, '/args/p?a=1&b=2',
        'args FR: gclid and utm_* removed, order kept');

    $r = visit("/args/p?$q", 'US');
    is($r->origin->{uri}, "/args/p?$q", 'args US: unchanged');

    $r = visit("/args/p?$q", 'JP');
    is($r->origin->{uri}, '/args/p?a=1&utm_source=y&b=2&utm_medium=z',
        'args JP: advertising ids removed, utm_* kept');

    $r = visit("/args/p?$q", 'US', headers => [['Sec-GPC' => '1']]);
    is($r->origin->{uri}, '/args/p?a=1&utm_source=y&b=2&utm_medium=z',
        'args US + GPC: gclid removed, utm_* kept');

    $r = visit("/args/p?$q", 'FR', cookie => "consent=$tok_an");
    is($r->origin->{uri}, '/args/p?a=1&utm_source=y&b=2&utm_medium=z',
        'args FR with analytics consent: utm_* kept');

    $r = visit("/args/p?$q", 'FR', cookie => "consent=$tok_all");
    is($r->origin->{uri}, "/args/p?$q", 'args FR with full consent: kept');
}

{
    my $r = visit('/args/p?gclid=1', 'FR');
    is($r->origin->{uri}, '/args/p', 'args: nothing left, no "?"');

    $r = visit('/args/p?gclid=1&fbclid=2&msclkid=3&yclid=4&ttclid=5'
        . '&utm_campaign=6', 'FR');
    is($r->origin->{uri}, '/args/p', 'args: every listed name removed');

    $r = visit('/args/p?gclid=1&a=1&gclid=2&utm_x=3&b=&utm_x=4', 'FR');
    is($r->origin->{uri}, '/args/p?a=1&b=', 'args: repeated names removed');

    $r = visit('/args/p?a=1&gclid&b=2', 'FR');
    is($r->origin->{uri}, '/args/p?a=1&b=2', 'args: a name without "="');

    $r = visit('/args/p?x=%41%2B&q=a+b&flag&empty=&gclid=1'
        . '&z=%E3%81%82&w=a=b', 'FR');
    is($r->origin->{uri}, '/args/p?x=%41%2B&q=a+b&flag&empty=&z=%E3%81%82'
        . '&w=a=b', 'args: kept parameters byte-for-byte');

    $r = visit('/args/p?gclidx=1&xgclid=2&utm=3&xutm_a=4&a=gclid&b=utm_x',
        'FR');
    is($r->origin->{uri},
        '/args/p?gclidx=1&xgclid=2&utm=3&xutm_a=4&a=gclid&b=utm_x',
        'args: exact names are exact, prefixes anchored, values ignored');

    $r = visit('/args/p%20q/?x=1&gclid=2', 'FR');
    is($r->origin->{uri}, '/args/p%20q/?x=1', 'args: escaped path kept');

    $r = visit('/args/p', 'FR');
    is($r->origin->{uri}, '/args/p', 'args: no query at all');

    $r = visit('/args/p?', 'FR');
    like($r->origin->{uri}, qr{^/args/p\??$}, 'args: empty query');
}

{
    my $r = visit('/args-uri/p?a=1&gclid=2&utm_id=3', 'FR');
    is($r->origin->{uri}, '/rewritten/p?a=1',
        'args: proxy_pass with a URI part gets the stripped query');

    $r = visit('/args-uri/p?a=1&gclid=2', 'US');
    is($r->origin->{uri}, '/rewritten/p?a=1&gclid=2',
        'args: proxy_pass with a URI part, US unchanged');

    $r = visit('/args-raw/p?utm_source=1&a=%20&ttclid=2', 'FR');
    like(request_line($r), qr{^GET /args-raw/p\?a=%20 HTTP/1\.[01]\z},
        'args: the exact request line upstream');

    $r = visit('/args-raw/p?utm_source=1', 'FR');
    like(request_line($r), qr{^GET /args-raw/p HTTP/1\.[01]\z},
        'args: exact request line, nothing left');
}

{
    my $r = visit('/srvargs/p?sref=1&gclid=2&b=3', 'FR');
    is($r->origin->{uri}, '/srvargs/p?gclid=2&b=3',
        'args: server-level consent_strip_args inherited');

    $r = visit('/srvargs/p?sref=1&b=3', 'JP');
    is($r->origin->{uri}, '/srvargs/p?b=3', 'args: JP refuses sharing');

    $r = visit('/srvargs/p?sref=1&b=3', 'US');
    is($r->origin->{uri}, '/srvargs/p?sref=1&b=3', 'args: US keeps sref');
}

# --- the Consent header to the origin

{
    my $r = visit('/hdr/x', 'FR');
    is_deeply([raw_lines($r, 'Consent')], [dict()],
        'Consent FR, no cookie, no GPC: one header, all ?0');
    is(dict(), 'functional=?0, analytics=?0, advertising=?0, '
        . 'personalization=?0, sharing=?0, gpc=?0, v=0',
        '(the expected FR dictionary, spelled out)');

    $r = visit('/hdr/x', 'US');
    is_deeply([raw_lines($r, 'Consent')],
        [dict(functional => 1, analytics => 1, advertising => 1,
              personalization => 1, sharing => 1)],
        'Consent US: every purpose ?1');

    $r = visit('/hdr/x', 'US', headers => [['Sec-GPC' => '1']]);
    is_deeply([raw_lines($r, 'Consent')],
        [dict(functional => 1, analytics => 1, personalization => 1,
              gpc => 1)],
        'Consent US + GPC: advertising and sharing ?0, gpc=?1');

    $r = visit('/hdr/x', 'JP');
    is_deeply([raw_lines($r, 'Consent')],
        [dict(functional => 1, analytics => 1, personalization => 1)],
        'Consent JP (notice)');

    $r = visit('/hdr/x', 'FR', cookie => "consent=$tok_an; _ga=1");
    is_deeply([raw_lines($r, 'Consent')], [dict(analytics => 1, v => 7)],
        'Consent FR with a consent cookie: its purposes and v=7');

    $r = visit('/hdr/x', 'FR', cookie => "consent=$tok_all",
        headers => [['Sec-GPC' => '1']]);
    is_deeply([raw_lines($r, 'Consent')],
        [dict(functional => 1, analytics => 1, personalization => 1,
              gpc => 1, v => 12)],
        'Consent: full consent cookie, GPC still refuses advertising/sharing');

    $r = visit('/hdr-o/x', 'FR', cookie => "consent=$tok_an");
    is($r->origin->{consent}, dict(analytics => 1, v => 7),
        'Consent seen by the nginx origin as $http_consent');
}

{
    my $r = visit('/hdr/x', 'FR', headers => [[Consent => 'analytics=?1']]);
    is_deeply([raw_lines($r, 'Consent')], [dict()],
        'a client Consent header is replaced by ours');

    $r = visit('/hdr/x', 'FR', headers => [
        [Consent => 'analytics=?1, advertising=?1'],
        ['X-Other' => 'keep'],
        [consent => 'forged=?1'],
        [CONSENT => 'v=99'],
    ]);
    is_deeply([raw_lines($r, 'Consent')], [dict()],
        'three client Consent headers (any case): exactly one, ours');
    is_deeply([raw_lines($r, 'X-Other')], ['keep'], 'other headers kept');

    $r = visit('/hdr-o/x', 'US', headers => [[Consent => 'analytics=?0']]);
    is($r->origin->{consent},
        dict(functional => 1, analytics => 1, advertising => 1,
             personalization => 1, sharing => 1),
        'nginx origin: the client value is gone');
}

{
    my $r = visit('/hdr-off/x', 'FR', headers => [[Consent => 'client=?1']]);
    is_deeply([raw_lines($r, 'Consent')], ['client=?1'],
        'consent_upstream_header off: the client header passes untouched');

    $r = visit('/hdr-off/x', 'FR');
    is_deeply([raw_lines($r, 'Consent')], [],
        'consent_upstream_header off: no header added');

    $r = visit('/hdr-x/x', 'FR', headers => [[Consent => 'client=?1'],
        ['X-Consent' => 'forged=?1']]);
    is_deeply([raw_lines($r, 'X-Consent')], [dict()],
        'consent_upstream_header X-Consent: ours under that name');
    is_deeply([raw_lines($r, 'Consent')], ['client=?1'],
        'consent_upstream_header X-Consent: Consent is left alone');
}

# --- no header injection

{
    my $r = visit('/hdr/x', 'FR%0d%0aX-Evil: 1',
        cookie => '_ga=1%0d%0aX-Evil: 2; sid=1');
    is($r->status, 200, 'percent-encoded CRLF in a region: 200');
    is_deeply([raw_lines($r, 'Consent')], [dict()],
        'odd region: default regime, one clean Consent header');
    is_deeply([raw_lines($r, 'X-Evil')], [], 'origin got no X-Evil header');
    head_clean($r, 'percent-encoded CRLF');

    my $now = time;
    for my $subj ("a%0d%0aX-Evil:1", "a\x01b", "a\x7fb", "a\"b", 'a;b') {
        my $tok = sign_payload("1.k1.$subj.00000005.1.$now", $K1);
        $r = $t->raw("GET /pp/x?pp=merge HTTP/1.1\r\nHost: localhost\r\n"
            . "X-Country: FR\r\nCookie: consent=$tok; _ga=1\r\n"
            . "Connection: close\r\n\r\n");
        (my $show = $subj) =~ s/([^ -~])/sprintf '\\x%02x', ord $1/ge;
        ok($r->status == 200 || $r->status == 400,
            "subject '$show': answered (" . $r->status . ')');
        head_clean($r, "subject '$show'");
    }

    for my $region ("FR\x01", "F\x7fR", "FR\xff\xfe", 'FR;x=1', 'FR, US') {
        $r = $t->raw("GET /pp/x?pp=merge HTTP/1.1\r\nHost: localhost\r\n"
            . "X-Country: $region\r\nCookie: _ga=1\r\nSec-GPC: 1\r\n"
            . "Connection: close\r\n\r\n");
        (my $show = $region) =~ s/([^ -~])/sprintf '\\x%02x', ord $1/ge;
        ok($r->status == 200 || $r->status == 400,
            "region '$show': answered (" . $r->status . ')');
        head_clean($r, "region '$show'");
        is(scalar(() = $r->header_all('Permissions-Policy')),
            $r->status == 200 ? 1 : 0,
            "region '$show': at most one Permissions-Policy");
    }

    # a bare CR in a header value cannot be sent through nginx
    $r = $t->raw("GET /hdr/x HTTP/1.1\r\nHost: localhost\r\n"
        . "X-Country: FR\rX-Evil: 1\r\nConnection: close\r\n\r\n");
    isnt($r->status, 200, 'bare CR in a request header: refused');
    head_clean($r, 'bare CR');
}

# --- Permissions-Policy

{
    my $r = visit('/pp/x', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')], [$OURS_PP],
        'PP FR, no upstream header: exactly ours');

    $r = visit('/pp/x?pp=merge', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')],
        ['geolocation=(self), ' . $OURS_PP],
        'PP FR merged: upstream order kept, ours replace, rest appended');

    $r = visit('/pp/x?pp=merge', 'JP');
    is_deeply([$r->header_all('Permissions-Policy')],
        ['geolocation=(self), ' . $OURS_PP], 'PP JP merged the same way');

    $r = visit('/pp/x?pp=merge', 'US');
    is_deeply([$r->header_all('Permissions-Policy')],
        ['geolocation=(self), browsing-topics=(self)'],
        'PP US: upstream header unchanged');

    $r = visit('/pp/x', 'US');
    is_deeply([$r->header_all('Permissions-Policy')], [],
        'PP US without upstream header: none added');

    $r = visit('/pp/x?pp=merge', 'US', headers => [['Sec-GPC' => '1']]);
    is_deeply([$r->header_all('Permissions-Policy')],
        ['geolocation=(self), ' . $OURS_PP], 'PP US + GPC: merged');

    $r = visit('/pp/x', 'FR', cookie => "consent=$tok_ad");
    is_deeply([$r->header_all('Permissions-Policy')], [],
        'PP FR with advertising consent (analytics refused): none');

    $r = visit('/pp/x', 'FR', cookie => "consent=$tok_an");
    is_deeply([$r->header_all('Permissions-Policy')], [$OURS_PP],
        'PP FR with analytics consent only: ours');
}

{
    my $r = visit('/pp5/x?pp=all', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')], [
        'run-ad-auction=(), camera=(), join-ad-interest-group=(), '
        . 'interest-cohort=(), geolocation=(self "https://a.example"), '
        . 'attribution-reporting=(), browsing-topics=()'],
        'PP: every one of ours replaced in place, quoted members intact');

    $r = visit('/pp5/x?pp=two', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')], [
        'geolocation=(self), microphone=(), run-ad-auction=(), '
        . 'browsing-topics=(), interest-cohort=(), '
        . 'attribution-reporting=(), join-ad-interest-group=()'],
        'PP: two upstream headers merged into one');

    $r = visit('/pp/x?pp=two', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')], [
        'geolocation=(self), microphone=(), run-ad-auction=(self), '
        . 'browsing-topics=(), interest-cohort=()'],
        'PP default features: theirs kept, ours added');

    $r = visit('/pp/x?pp=two', 'US');
    is_deeply([$r->header_all('Permissions-Policy')],
        ['geolocation=(self)', 'microphone=(), run-ad-auction=(self)'],
        'PP US: two upstream headers untouched');

    $r = visit('/pp/x?pp=other', 'FR', method => 'HEAD');
    is_deeply([$r->header_all('Permissions-Policy')],
        ["camera=(), $OURS_PP"], 'PP on a HEAD response');
}

{
    my $r = visit('/pp-off/x?pp=merge', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')],
        ['geolocation=(self), browsing-topics=(self)'],
        'consent_permissions_policy off: upstream header unchanged');

    $r = visit('/pp-off/x', 'FR');
    is_deeply([$r->header_all('Permissions-Policy')], [],
        'consent_permissions_policy off: none added');

    $r = visit('/pp-static/f.txt', 'FR');
    is($r->status, 200, 'static: 200');
    is_deeply([$r->header_all('Permissions-Policy')], [$OURS_PP],
        'PP on a static response');
}

# --- consent_policy_url

{
    my $link = '<https://example.com/privacy?lang=en>; rel="privacy-policy"';
    my $r = visit('/link/x', 'FR');
    is_deeply([$r->header_all('Link')], [$link], 'Link FR');

    $r = visit('/link/x', 'US');
    is_deeply([$r->header_all('Link')], [$link], 'Link US too');

    $r = visit('/link/x', 'FR', method => 'HEAD');
    is_deeply([$r->header_all('Link')], [$link], 'Link on HEAD');

    $r = visit('/link-off/x', 'FR');
    is($r->status, 200, 'consent off location: 200');
    is_deeply([$r->header_all('Link')], [], 'consent off: no Link');

    $r = visit('/hdr-o/x', 'FR');
    is_deeply([$r->header_all('Link')], [],
        'no consent_policy_url: no Link');
}

$t->stop;

done_testing;
