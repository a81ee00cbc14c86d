# consent_csp: the response's Content-Security-Policy and
# Content-Security-Policy-Report-Only headers without the host sources of
# the vendors the decision refuses (their "@vendor ... domains=" in a rules
# file), so that the browser itself refuses their scripts, pixels and
# frames.  Two ad vendors and an analytics one in script-src, img-src,
# connect-src, frame-src and default-src, with and without consent (a
# signed cookie, the opt_in and opt_out defaults, Sec-GPC, a TC string's
# vendor consents); byte-for-byte expected values: whitespace, case,
# several headers, policy lists, 'none', subdomains and wildcards, the
# directives left open to a refused vendor and $consent_csp_unenforceable;
# consent_csp off, consent_csp_base, HTTP/2, a realistic 1 KB policy, and
# configuration errors.
#
# The origin is a location of the same server (consent off) that sends the
# policies the test asks for in request headers (X-Csp, X-Csp-Ro, ...).
# $consent_csp_unenforceable is read from an access log: like
# $consent_dropped it is filled by the header filter, after add_header ran.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(mint_token keys_line config_test);
use ConsentIAB qw(tcf_string);

my $K1  = sha256('csp-test-key-1');
my $NOW = time;

my $have_nghttp = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};

# purposes, as the consent cookie's mask
my %M = (necessary => 0x01, functional => 0x02, analytics => 0x04,
    advertising => 0x08, personalization => 0x10, sharing => 0x20);
my $ALL       = 0x3f;
my $ANALYTICS = $M{necessary} | $M{analytics};
my $ADS       = $M{necessary} | $M{advertising};

my $RULES = <<'EOF';
# two ad vendors; a domain criteo shares with hotjar
@vendor criteo name="Criteo" purposes=advertising domains=criteo.com,criteo.net,shared-cdn.example
@vendor taboola name="Taboola" purposes=advertising domains=taboola.com,TaboolaSyndication.com
crto        advertising     criteo

# analytics
@vendor hotjar name="Hotjar" purposes=analytics domains=hotjar.com,hotjar.io,shared-cdn.example
_hjid       analytics       hotjar

# refused only where neither purpose is granted
@vendor both name="Both" purposes=analytics,advertising domains=both.example

# no purposes=: those of its rules
@vendor pixel name="Pixel" domains=pixel.example
px_id       advertising     pixel

# a subdomain only: "*.trk.example" reaches it among others
@vendor trk purposes=advertising gvl=91 domains=px.trk.example

# an IAB vendor
@vendor adnet name="Ad Net" purposes=advertising gvl=755 domains=adnet.example

# a domain written as cookies' Domain= often is
@vendor dotted purposes=advertising domains=.dotted.example

# the CMP itself, there for necessary only: never refused
@vendor mycmp name="My CMP" purposes=necessary gvl=7 domains=sdk.cmp.example
EOF

my $PROXY = 'proxy_pass http://127.0.0.1:%%PORT%%/o/;';

my $BASE = "default-src 'self'; script-src 'self' https://static.criteo.net "
    . "https://cdn.example.org; img-src * data:; "
    . "frame-src https://gum.criteo.com";

my $STATIC = "script-src 'self' https://static.criteo.net; "
    . "img-src https://sslwidget.criteo.com https://img.example.org";

my $SERVER = <<"EOF";
        consent on;
        consent_region \$http_x_country;
        proxy_buffer_size 16k;
        proxy_buffers 8 16k;
        proxy_busy_buffers_size 32k;
        access_log %%DIR%%/access.log consent_test;
        access_log %%DIR%%/csp.log csp;

        # the origin: the policies the request asks for, in this order
        location /o/ {
            consent off;
            add_header Content-Security-Policy \$http_x_csp always;
            add_header Content-Security-Policy-Report-Only \$http_x_csp_ro always;
            add_header Content-Security-Policy \$http_x_csp2 always;
            add_header content-security-policy \$http_x_csp3 always;
            add_header Content-Security-Policy-Report-Only \$http_x_csp_ro2 always;
            add_header X-Origin yes always;
            return 200 "origin\\n";
        }

        location / {
            consent_csp on;
            $PROXY
            %%VARS_HEADERS%%
        }

        location /iab/ {
            consent_csp on;
            consent_iab on cmp=any;
            $PROXY
            %%VARS_HEADERS%%
        }

        location /off/ {
            consent_csp off;
            $PROXY
            %%VARS_HEADERS%%
        }

        location /default/ {
            $PROXY
            %%VARS_HEADERS%%
        }

        location /base/ {
            consent_csp on;
            consent_csp_base "$BASE";
            $PROXY
            %%VARS_HEADERS%%
        }

        # the policy added by add_header in the location itself
        location /static/ {
            consent_csp on;
            add_header Content-Security-Policy "$STATIC";
            add_header Content-Security-Policy-Report-Only "$STATIC";
            return 200 "static\\n";
        }
EOF

my $HTTP = <<'EOF';
    consent_rules %%DIR%%/vendors.rules;
    consent_keys %%DIR%%/keys;
    log_format csp 'req=$http_x_req\tunenf=$consent_csp_unenforceable';
EOF

my $t = ConsentTest->new(
    name   => 'csp',
    h2     => 1,
    files  => { keys => keys_line('k1', $K1), 'vendors.rules' => $RULES },
    http   => $HTTP,
    server => $SERVER,
);

use constant CSP => 'Content-Security-Policy';
use constant RO  => 'Content-Security-Policy-Report-Only';

my $SEQ = 0;

# visit($path, grant => MASK (a signed consent cookie), country => 'FR',
# csp => ..., csp_ro => ..., csp2 => ..., csp3 => ..., csp_ro2 => ...
# (what the origin sends), headers => [...], h2 => 1)
sub visit {
    my ($path, %o) = @_;
    my $inst = $o{t} || $t;
    my @h = (['X-Country' => $o{country} // 'FR']);
    my @cookies = @{ $o{cookies} || [] };
    push @cookies, 'consent=' . mint_token('k1', $K1, 'v' . ++$SEQ,
        $o{grant}, 1, $NOW - 5) if defined $o{grant};
    push @h, [Cookie => join '; ', @cookies] if @cookies;
    my %hdr = (csp => 'X-Csp', csp_ro => 'X-Csp-Ro', csp2 => 'X-Csp2',
        csp3 => 'X-Csp3', csp_ro2 => 'X-Csp-Ro2');
    for my $k (qw(csp csp_ro csp2 csp3 csp_ro2)) {
        push @h, [$hdr{$k} => $o{$k}] if defined $o{$k};
    }
    push @h, @{ $o{headers} || [] };
    return $o{h2}
        ? $inst->h2_get($path, headers => [map { [lc $_->[0], $_->[1]] } @h])
        : $inst->get($path, headers => \@h);
}

# the policy headers of a response, in order: [name, value], the value
# exactly as it went out (HTTP/1.1: the bytes after "Name: ")
sub csp_headers {
    my ($r) = @_;
    my $re = qr/\Acontent-security-policy(?:-report-only)?\z/i;
    if (defined $r->{raw}) {
        my ($head) = split /\r\n\r\n/, $r->{raw}, 2;
        my @h;
        for my $l (split /\r\n/, $head // '') {
            my ($k, $v) = $l =~ /\A([^:]+): (.*)\z/s or next;
            push @h, [$k, $v] if $k =~ $re;
        }
        return @h;
    }
    return map { [$_->[0], $_->[1]] } grep { $_->[0] =~ $re } $r->headers;
}

# $consent_csp_unenforceable as the access log has it
sub unenf {
    my ($r, $inst) = @_;
    my $e = ($inst || $t)->wait_log_entry('csp.log', $r->req);
    return $e ? $e->{unenf} : undef;
}

# check($what, $r, [[name, value], ...], $unenforceable): the status, the
# policy headers (names in any case over HTTP/2), the variable
sub check {
    my ($what, $r, $want, $unenforceable, %o) = @_;
    is($r->status, 200, "$what: 200")
        or diag($r->{output} // $r->{raw});
    my @got = csp_headers($r);
    my @exp = map { [@$_] } @$want;
    if (!defined $r->{raw}) {
        $_->[0] = lc $_->[0] for @got, @exp;
    }
    is_deeply(\@got, \@exp, "$what: policy headers")
        or diag explain \@got;
    is(unenf($r, $o{t}), $unenforceable,
        "$what: \$consent_csp_unenforceable $unenforceable")
        if defined $unenforceable;
}

# one origin CSP header in, one out
sub one {
    my ($what, $in, $out, $unenforceable, %o) = @_;
    my $r = visit($o{path} || '/p', csp => $in, %o);
    check($what, $r, [[CSP, $out]], $unenforceable, %o);
    return $r;
}

# --- two ad vendors in four directives, with and without consent

my $P1 = "default-src 'self'; script-src 'self' https://static.criteo.net "
    . "https://cdn.taboola.com https://www.example.com; img-src 'self' data: "
    . "https://sslwidget.criteo.com https://trc.taboola.com; connect-src "
    . "'self' https://gum.criteo.com https://api.example.com; frame-src "
    . "https://gum.criteo.com https://cdn.taboola.com";
my $P1_OUT = "default-src 'self'; script-src 'self' https://www.example.com; "
    . "img-src 'self' data:; connect-src 'self' https://api.example.com; "
    . "frame-src 'none'";

{
    # the origin's own answer, for reference
    my $r = visit('/o/ref', csp => $P1);
    is_deeply([csp_headers($r)], [[CSP, $P1]],
        'the origin sends the policy as given');

    $r = one('opt_in default, no consent', $P1, $P1_OUT, 0);
    is($r->var('source'), 'default', 'opt_in default: $consent_source');
    is($r->header('X-Origin'), 'yes', 'opt_in default: other headers kept');
    is($r->body, "origin\n", 'opt_in default: body untouched');

    $r = one('no region (opt_in default)', $P1, $P1_OUT, 0,
        country => '');

    $r = one('cookie grants everything', $P1, $P1, 0, grant => $ALL);
    is($r->var('source'), 'cookie', 'cookie grants everything: source');

    one('cookie grants advertising', $P1, $P1, 0, grant => $ADS);
    one('cookie grants analytics only', $P1, $P1_OUT, 0,
        grant => $ANALYTICS);
    one('cookie grants necessary only', $P1, $P1_OUT, 0,
        grant => $M{necessary});
    one('cookie grants all but advertising', $P1, $P1_OUT, 0,
        grant => $ALL & ~$M{advertising});

    $r = one('US opt_out default', $P1, $P1, 0, country => 'US');
    is($r->var('advertising'), '1', 'US: advertising granted');
    $r = one('US with Sec-GPC: 1', $P1, $P1_OUT, 0, country => 'US',
        headers => [['Sec-GPC' => '1']]);
    is($r->var('advertising'), '0', 'US with GPC: advertising refused');
    one('JP notice default (no advertising)', $P1, $P1_OUT, 0,
        country => 'JP');
}

# --- the report-only header, several headers, a policy list

{
    my $r = visit('/ro', csp_ro => $P1);
    check('report-only', $r, [[RO, $P1_OUT]], 0);

    $r = visit('/ro', csp_ro => $P1, grant => $ALL);
    check('report-only, consent', $r, [[RO, $P1]], 0);

    $r = visit('/both', csp => $P1, csp_ro => $P1);
    check('enforced and report-only', $r, [[CSP, $P1_OUT], [RO, $P1_OUT]],
        0);

    my %in = (
        csp     => $P1,
        csp_ro  => "img-src https://criteo.com 'self'",
        csp2    => "script-src * https://static.criteo.net; "
                   . "frame-ancestors 'none'",
        csp3    => "connect-src https://gum.criteo.com https:, "
                   . "connect-src https://gum.criteo.com 'self'",
        csp_ro2 => "default-src 'self'",
    );
    my @out = (
        [CSP, $P1_OUT],
        [RO,  "img-src 'self'"],
        [CSP, $in{csp2}],
        ['content-security-policy',
              "connect-src https://gum.criteo.com https:, connect-src 'self'"],
        [RO,  "default-src 'self'"],
    );
    $r = visit('/five', %in);
    check('five policy headers', $r, \@out, 2);

    $r = visit('/five', %in, grant => $ALL);
    check('five policy headers, consent', $r, [
        [CSP, $in{csp}], [RO, $in{csp_ro}], [CSP, $in{csp2}],
        ['content-security-policy', $in{csp3}], [RO, $in{csp_ro2}]], 0);

    one('a policy list with ","',
        "script-src 'self' https://static.criteo.net, img-src "
            . "https://criteo.net 'self' , default-src https://ads.taboola.com",
        "script-src 'self', img-src 'self' , default-src 'none'", 0);
    one('a policy list, one policy unenforceable',
        "script-src https://static.criteo.net,script-src *",
        "script-src 'none',script-src *", 1);
    one('default-src only',
        "default-src 'self' https://static.criteo.net https://www.example.com",
        "default-src 'self' https://www.example.com", 0);
    one('every source removed: \'none\'',
        "script-src https://static.criteo.net https://cdn.taboola.com",
        "script-src 'none'", 0);
    one('\'none\' between directives',
        "img-src criteo.com ; script-src 'self'",
        "img-src 'none' ; script-src 'self'", 0);
}

# --- whitespace, separators and names, byte for byte

{
    one('tabs and runs of blanks',
        "script-src\t'self'  https://static.criteo.net\thttps://cdn.example.org"
            . " ;img-src https://criteo.com:443/x 'self'",
        "script-src 'self' https://cdn.example.org ;img-src 'self'", 0);
    one('leading and trailing blanks of a directive',
        "img-src 'self';  \t script-src  criteo.com  ; style-src 'self'",
        "img-src 'self';  \t script-src 'none'  ; style-src 'self'", 0);
    one('empty directives and a fetch directive without sources',
        "img-src;; script-src https://criteo.com 'self';;",
        "img-src;; script-src 'self';;", 0);
    one('a directive unchanged keeps its blanks',
        "script-src  'self'\t https://cdn.example.org ; img-src criteo.com",
        "script-src  'self'\t https://cdn.example.org ; img-src 'none'", 0);
    one('directive names and hosts in upper case',
        "SCRIPT-SRC 'self' HTTPS://STATIC.CRITEO.NET; Img-Src "
            . "https://Static.Criteo.Net 'SELF'; CONNECT-src "
            . "WSS://GUM.CRITEO.COM:443",
        "SCRIPT-SRC 'self'; Img-Src 'SELF'; CONNECT-src 'none'", 0);
    one('every fetch directive',
        join('; ', map { "$_ 'self' https://criteo.com" } qw(child-src
            connect-src default-src fenced-frame-src font-src frame-src
            img-src manifest-src media-src object-src prefetch-src script-src
            script-src-attr script-src-elem style-src style-src-attr
            style-src-elem worker-src)),
        join('; ', map { "$_ 'self'" } qw(child-src connect-src default-src
            fenced-frame-src font-src frame-src img-src manifest-src media-src
            object-src prefetch-src script-src script-src-attr script-src-elem
            style-src style-src-attr style-src-elem worker-src)), 0);
    my $other = "frame-ancestors https://criteo.com *; report-uri "
        . "https://criteo.com/csp; form-action https://criteo.com; base-uri "
        . "https://criteo.com; navigate-to https://criteo.com; sandbox "
        . "allow-scripts; script-src-foo https://criteo.com; report-to criteo; "
        . "upgrade-insecure-requests";
    one('other directives are never changed', $other, $other, 0);
    one('keywords, nonces, hashes and non-network schemes are kept',
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'nonce-Zm9vYmFy' "
            . "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
            . "https://static.criteo.net 'report-sample' 'wasm-unsafe-eval'; "
            . "img-src data: blob: mediastream: filesystem: https://criteo.com",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'nonce-Zm9vYmFy' "
            . "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
            . "'report-sample' 'wasm-unsafe-eval'; "
            . "img-src data: blob: mediastream: filesystem:", 0);
}

# --- subdomains, look-alikes, schemes, ports, paths, wildcards

{
    one('subdomains go, look-alikes stay',
        "img-src criteo.com a.b.criteo.com xcriteo.com criteo.com.evil.example "
            . "notcriteo.net criteo.net.example.org criteo.net/path/x.js "
            . "https://criteo.net/path/x.js http://criteo.com:* "
            . "ftp://files.criteo.net cdn.taboolasyndication.com",
        "img-src xcriteo.com criteo.com.evil.example notcriteo.net "
            . "criteo.net.example.org", 0);
    one('wildcards at or under a refused domain go',
        "script-src *.criteo.com https://*.static.criteo.net:443 "
            . "*.example.org 'self' *.CRITEO.NET wss://*.taboola.com/x",
        "script-src *.example.org 'self'", 0);
    # a host source with a port and no scheme ("host[:port]")
    {
        my $r = visit('/port', csp => "img-src static.criteo.net:8443 "
            . "criteo.com:443 criteo.net:* 'self'; "
            . "connect-src gum.criteo.com:443");
        is($r->status, 200, 'host:port without a scheme: 200');
        is(unenf($r), 0, 'host:port without a scheme: unenforceable 0');
        is_deeply([csp_headers($r)],
            [[CSP, "img-src 'self'; connect-src 'none'"]],
            'host:port without a scheme goes')
            or diag explain [csp_headers($r)];
    }
    one('a wildcard over the vendor\'s subdomain domain is unenforceable',
        "connect-src https://*.trk.example 'self'",
        "connect-src https://*.trk.example 'self'", 1);
    one('the vendor\'s subdomain domain itself goes',
        "connect-src https://px.trk.example https://a.px.trk.example "
            . "https://trk.example 'self'",
        "connect-src https://trk.example 'self'", 0);
    one('a domain two vendors share goes when one is refused',
        "img-src https://shared-cdn.example 'self'",
        "img-src 'self'", 0, grant => $ANALYTICS);
    one('a domain two vendors share, both granted',
        "img-src https://shared-cdn.example 'self'",
        "img-src https://shared-cdn.example 'self'", 0,
        grant => $ANALYTICS | $M{advertising});
}

# --- directives that would still let a refused vendor through

my @OPEN = (
    "script-src 'self' * https://static.criteo.net",
    "img-src https: https://static.criteo.net",
    "connect-src WSS: https://gum.criteo.com",
    "font-src http:",
    "worker-src ws:",
    "frame-src https://* https://gum.criteo.com",
    "object-src https://*:443",
    "script-src-elem 'strict-dynamic' 'nonce-abc123' https://static.criteo.net",
    "script-src-attr 'STRICT-DYNAMIC'",
    "media-src *.com",
    "img-src *.net https://static.criteo.net",
    "style-src *.trk.example",
    "prefetch-src *.example",
);

{
    my $in = join('; ', "default-src 'self' https://criteo.com", @OPEN,
        "img-src data: blob: https://criteo.com");
    my $out = join('; ', "default-src 'self'", @OPEN, 'img-src data: blob:');
    my $r = one('unenforceable directives left as they were', $in, $out,
        scalar @OPEN);

    for my $d (@OPEN) {
        one("unenforceable alone: $d", $d, $d, 1);
    }

    one('not unenforceable: wildcards over no refused domain',
        "img-src *.org *.example.com https://*.cdn.example 'self'",
        "img-src *.org *.example.com https://*.cdn.example 'self'", 0);

    one('\'*\' in a non-fetch directive is not counted',
        "frame-ancestors *; img-src https://criteo.com",
        "frame-ancestors *; img-src 'none'", 0);

    # nothing refused: nothing is counted, nothing changes
    one('unenforceable directives, everything granted', $in, $in, 0,
        grant => $ALL);

    # counted over every header of the response
    $r = visit('/count', csp => "script-src *; img-src https:",
        csp_ro => "script-src *", csp2 => "connect-src https://criteo.com");
    check('counted over all headers', $r,
        [[CSP, "script-src *; img-src https:"], [RO, "script-src *"],
         [CSP, "connect-src 'none'"]], 3);

    # '*' lets the analytics vendor through where only it is refused
    one('hotjar refused: *.io covers hotjar.io',
        "connect-src *.io https://*.hotjar.com",
        "connect-src *.io https://*.hotjar.com", 1, grant => $ADS);
}

# --- a vendor whose purpose is granted keeps its hosts

{
    my $in = "script-src 'self' https://static.hotjar.com "
        . "https://static.criteo.net; connect-src https://*.hotjar.com "
        . "wss://*.hotjar.io https://gum.criteo.com; img-src "
        . "https://shared-cdn.example https://both.example "
        . "https://t.pixel.example";

    one('analytics granted: hotjar and both kept',
        $in,
        "script-src 'self' https://static.hotjar.com; connect-src "
            . "https://*.hotjar.com wss://*.hotjar.io; "
            . "img-src https://both.example",
        0, grant => $ANALYTICS);
    one('advertising granted: criteo, pixel and both kept',
        $in,
        "script-src 'self' https://static.criteo.net; connect-src "
            . "https://gum.criteo.com; img-src https://both.example "
            . "https://t.pixel.example",
        0, grant => $ADS);
    one('analytics and advertising granted: untouched', $in, $in, 0,
        grant => $ANALYTICS | $ADS);
    one('nothing granted: all go', $in,
        "script-src 'self'; connect-src 'none'; img-src 'none'", 0);

    # pixel: no purposes=, its rule's advertising
    one('purposes from the vendor\'s rules, refused',
        "img-src https://t.pixel.example 'self'", "img-src 'self'", 0,
        grant => $ANALYTICS);
    one('purposes from the vendor\'s rules, granted',
        "img-src https://t.pixel.example 'self'",
        "img-src https://t.pixel.example 'self'", 0, grant => $ADS);
}

# --- a TC string refuses a vendor whose purpose is granted

{
    my %tc = (cmp_id => 28, updated => $NOW - 60, purposes => [1 .. 11],
        features => [1, 2]);
    my $no755 = tcf_string(%tc, vendors => [91]);
    my $both  = tcf_string(%tc, vendors => [91, 755]);
    my $none  = tcf_string(%tc, vendors => []);

    my $in = "script-src 'self' https://cdn.adnet.example "
        . "https://px.trk.example https://static.criteo.net; img-src "
        . "https://adnet.example https://t.pixel.example; connect-src "
        . "https://*.trk.example";

    my $r = visit('/iab/755', csp => $in,
        cookies => ["euconsent-v2=$no755"]);
    check('TC string without vendor 755', $r, [[CSP,
        "script-src 'self' https://px.trk.example https://static.criteo.net; "
        . "img-src https://t.pixel.example; "
        . "connect-src https://*.trk.example"]],
        0);
    is($r->var('source'), 'iab', 'TC without 755: $consent_source iab');
    is($r->var('advertising'), '1', 'TC without 755: advertising granted');

    # the CMP's own script stays, though the TC string gives it no consent
    $r = visit('/iab/cmp', csp => "script-src 'self' https://sdk.cmp.example "
        . "https://cdn.adnet.example", cookies => ["euconsent-v2=$no755"]);
    check('TC string without 7 and 755: the necessary CMP kept', $r,
        [[CSP, "script-src 'self' https://sdk.cmp.example"]], 0);

    $r = visit('/iab/both', csp => $in, cookies => ["euconsent-v2=$both"]);
    check('TC string with both vendors', $r, [[CSP, $in]], 0);

    $r = visit('/iab/none', csp => $in, cookies => ["euconsent-v2=$none"]);
    check('TC string without vendor consents', $r, [[CSP,
        "script-src 'self' https://static.criteo.net; "
        . "img-src https://t.pixel.example; "
        . "connect-src https://*.trk.example"]],
        1);

    $r = visit('/iab/wild', csp => "connect-src *.example 'self'",
        cookies => ["euconsent-v2=$no755"]);
    check('TC without 755: *.example covers adnet.example', $r,
        [[CSP, "connect-src *.example 'self'"]], 1);

    # the signed cookie decides before the TC string: no vendor refusal
    $r = visit('/iab/cookie', csp => $in, grant => $ALL,
        cookies => ["euconsent-v2=$no755"]);
    check('TC string without 755, cookie grants all', $r, [[CSP, $in]], 0);
    is($r->var('source'), 'cookie', 'cookie and TC: $consent_source cookie');

    # in the US (opt_out) the TC string's refusal is the only one
    $r = visit('/iab/us', csp => $in, country => 'US',
        cookies => ["euconsent-v2=$no755"]);
    check('TC string without 755, US', $r, [[CSP,
        "script-src 'self' https://px.trk.example https://static.criteo.net; "
        . "img-src https://t.pixel.example; "
        . "connect-src https://*.trk.example"]],
        0);

    # a TC string is not read where consent_iab is off
    $r = visit('/p', csp => $in, country => 'US',
        cookies => ["euconsent-v2=$no755"]);
    check('TC string where consent_iab is off', $r, [[CSP, $in]], 0);
    is($r->var('source'), 'default', 'consent_iab off: $consent_source');
}

# --- consent_csp off, and its default

{
    my $r = visit('/off/x', csp => $P1, csp_ro => $P1);
    check('consent_csp off', $r, [[CSP, $P1], [RO, $P1]], 0);
    is($r->var('advertising'), '0', 'consent_csp off: advertising refused');

    $r = visit('/default/x', csp => $P1);
    check('consent_csp by default (off)', $r, [[CSP, $P1]], 0);
}

# --- consent_csp_base

my $BASE_OUT = "default-src 'self'; script-src 'self' https://cdn.example.org; "
    . "img-src * data:; frame-src 'none'";

{
    my $r = visit('/base/none');
    check('base, no origin policy', $r, [[CSP, $BASE_OUT]], 1);

    $r = visit('/base/none', grant => $ALL);
    check('base, no origin policy, consent', $r, [[CSP, $BASE]], 0);

    $r = visit('/base/origin', csp => $P1);
    check('base, with an origin policy', $r, [[CSP, $P1_OUT]], 0);

    $r = visit('/base/origin', csp => $P1, grant => $ALL);
    check('base, with an origin policy, consent', $r, [[CSP, $P1]], 0);

    $r = visit('/base/ro', csp_ro => $P1);
    check('base, with a report-only origin policy', $r, [[RO, $P1_OUT]], 0);
}

# --- a policy added by add_header in the location

{
    my $out = "script-src 'self'; img-src https://img.example.org";
    my $r = visit('/static/x');
    check('add_header in the location', $r, [[CSP, $out], [RO, $out]], 0);
    $r = visit('/static/x', grant => $ALL);
    check('add_header in the location, consent', $r,
        [[CSP, $STATIC], [RO, $STATIC]], 0);
}

# --- a realistic policy of more than 1 KB
#
# "-" marks the ad vendors' sources (gone unless advertising is granted),
# "~" hotjar's (gone unless analytics is)

my @BIG = (
    ['default-src', "'self'"],
    ['script-src', "'self'", "'nonce-2726c7f26c'", "'unsafe-inline'",
        'https://www.googletagmanager.com', 'https://www.google-analytics.com',
        '-https://static.criteo.net', '~https://static.hotjar.com',
        '~https://script.hotjar.com', '-https://cdn.taboola.com',
        'https://connect.facebook.net', 'https://js.stripe.com',
        '-https://*.criteo.com', 'https://cdn.jsdelivr.net'],
    ['style-src', "'self'", "'unsafe-inline'", 'https://fonts.googleapis.com',
        '~https://static.hotjar.com'],
    ['img-src', "'self'", 'data:', 'blob:', 'https://www.google-analytics.com',
        'https://www.googletagmanager.com', '-https://sslwidget.criteo.com',
        '-https://trc.taboola.com', '-https://*.taboolasyndication.com',
        'https://www.facebook.com', '~https://*.hotjar.com',
        '-https://t.pixel.example', 'https://images.example.com'],
    ['font-src', "'self'", 'https://fonts.gstatic.com', 'data:'],
    ['connect-src', "'self'", 'https://www.google-analytics.com',
        'https://region1.google-analytics.com', '~https://*.hotjar.com',
        '~wss://*.hotjar.com', '~https://*.hotjar.io',
        '-https://gum.criteo.com', '-https://bidder.criteo.com',
        'https://api.stripe.com', '-https://trc.taboola.com',
        'https://api.example.com'],
    ['frame-src', '-https://gum.criteo.com', '~https://vars.hotjar.com',
        '-https://cdn.taboola.com'],
    ['media-src', "'self'", 'https://media.example.com'],
    ['worker-src', "'self'", 'blob:'],
    ['object-src', "'none'"],
    ['frame-ancestors', "'self'", 'https://criteo.com'],
    ['base-uri', "'self'"],
    ['form-action', "'self'", 'https://checkout.stripe.com'],
    ['upgrade-insecure-requests'],
    ['report-uri',
        'https://csp-report.example.com/r?site=shop&vendor=criteo.com'],
);

sub big {
    my (%gone) = @_;
    return join '; ', map {
        my ($name, @src) = @$_;
        my @out = map { /\A([-~])(.*)\z/s ? ($gone{$1} ? () : $2) : $_ } @src;
        @out = ("'none'") if @src && !@out;
        join ' ', $name, @out;
    } @BIG;
}

{
    my $in = big();
    cmp_ok(length $in, '>=', 1024, 'the realistic policy is over 1 KB');
    one('1 KB policy, analytics granted', $in, big('-' => 1), 0,
        grant => $ANALYTICS);
    one('1 KB policy, advertising granted', $in, big('~' => 1), 0,
        grant => $ADS);
    one('1 KB policy, nothing granted', $in, big('-' => 1, '~' => 1), 0);
    one('1 KB policy, everything granted', $in, $in, 0, grant => $ALL);
    my $r = visit('/big', csp => $in, csp_ro => $in, csp2 => $in);
    my $out = big('-' => 1, '~' => 1);
    check('1 KB policy three times', $r,
        [[CSP, $out], [RO, $out], [CSP, $out]], 0);
}

# --- HTTP/2

SKIP: {
    skip 'nghttp (nghttp2-client) not installed', 18 unless $have_nghttp;

    my $r = visit('/h2', csp => $P1, h2 => 1);
    check('h2: opt_in default', $r, [[CSP, $P1_OUT]], 0);

    $r = visit('/h2', csp => $P1, h2 => 1, grant => $ALL);
    check('h2: consent', $r, [[CSP, $P1]], 0);

    $r = visit('/h2', h2 => 1, csp => "script-src *; img-src criteo.com",
        csp_ro => $P1, csp3 => "connect-src https://gum.criteo.com 'self'");
    check('h2: several headers', $r, [[CSP, "script-src *; img-src 'none'"],
        [RO, $P1_OUT], [CSP, "connect-src 'self'"]], 1);

    $r = visit('/base/h2', h2 => 1);
    check('h2: consent_csp_base', $r, [[CSP, $BASE_OUT]], 1);

    my $in = big();
    $r = visit('/h2/big', h2 => 1, csp => $in, grant => $ANALYTICS);
    check('h2: 1 KB policy', $r, [[CSP, big('-' => 1)]], 0);

    $r = visit('/off/h2', h2 => 1, csp => $P1);
    check('h2: consent_csp off', $r, [[CSP, $P1]], 0);
}

# --- a vendor domain with a leading dot (accepted by the rules parser)

{
    my $r = visit('/dotted', csp => "img-src https://x.dotted.example "
        . "https://dotted.example 'self'");
    is($r->status, 200, 'domains=.dotted.example: 200');
    is_deeply([csp_headers($r)], [[CSP, "img-src 'self'"]],
        'domains=.dotted.example: its hosts go')
        or diag explain [csp_headers($r)];
}

$t->stop;

# --- where consent_csp and consent_csp_base are set: http, server

{
    my $u = ConsentTest->new(
        name   => 'csp-contexts',
        files  => { keys => keys_line('k1', $K1), 'vendors.rules' => $RULES },
        http   => $HTTP . <<'EOF',
    consent_csp_base "img-src https://criteo.com 'self'";
    map $arg_early $early_csp {
        ""          "";
        default     "img-src https://criteo.com 'self'";
    }
EOF
        server => <<"EOF",
        consent on;
        consent_csp on;
        access_log %%DIR%%/csp.log csp;
        add_header Content-Security-Policy \$early_csp always;

        # answered before the location's rewrite phase
        if (\$arg_early) {
            return 200 "early\\n";
        }

        location /o/ {
            consent off;
            add_header Content-Security-Policy \$http_x_csp always;
            return 200 "origin\\n";
        }

        location / {
            $PROXY
        }

        location /off/ {
            consent_csp off;
            $PROXY
        }

        location /own/ {
            consent_csp_base "script-src https://static.criteo.net";
            $PROXY
        }

        location /nobase/ {
            consent_csp_base off;
            $PROXY
        }
EOF
    );

    my $r = visit('/x', t => $u);
    check('server on, http base', $r, [[CSP, "img-src 'self'"]], 0, t => $u);
    $r = visit('/x', t => $u, csp => $P1);
    check('server on, origin policy', $r, [[CSP, $P1_OUT]], 0, t => $u);
    $r = visit('/x', t => $u, grant => $ALL);
    check('server on, http base, consent', $r,
        [[CSP, "img-src https://criteo.com 'self'"]], 0, t => $u);
    $r = visit('/off/x', t => $u);
    check('location off: no base added', $r, [], 0, t => $u);
    $r = visit('/off/x', t => $u, csp => $P1);
    check('location off: origin policy untouched', $r, [[CSP, $P1]], 0,
        t => $u);
    $r = visit('/own/x', t => $u);
    check('location base replaces the http one', $r,
        [[CSP, "script-src 'none'"]], 0, t => $u);
    $r = visit('/nobase/x', t => $u);
    check('consent_csp_base off: the http one not added', $r, [], 0,
        t => $u);
    $r = visit('/nobase/x', t => $u, csp => $P1);
    check('consent_csp_base off: the origin policy still rewritten', $r,
        [[CSP, $P1_OUT]], 0, t => $u);

    $r = visit('/x?early=1', t => $u);
    is($r->status, 200, 'answer of a server-level return: 200');
    is($r->body, "early\n", 'answer of a server-level return: its body');
    is_deeply([csp_headers($r)], [[CSP, "img-src 'self'"]],
        'answer of a server-level return: policy rewritten')
        or diag explain [csp_headers($r)];

    $u->stop;
}

# --- configuration errors

sub conf_fails {
    my ($what, $extra, $reason) = @_;
    my ($rc, $out) = config_test(http => '', extra => $extra);
    isnt($rc, 0, "$what: nginx -t fails");
    like($out, qr/\[emerg\]/, "$what: [emerg]") or diag $out;
    like($out, $reason, "$what: reason") or diag $out;
}

conf_fails('consent_csp_base ""', 'consent_csp_base "";',
    qr/consent_csp_base.*needs a policy|needs a policy.*consent_csp_base/);
conf_fails('consent_csp_base with a control character',
    "consent_csp_base \"script-src 'self'\x01 https://a.example\";",
    qr/control character/);
{
    # a tab is whitespace a header value may carry
    my ($rc, $out) = config_test(http => '',
        extra => qq{consent_csp_base "script-src\\t'self'";});
    is($rc, 0, 'consent_csp_base with a tab: nginx -t ok') or diag $out;
}
conf_fails('consent_csp_base with DEL',
    "consent_csp_base \"script-src 'self'\x7f\";", qr/control character/);
conf_fails('consent_csp_base twice',
    qq{consent_csp_base "img-src 'self'";\nconsent_csp_base "img-src 'self'";},
    qr/duplicate/);
conf_fails('consent_csp_base with two arguments',
    qq{consent_csp_base "img-src 'self'" "script-src 'self'";},
    qr/invalid number of arguments/);
conf_fails('consent_csp maybe', 'consent_csp maybe;', qr/invalid value/);

{
    my ($rc, $out) = config_test(
        http   => "consent_csp on;\nconsent_csp_base \"img-src 'self'\";",
        server => "consent on; consent_csp off; consent_csp_base "
            . "\"default-src 'self'\";\n"
            . "location / { consent_csp on; consent_csp_base \"img-src "
            . "'self'\"; proxy_pass %%ORIGIN%%; }\n");
    is($rc, 0, 'consent_csp and consent_csp_base in http, server, location')
        or diag $out;
}

# --- a vendor switched off in Redis at run time keeps its hosts, as it
#     keeps its cookies, and a rewrite kept before the switch is not reused

SKIP: {
    my $have_redis = grep { -x "$_/redis-server" } split /:/, $ENV{PATH};
    skip 'redis-server not installed', 9 unless $have_redis;

    my $rd = ConsentTest->new(
        name   => 'csp-redis',
        redis  => 1,
        files  => { keys => keys_line('k1', $K1), 'vendors.rules' => $RULES },
        http   => $HTTP
            . "    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=300ms;\n"
            . "    consent_zone zone=consent:1m ttl=60s;\n",
        server => $SERVER,
    );

    my $in = "script-src 'self' https://static.criteo.net "
        . "https://cdn.taboola.com";
    my $switched = qr/consent rules: \d+ of \d+ vendors switched off/;

    my $r = visit('/redis/before', t => $rd, csp => $in);
    check('before the switch', $r,
        [[CSP, "script-src 'self'"]], 0, t => $rd);

    my $seen = $rd->error_log_count($switched);
    $rd->redis_cmd(SADD => 'consent:rules:disabled', 'criteo');
    $rd->redis_cmd(PUBLISH => 'consent:inval', '*rules');
    ok($rd->wait_error_log($switched, $seen), 'the worker read the switch');

    $r = visit('/redis/after', t => $rd, csp => $in);
    check('criteo switched off: its host kept, taboola\'s not', $r,
        [[CSP, "script-src 'self' https://static.criteo.net"]], 0,
        t => $rd);

    $rd->stop;
}

done_testing;
