# IAB strings (consent_iab): a TC string (euconsent-v2, or GPP section 2
# when __gpp_sid lists 2) from a trusted CMP decides where no Redis record
# or signed cookie does, mapped onto the module's purposes by
# consent_iab_map; its vendor consents strip the cookies of rules vendors
# with a GVL id; US opt-outs (GPP usnat/usca, uspv1, the usprivacy cookie)
# turn advertising and sharing off whatever the source.  $consent_iab, the
# "tcf=?1" of the Consent header, garbage strings, several visitors on
# one keep-alive connection and at once (the per-worker cache of decoded
# strings), HTTP/2, and configuration errors.
#
# Strings are made by t/lib/ConsentIAB.pm with fields relative to now.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);
use ConsentTest qw(std_rules mint_token keys_line config_test split_cookies
    time_scale);
use ConsentIAB qw(tcf_string gpp_string b64url_bits);

my $K1 = sha256('iab-test-key-1');
my $NOW = time;
my $DAY = 86400;

my @PURPOSES = qw(necessary functional analytics advertising personalization
    sharing);

# ---------------------------------------------------------------- cookies

# [name, purpose, vendor]: std_rules() and the rules file below
my @JAR = (
    [_ga      => 'analytics',       'google'],
    [_fbp     => 'advertising',     'meta'],
    [_gcl_au  => 'advertising',     'google'],
    [pref     => 'functional',      'site'],
    [perso    => 'personalization', 'site'],
    [share_id => 'sharing',         'databroker'],
    [adn_id   => 'advertising',     'adnet'],
    [trk_id   => 'advertising',     'trk'],
    [adn_an   => 'analytics',       'adnet'],
    [sid      => undef,             undef],
);
my %GVL = (adnet => 755, trk => 91);
my $JAR = join '; ', map { "$JAR[$_][0]=v$_" } 0 .. $#JAR;

# the cookies the CMP strings travel in, and the signed consent cookie:
# never stripped (no rule), left out of the comparisons of what is kept
my %IAB_COOKIE = map { $_ => 1 } qw(euconsent-v2 __gpp __gpp_sid usprivacy
    consent);

my $RULES = <<'EOF';
# vendors with an IAB Global Vendor List id
@vendor adnet name="Ad Net" gvl=755
@vendor trk gvl=91
adn_id      advertising     adnet
trk_id      advertising     trk
adn_an      analytics       adnet
EOF

# what a decision keeps: granted => [purposes], refused => [gvl ids]
sub expect_kept {
    my (%o) = @_;
    my %g = map { $_ => 1 } 'necessary', @{ $o{granted} };
    my %ref = map { $_ => 1 } @{ $o{refused} || [] };
    return [map { $_->[0] } grep {
        !defined $_->[1]
            || ($g{ $_->[1] } && !($GVL{ $_->[2] } && $ref{ $GVL{ $_->[2] } }))
    } @JAR];
}

sub purposes_str {
    my %g = map { $_ => 1 } 'necessary', @_;
    return join ',', grep { $g{$_} } @PURPOSES;
}

# names of the cookies that reached the raw origin, CMP cookies left out
sub kept_names {
    my ($r) = @_;
    return [grep { !$IAB_COOKIE{$_} }
        map { /\A([^=]*)/ ? $1 : $_ }
        map { split_cookies($_) } $r->raw_cookie_lines];
}

# the Consent header the raw origin received
sub consent_hdr {
    my ($r) = @_;
    return $r->raw_head =~ /^consent:[ \t]*(.*?)[ \t]*\r?$/mi ? $1 : undef;
}

sub consent_value {
    my ($tcf, @granted) = @_;
    my %g = map { $_ => 1 } @granted;
    return join(', ', (map { "$_=?" . ($g{$_} ? 1 : 0) }
        @PURPOSES[1 .. 5]), 'gpc=?0', 'v=0') . ($tcf ? ', tcf=?1' : '');
}

# ---------------------------------------------------------------- strings

my %MAPPED = (advertising => [1, 3, 4], analytics => [1, 7, 8, 9],
    personalization => [1, 5, 6]);

sub tc {
    my (%f) = @_;
    return tcf_string(cmp_id => 28, updated => $NOW - 60, %f);
}

my @ALL_P = (1 .. 11);
my $TC_ALL  = tc(purposes => \@ALL_P, features => [1, 2],
    vendors => [91, 755]);
my $TC_NONE = tc(purposes => [], features => [], vendors => [91, 755]);
my %GRANT_ALL = (granted => [qw(analytics advertising personalization)]);

# ---------------------------------------------------------------- server

my $VARS = "%%VARS_HEADERS%%\n"
    . "            add_header X-C-Iab \"\$consent_iab\" always;";

sub location {
    my ($path, $extra) = @_;
    $extra //= '';
    return <<"EOF";
        location $path {
            $extra
            proxy_pass %%RAW%%;
            $VARS
        }
EOF
}

# Set-Cookie from an origin location of the same server (consent off)
my $SC = join "\n", map { "            add_header Set-Cookie \"$_; Path=/\";" }
    qw(adn_id=s1 trk_id=s2 _fbp=s3 sid=s4 adn_an=s5 _ga=s6);

my $SERVER = <<"EOF";
        consent on;
        consent_region \$http_x_country;
        consent_iab on cmp=10,28,300;
${\ location('/') }
${\ location('/any/', 'consent_iab on cmp=any;') }
${\ location('/young/', 'consent_iab on cmp=28 max_age=1h;') }
${\ location('/off/', 'consent_iab off;') }
        location /sc-origin/ {
            consent off;
$SC
            return 200 "ok\\n";
        }
        location /sc/ {
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
            $VARS
        }
EOF

my $HTTP = std_rules() . <<'EOF';
    consent_rules %%DIR%%/vendors.rules;
    consent_keys %%DIR%%/keys;
    large_client_header_buffers 4 64k;
    proxy_buffers 32 8k;
EOF

my $t = ConsentTest->new(
    name   => 'iab',
    h2     => 1,
    files  => { keys => keys_line('k1', $K1), 'vendors.rules' => $RULES },
    http   => $HTTP,
    server => $SERVER,
);

# visit($path, country => 'FR', iab => [[name => value], ...] (cookies
# before the jar), cookie => (instead of the jar), headers => [...])
sub visit {
    my ($path, %o) = @_;
    my $inst = $o{t} || $t;
    my @pairs = map { "$_->[0]=$_->[1]" } @{ $o{iab} || [] };
    my $cookie = join '; ', @pairs, $o{cookie} // $JAR;
    return $inst->get($path, headers => [
        ['X-Country' => $o{country} // 'FR'],
        [Cookie => $cookie],
        @{ $o{headers} || [] },
    ]);
}

# the checks most cases make: source, $consent_iab, purposes, kept cookies
sub decided {
    my ($r, $what, %e) = @_;
    is($r->status, 200, "$what: 200");
    is($r->var('source'), $e{source}, "$what: \$consent_source $e{source}")
        if defined $e{source};
    is($r->var('iab'), $e{iab}, "$what: \$consent_iab '$e{iab}'")
        if defined $e{iab};
    if ($e{granted}) {
        is($r->var('purposes'), purposes_str(@{ $e{granted} }),
            "$what: purposes");
        is_deeply(kept_names($r), expect_kept(%e), "$what: cookies kept")
            or diag join ' | ', $r->raw_cookie_lines;
    }
}

# --- a trusted TC string decides

{
    my $r = visit('/grant', iab => [['euconsent-v2' => $TC_ALL]]);
    decided($r, 'TC grant, FR', source => 'iab', iab => 'used', %GRANT_ALL);
    is($r->var('advertising'), '1', 'TC grant: $consent_advertising 1');
    is($r->var('stripped'), 'pref,share_id',
        'TC grant: functional and sharing (unmapped) keep the FR default');
    is(consent_hdr($r),
        consent_value(1, qw(analytics advertising personalization)),
        'TC grant: Consent header ends with tcf=?1');
    my @lines = $r->raw_cookie_lines;
    like($lines[0] // '', qr/\Aeuconsent-v2=\Q$TC_ALL\E; _ga=v0; _fbp=v1;/,
        'TC grant: the TC string itself reaches the origin untouched');

    # the same string in the US: unmapped purposes keep opt_out's "on"
    $r = visit('/grant-us', country => 'US',
        iab => [['euconsent-v2' => $TC_ALL]]);
    decided($r, 'TC grant, US', source => 'iab', iab => 'used',
        granted => [@PURPOSES[1 .. 5]]);

    # a TC string that grants nothing: mapped purposes off, even in the US
    $r = visit('/none-us', country => 'US',
        iab => [['euconsent-v2' => $TC_NONE]]);
    decided($r, 'TC refuses all, US', source => 'iab', iab => 'used',
        granted => [qw(functional sharing)]);
    is(consent_hdr($r), consent_value(1, qw(functional sharing)),
        'TC refuses all, US: Consent header');

    $r = visit('/none-fr', iab => [['euconsent-v2' => $TC_NONE]]);
    decided($r, 'TC refuses all, FR', source => 'iab', iab => 'used',
        granted => []);

    # the notice regime: analytics and personalization on by default, but
    # mapped, so the TC string decides them too
    $r = visit('/none-jp', country => 'JP',
        iab => [['euconsent-v2' => $TC_NONE]]);
    decided($r, 'TC refuses all, JP', source => 'iab', iab => 'used',
        granted => [qw(functional)]);
}

# --- a missing TCF purpose or special feature strips that purpose only

for my $case (
    ['no purposes 5, 6', [1, 3, 4, 7, 8, 9], [1], [qw(analytics advertising)]],
    ['no purpose 9', [1, 3, 4, 5, 6, 7, 8], [1],
        [qw(advertising personalization)]],
    ['no special feature 1', \@ALL_P, [2],
        [qw(analytics personalization)]],
    ['no purpose 4', [1, 2, 3, 5 .. 11], [1],
        [qw(analytics personalization)]],
    ['no purpose 1', [2 .. 11], [1, 2], []],
    ['exactly the default map', [1, 3, 4, 5, 6, 7, 8, 9], [1],
        [qw(analytics advertising personalization)]],
) {
    my ($what, $p, $sf, $granted) = @$case;
    my $s = tc(purposes => $p, features => $sf, vendors => [91, 755]);
    my $r = visit('/missing', iab => [['euconsent-v2' => $s]]);
    decided($r, "TC $what", source => 'iab', iab => 'used',
        granted => $granted);
    is(consent_hdr($r), consent_value(1, @$granted),
        "TC $what: Consent header");
}

# --- when a TC string does not decide

for my $case (
    ['untrusted CMP 29', '/', tc(cmp_id => 29, purposes => \@ALL_P,
        features => [1]), 'cmp'],
    ['CMP 0', '/', tc(cmp_id => 0, purposes => \@ALL_P, features => [1]),
        'cmp'],
    ['expired (391 days)', '/', tc(purposes => \@ALL_P, features => [1],
        updated => $NOW - 391 * $DAY), 'expired'],
    ['future (2 days ahead)', '/', tc(purposes => \@ALL_P, features => [1],
        updated => $NOW + 2 * $DAY), 'future'],
    ['max_age=1h, 2 hours old', '/young/', tc(purposes => \@ALL_P,
        features => [1], updated => $NOW - 7200), 'expired'],
    ['location cmp=28 only, CMP 10', '/young/', tc(cmp_id => 10,
        purposes => \@ALL_P, features => [1]), 'cmp'],
) {
    my ($what, $path, $s, $why) = @$case;
    my $r = visit($path, iab => [['euconsent-v2' => $s]]);
    decided($r, $what, source => 'default', iab => $why, granted => []);
    is(consent_hdr($r), consent_value(0), "$what: no tcf=?1");

    # in the US the opt_out default stands: the refusal is not applied
    $r = visit($path, country => 'US', iab => [['euconsent-v2' => $s]]);
    decided($r, "$what, US", source => 'default', iab => $why,
        granted => [@PURPOSES[1 .. 5]]);
}

for my $case (
    ['CMP 300', '/', cmp_id => 300],
    ['CMP 10', '/', cmp_id => 10],
    ['389 days old', '/', updated => $NOW - 389 * $DAY,
        created => $NOW - 500 * $DAY],
    ['an hour ahead', '/', updated => $NOW + 3600],
    ['max_age=1h, 30 minutes old', '/young/', updated => $NOW - 1800],
    ['cmp=any, CMP 4000', '/any/', cmp_id => 4000],
    ['cmp=any, CMP 29', '/any/', cmp_id => 29],
    ['range-encoded vendors', '/', range => 1],
    ['padded as the IAB library pads', '/', pad => 24],
) {
    my ($what, $path, %f) = @$case;
    my $s = tc(purposes => \@ALL_P, features => [1, 2],
        vendors => [91, 755], %f);
    my $r = visit($path, iab => [['euconsent-v2' => $s]]);
    decided($r, $what, source => 'iab', iab => 'used', %GRANT_ALL);
}

# --- consent_iab off: the strings are not read

{
    my $r = visit('/off/x', iab => [['euconsent-v2' => $TC_ALL]]);
    decided($r, 'consent_iab off', source => 'default', iab => '',
        granted => []);
    is(consent_hdr($r), consent_value(0), 'consent_iab off: no tcf=?1');

    $r = visit('/off/us', country => 'US', iab => [
        ['__gpp' => gpp_string({ id => 'usnat', sale_opt_out => 1 })],
        ['__gpp_sid' => '7'], [usprivacy => '1YYN']]);
    decided($r, 'consent_iab off, US opt-outs', source => 'default',
        iab => '', granted => [@PURPOSES[1 .. 5]]);

    $r = visit('/nothing', country => 'FR');
    decided($r, 'no IAB cookie at all', source => 'default', iab => '',
        granted => []);
}

# --- the signed consent cookie outranks a TC string

{
    my $mask = 0x05;    # necessary, analytics
    my $tok = mint_token('k1', $K1, 'subjIAB', $mask, 1, $NOW - 5);
    my $r = visit('/tok', iab => [[consent => $tok],
        ['euconsent-v2' => $TC_ALL]]);
    decided($r, 'token + TC', source => 'cookie', iab => 'recorded',
        granted => ['analytics']);
    unlike(consent_hdr($r) // '', qr/tcf/, 'token + TC: no tcf=?1');

    # a token granting everything is not undone by a TC string refusing
    $tok = mint_token('k1', $K1, 'subjAll', 0x3f, 1, $NOW - 5);
    $r = visit('/tok-all', iab => [[consent => $tok],
        ['euconsent-v2' => $TC_NONE]]);
    decided($r, 'token all + TC none', source => 'cookie',
        iab => 'recorded', granted => [@PURPOSES[1 .. 5]]);

    # a token that does not verify: the TC string decides
    my ($payload, $sig) = $tok =~ /\A(.*)\.([^.]+)\z/;
    my $bad = "$payload." . ($sig =~ /\AA/ ? 'B' : 'A') . substr($sig, 1);
    $r = visit('/tok-bad', iab => [[consent => $bad],
        ['euconsent-v2' => $TC_ALL]]);
    decided($r, 'forged token + TC', source => 'iab', iab => 'used',
        %GRANT_ALL);
}

# --- per vendor: TCF vendor consent for rules vendors with gvl=

{
    my $only91 = tc(purposes => \@ALL_P, features => [1, 2], vendors => [91]);
    my $r = visit('/v91', iab => [['euconsent-v2' => $only91]]);
    decided($r, 'vendor 755 refused', source => 'iab', iab => 'used',
        %GRANT_ALL, refused => [755]);
    is($r->var('stripped'), 'pref,share_id,adn_id,adn_an',
        'vendor 755 refused: $consent_stripped');

    my $only755 = tc(purposes => \@ALL_P, features => [1, 2],
        vendors => [755], range => 1);
    $r = visit('/v755', iab => [['euconsent-v2' => $only755]]);
    decided($r, 'vendor 91 refused (ranges)', source => 'iab',
        iab => 'used', %GRANT_ALL, refused => [91]);

    my $novendor = tc(purposes => \@ALL_P, features => [1, 2], vendors => [],
        vendors_li => [91, 755]);
    $r = visit('/vnone', iab => [['euconsent-v2' => $novendor]]);
    decided($r, 'no vendor consent (LI only)', source => 'iab',
        iab => 'used', %GRANT_ALL, refused => [91, 755]);

    # a vendor's refusal is not a purpose's: _gcl_au (google, no gvl=)
    # stays, as does trk_id next to the refused adn_id
    ok((grep { $_ eq '_gcl_au' } @{ kept_names($r) }),
        'no vendor consent: a vendor without gvl= keeps its cookies');

    # an untrusted TC string's vendor consents change nothing
    my $untrusted = tc(cmp_id => 29, purposes => \@ALL_P, vendors => []);
    $r = visit('/vuntrusted', country => 'US',
        iab => [['euconsent-v2' => $untrusted]]);
    decided($r, 'untrusted TC without vendors, US', source => 'default',
        iab => 'cmp', granted => [@PURPOSES[1 .. 5]]);

    # nor do they when the signed cookie decides
    my $tok = mint_token('k1', $K1, 'subjVend', 0x3f, 1, $NOW - 5);
    $r = visit('/vtok', iab => [[consent => $tok],
        ['euconsent-v2' => $novendor]]);
    decided($r, 'token all + TC without vendors', source => 'cookie',
        iab => 'recorded', granted => [@PURPOSES[1 .. 5]]);

    # Set-Cookie from the origin
    $r = visit('/sc/', iab => [['euconsent-v2' => $only91]]);
    is($r->status, 200, 'Set-Cookie, vendor 755 refused: 200');
    is_deeply([$r->header_all('Set-Cookie')],
        ['trk_id=s2; Path=/', '_fbp=s3; Path=/', 'sid=s4; Path=/',
         '_ga=s6; Path=/'],
        'Set-Cookie: adn_id and adn_an (vendor 755) dropped, '
        . 'the others kept in order');

    $r = visit('/sc/', iab => [['euconsent-v2' => $TC_ALL]]);
    is_deeply([$r->header_all('Set-Cookie')],
        ['adn_id=s1; Path=/', 'trk_id=s2; Path=/', '_fbp=s3; Path=/',
         'sid=s4; Path=/', 'adn_an=s5; Path=/', '_ga=s6; Path=/'],
        'Set-Cookie: both vendors consented, all kept');

    $r = visit('/sc/', iab => [['euconsent-v2' => $novendor]]);
    is_deeply([$r->header_all('Set-Cookie')],
        ['_fbp=s3; Path=/', 'sid=s4; Path=/', '_ga=s6; Path=/'],
        'Set-Cookie: no vendor consent, adn_* and trk_id dropped');

    $r = visit('/sc/', country => 'US',
        iab => [['euconsent-v2' => $untrusted]]);
    is(scalar(() = $r->header_all('Set-Cookie')), 6,
        'Set-Cookie: untrusted TC string in the US, all six kept');
}

# --- US opt-outs: GPP usnat and usca, uspv1, usprivacy

my %US_ALL = (granted => [@PURPOSES[1 .. 5]]);
my %US_OUT = (granted => [qw(functional analytics personalization)]);

sub us_visit {
    my ($path, @iab) = @_;
    return visit($path, country => 'US', iab => \@iab);
}

sub opted_out {
    my ($r, $what) = @_;
    decided($r, $what, source => 'default', iab => '', %US_OUT);
    is($r->var('advertising'), '0', "$what: \$consent_advertising 0");
    is($r->var('sharing'), '0', "$what: \$consent_sharing 0");
    my $c = consent_hdr($r) // '';
    like($c, qr/\badvertising=\?0\b.*\bsharing=\?0\b/,
        "$what: Consent says advertising and sharing off");
    unlike($c, qr/tcf/, "$what: no tcf=?1 (no TC string)");
}

sub not_opted_out {
    my ($r, $what) = @_;
    decided($r, $what, source => 'default', iab => '', %US_ALL);
}

for my $case (
    ['usnat SaleOptOut', { id => 7, sale_opt_out => 1 }, '7'],
    ['usnat SharingOptOut', { id => 7, sharing_opt_out => 1 }, '7'],
    ['usnat TargetedAdvertisingOptOut',
        { id => 'usnat', targeted_advertising_opt_out => 1 }, '7'],
    ['usnat Gpc', { id => 7, gpc => 1 }, '7'],
    ['usnat v2 SaleOptOut', { id => 7, version => 2, sale_opt_out => 1,
        gpc => 0 }, '7'],
    ['usca SaleOptOut', { id => 'usca', sale_opt_out => 1 }, '8'],
    ['usca SharingOptOut', { id => 8, sharing_opt_out => 1, gpc => 0 }, '8'],
    ['usca Gpc', { id => 8, gpc => 1 }, '8'],
    ['uspv1 1YYN in GPP', { id => 'uspv1', usp => '1YYN' }, '6'],
) {
    my ($what, $sec, $sid) = @$case;
    my $gpp = gpp_string($sec);
    opted_out(us_visit('/us-out', ['__gpp' => $gpp], ['__gpp_sid' => $sid]),
        "GPP $what, sid $sid");
}

for my $case (
    ['usnat, nobody opted out', { id => 7 }, '7'],
    ['usnat, 0 (not applicable)', { id => 7, sale_opt_out => 0,
        sharing_opt_out => 0, targeted_advertising_opt_out => 0 }, '7'],
    ['usnat Gpc 0', { id => 7, gpc => 0 }, '7'],
    ['usnat opt-out notices only', { id => 7, sale_opt_out_notice => 1,
        sharing_opt_out_notice => 1 }, '7'],
    ['usca, nobody opted out', { id => 8, gpc => 0 }, '8'],
    ['uspv1 1YNN in GPP', { id => 6, usp => '1YNN' }, '6'],
) {
    my ($what, $sec, $sid) = @$case;
    not_opted_out(us_visit('/us-in', ['__gpp' => gpp_string($sec)],
        ['__gpp_sid' => $sid]), "GPP $what");
}

# __gpp_sid: only the sections it lists count; without a valid one, all
{
    my $gpp = gpp_string({ id => 7, sale_opt_out => 1 }, { id => 8 });
    opted_out(us_visit('/sid/none', ['__gpp' => $gpp]),
        'usnat opt-out, no __gpp_sid');
    opted_out(us_visit('/sid/78', ['__gpp' => $gpp], ['__gpp_sid' => '7,8']),
        'usnat opt-out, __gpp_sid 7,8');
    opted_out(us_visit('/sid/7', ['__gpp' => $gpp], ['__gpp_sid' => '7']),
        'usnat opt-out, __gpp_sid 7');
    not_opted_out(us_visit('/sid/8', ['__gpp' => $gpp], ['__gpp_sid' => '8']),
        'usnat opt-out, __gpp_sid 8 (usnat does not apply)');
    not_opted_out(us_visit('/sid/2', ['__gpp' => $gpp], ['__gpp_sid' => '2']),
        'usnat opt-out, __gpp_sid 2 (no such section)');
    not_opted_out(us_visit('/sid/-1', ['__gpp' => $gpp],
        ['__gpp_sid' => '-1']),
        'usnat opt-out, __gpp_sid -1 (no section applies)');
    opted_out(us_visit('/sid/bad', ['__gpp' => $gpp],
        ['__gpp_sid' => 'seven']),
        'usnat opt-out, __gpp_sid invalid: every section counts');

    # the opt-out in a section sid does not list, another one listed
    my $gpp2 = gpp_string({ id => 7 }, { id => 8, sale_opt_out => 1 });
    not_opted_out(us_visit('/sid/78b', ['__gpp' => $gpp2],
        ['__gpp_sid' => '7']),
        'usca opt-out, __gpp_sid lists only usnat');
    opted_out(us_visit('/sid/78c', ['__gpp' => $gpp2],
        ['__gpp_sid' => '8']),
        'usca opt-out, __gpp_sid lists usca');
}

# the usprivacy cookie
{
    opted_out(us_visit('/usp/yy', [usprivacy => '1YYN']), 'usprivacy 1YYN');
    opted_out(us_visit('/usp/ny', [usprivacy => '1NYY']), 'usprivacy 1NYY');
    not_opted_out(us_visit('/usp/yn', [usprivacy => '1YNN']),
        'usprivacy 1YNN');
    not_opted_out(us_visit('/usp/na', [usprivacy => '1---']),
        'usprivacy 1---');
    not_opted_out(us_visit('/usp/bad', [usprivacy => '2YYN']),
        'usprivacy version 2: not read');
    not_opted_out(us_visit('/usp/long', [usprivacy => '1YYNN']),
        'usprivacy of 5 bytes: not read');
}

# whatever the source: over a signed cookie, over a TC string
{
    my $tok = mint_token('k1', $K1, 'subjUS', 0x3f, 1, $NOW - 5);
    my $r = visit('/usp/tok', iab => [[consent => $tok],
        [usprivacy => '1YYN']]);
    decided($r, 'token all + usprivacy 1YYN, FR', source => 'cookie',
        %US_OUT);

    $r = visit('/usp/tc', country => 'US', iab => [
        ['euconsent-v2' => $TC_ALL],
        ['__gpp' => gpp_string({ id => 7, sharing_opt_out => 1 })],
        ['__gpp_sid' => '7']]);
    decided($r, 'TC all + usnat opt-out, US', source => 'iab', iab => 'used',
        %US_OUT);
    like(consent_hdr($r) // '',
        qr/\Afunctional=\?1,\ analytics=\?1,\ advertising=\?0,
           \ personalization=\?1,\ sharing=\?0,\ .*,\ tcf=\?1\z/x,
        'TC all + usnat opt-out: Consent header (gpc= not asserted)');
}

# --- GPP section 2: used only when __gpp_sid lists 2

{
    my $gpp_all = gpp_string({ id => 2, tcf => $TC_ALL });
    my $r = visit('/gpp2/sid2', iab => [['euconsent-v2' => $TC_NONE],
        ['__gpp' => $gpp_all], ['__gpp_sid' => '2']]);
    decided($r, 'GPP tcfeuv2, sid 2: wins over euconsent-v2',
        source => 'iab', iab => 'used', %GRANT_ALL);
    is(consent_hdr($r),
        consent_value(1, qw(analytics advertising personalization)),
        'GPP tcfeuv2, sid 2: tcf=?1');

    $r = visit('/gpp2/sid7', iab => [['euconsent-v2' => $TC_NONE],
        ['__gpp' => $gpp_all], ['__gpp_sid' => '7']]);
    decided($r, 'GPP tcfeuv2, sid 7: euconsent-v2 decides', source => 'iab',
        iab => 'used', granted => []);

    $r = visit('/gpp2/nosid', iab => [['euconsent-v2' => $TC_NONE],
        ['__gpp' => $gpp_all]]);
    decided($r, 'GPP tcfeuv2, no sid: euconsent-v2 decides',
        source => 'iab', iab => 'used', granted => []);

    $r = visit('/gpp2/alone', iab => [['__gpp' => $gpp_all]]);
    decided($r, 'GPP tcfeuv2 alone, no sid: not used', source => 'default',
        iab => '', granted => []);

    $r = visit('/gpp2/alone-sid', iab => [['__gpp' => $gpp_all],
        ['__gpp_sid' => '2,7']]);
    decided($r, 'GPP tcfeuv2 alone, sid 2,7', source => 'iab',
        iab => 'used', %GRANT_ALL);

    my $gpp_cmp = gpp_string({ id => 2, tcf => { cmp_id => 29,
        purposes => \@ALL_P, features => [1] } });
    $r = visit('/gpp2/cmp', iab => [['__gpp' => $gpp_cmp],
        ['__gpp_sid' => '2']]);
    decided($r, 'GPP tcfeuv2 of an untrusted CMP', source => 'default',
        iab => 'cmp', granted => []);

    # section 2 and a US opt-out in one string
    my $gpp_mix = gpp_string({ id => 2, tcf => $TC_ALL },
        { id => 7, sale_opt_out => 1 });
    $r = visit('/gpp2/mix', country => 'US', iab => [['__gpp' => $gpp_mix],
        ['__gpp_sid' => '2,7']]);
    decided($r, 'GPP tcfeuv2 + usnat opt-out, US', source => 'iab',
        iab => 'used', %US_OUT);

    # vendor consents come from the string that decides
    my $gpp_91 = gpp_string({ id => 2, tcf => { purposes => \@ALL_P,
        features => [1, 2], vendors => [91], updated => $NOW - 60 } });
    $r = visit('/gpp2/vendor', iab => [['euconsent-v2' => $TC_ALL],
        ['__gpp' => $gpp_91], ['__gpp_sid' => '2']]);
    decided($r, 'GPP tcfeuv2 without vendor 755', source => 'iab',
        iab => 'used', %GRANT_ALL, refused => [755]);
}

# --- garbage: ignored, 200, nothing alarming logged

{
    my $alarming = qr/\[(?:warn|error|crit|alert|emerg)\]|exited on signal/;
    my $before = $t->error_log_count($alarming);

    my $core_only = (split /\./, $TC_ALL)[0];
    for my $case (
        ['not base64url', 'CP*not+base64/at-all!'],
        ['truncated', substr($TC_ALL, 0, 20)],
        ['core segment cut at a field', substr($TC_ALL, 0, 35)],
        ['20 KB', 'C' . ('A' x 20_000)],
        ['version 1', tc(version => 1, purposes => \@ALL_P)],
        ['version 3', tc(version => 3, purposes => \@ALL_P)],
        ['no disclosed vendors segment', tc(purposes => \@ALL_P,
            no_disclosed => 1)],
        ['core only', $core_only],
        ['empty segment', "$core_only..IAAA"],
        ['an unknown segment type',
            "$TC_ALL." . b64url_bits('101' . '0' x 21)],
        ['the disclosed vendors segment twice',
            "$TC_ALL." . (split /\./, $TC_ALL)[1]],
        ['GPP string as TC string', gpp_string({ id => 7 })],
    ) {
        my ($what, $s) = @$case;
        my $r = visit('/garbage', iab => [['euconsent-v2' => $s]]);
        decided($r, "euconsent-v2 $what", source => 'default',
            iab => 'invalid', granted => []);
    }

    for my $case (
        ['empty', ''],
        ['one byte', 'A'],
        ['two layers of quotes', '""'],
    ) {
        my ($what, $s) = @$case;
        my $r = visit('/garbage-empty', iab => [['euconsent-v2' => $s]]);
        decided($r, "euconsent-v2 $what", source => 'default',
            granted => []);
    }

    # a GPP string the decoder refuses takes nothing else down with it,
    # but where __gpp_sid says a US section applies (7), what that section
    # said cannot be known: the visitor counts as opted out
    for my $case (
        ['not base64url', 'DBABL~BVVqAAAAAg*'],
        ['more ids than sections', 'DBACNY~1YNN'],
        ['header only, cut', 'DBA'],
        ['20 KB', 'DBABL~' . ('A' x 20_000)],
        ['wrong type', 'EBABL~BVVqAAAAAg'],
        ['bad tcfeuv2', gpp_string({ id => 2, tcf => 'CAAA' },
            { id => 7, sale_opt_out => 1 })],
    ) {
        my ($what, $s) = @$case;
        my $r = visit('/garbage-gpp', iab => [['euconsent-v2' => $TC_ALL],
            ['__gpp' => $s], ['__gpp_sid' => '2']]);
        decided($r, "__gpp $what, euconsent-v2 valid", source => 'iab',
            iab => 'used', %GRANT_ALL);

        $r = visit('/garbage-gpp', iab => [['euconsent-v2' => $TC_ALL],
            ['__gpp' => $s], ['__gpp_sid' => '2,7']]);
        decided($r, "__gpp $what, sid 2,7, euconsent-v2 valid",
            source => 'iab', iab => 'used',
            granted => [qw(analytics personalization)]);

        $r = visit('/garbage-gpp-us', country => 'US',
            iab => [['__gpp' => $s], ['__gpp_sid' => '7']]);
        decided($r, "__gpp $what, sid 7, US: opted out", source => 'default',
            %US_OUT);

        $r = visit('/garbage-gpp-us', country => 'US',
            iab => [['__gpp' => $s], ['__gpp_sid' => '2']]);
        decided($r, "__gpp $what, sid 2, US", source => 'default', %US_ALL);
    }

    for my $s ('', 'YYYY', '1YY', '1Y?N', '1YYNN' x 4000) {
        my $r = us_visit('/garbage-usp', [usprivacy => $s]);
        decided($r, 'usprivacy garbage (' . length($s) . ' bytes)',
            source => 'default', %US_ALL);
    }

    # the first occurrence of each name counts
    my $r = visit('/dup/first', iab => [['euconsent-v2' => $TC_NONE],
        ['euconsent-v2' => $TC_ALL]]);
    decided($r, 'two euconsent-v2: the first decides', source => 'iab',
        iab => 'used', granted => []);

    $r = $t->get('/dup/lines', headers => [['X-Country' => 'FR'],
        [Cookie => "euconsent-v2=$TC_ALL; _ga=1"],
        [Cookie => "euconsent-v2=$TC_NONE; _fbp=2"]]);
    is($r->var('source'), 'iab', 'euconsent-v2 in two Cookie lines: iab');
    is($r->var('purposes'),
        purposes_str(qw(analytics advertising personalization)),
        'euconsent-v2 in two Cookie lines: the first line\'s decides');

    $r = us_visit('/dup/usp', [usprivacy => '1YNN'], [usprivacy => '1YYN']);
    not_opted_out($r, 'two usprivacy: the first counts');

    $r = us_visit('/dup/sid', ['__gpp' => gpp_string({ id => 7,
        sale_opt_out => 1 })], ['__gpp_sid' => '8'], ['__gpp_sid' => '7']);
    not_opted_out($r, 'two __gpp_sid: the first counts');

    # many duplicates, many junk values
    my $short = tc(purposes => \@ALL_P, features => [1, 2],
        vendors => [91, 755], range => 1);
    $r = visit('/dup/many', iab => [(['euconsent-v2' => $short]) x 300]);
    decided($r, '300 copies of euconsent-v2', source => 'iab',
        iab => 'used', %GRANT_ALL);

    $r = visit('/dup/junk', iab => [map { ['euconsent-v2' => "junk$_"] }
        1 .. 500]);
    decided($r, '500 junk euconsent-v2', source => 'default',
        iab => 'invalid', granted => []);

    $r = visit('/dup/mixed', iab => [map { (['__gpp' => "x$_"],
        ['__gpp_sid' => "$_"], [usprivacy => "1Y$_"]) } 1 .. 200]);
    decided($r, '600 junk GPP and US Privacy cookies', source => 'default',
        granted => []);

    is($t->error_log_count($alarming) - $before, 0,
        'garbage: no warn/error/crit/alert/emerg in error.log')
        or diag join '', grep { $_ =~ $alarming }
            split /^/, $t->read_file('error.log');
}

# --- visitors with different strings: one connection, and at once

# what each visitor sends and must get; region, cookies, expected
my @VISITORS = (
    { name => 'grant-all', country => 'FR',
      send => [['euconsent-v2' => $TC_ALL]],
      source => 'iab', iab => 'used', %GRANT_ALL },
    { name => 'refuse-all', country => 'FR',
      send => [['euconsent-v2' => $TC_NONE]],
      source => 'iab', iab => 'used', granted => [] },
    { name => 'ads-only-vendor-91', country => 'FR',
      send => [['euconsent-v2' => tc(purposes => [1, 3, 4], features => [1],
          vendors => [91])]],
      source => 'iab', iab => 'used', granted => ['advertising'],
      refused => [755] },
    { name => 'refuse-all-us', country => 'US',
      send => [['euconsent-v2' => $TC_NONE]],
      source => 'iab', iab => 'used', granted => [qw(functional sharing)] },
    { name => 'untrusted', country => 'FR',
      send => [['euconsent-v2' => tc(cmp_id => 29, purposes => \@ALL_P,
          features => [1])]],
      source => 'default', iab => 'cmp', granted => [] },
    { name => 'gpp-opt-out', country => 'US',
      send => [['__gpp' => gpp_string({ id => 7, sale_opt_out => 1 })],
          ['__gpp_sid' => '7']],
      source => 'default', iab => '', %US_OUT },
    { name => 'analytics-only', country => 'JP',
      send => [['euconsent-v2' => tc(purposes => [1, 7, 8, 9],
          vendors => [])]],
      source => 'iab', iab => 'used', granted => [qw(functional analytics)],
      refused => [91, 755] },
);

for my $v (@VISITORS) {
    $v->{cookie} = join '; ', (map { "$_->[0]=$_->[1]" } @{ $v->{send} }),
        $JAR;
    $v->{purposes} = purposes_str(@{ $v->{granted} });
    $v->{kept} = join ',', @{ expect_kept(%$v) };
    $v->{tcf} = $v->{source} eq 'iab' ? 1 : 0;
}

# one request on an open keep-alive connection: a ConsentTest::Response
sub ka_request {
    my ($inst, $s, $v, $n) = @_;
    return $inst->ka_request($s, "GET /ka/$v->{name}/$n HTTP/1.1\r\n"
        . "Host: localhost\r\nX-Req: ka-$$-$n\r\n"
        . "X-Country: $v->{country}\r\nCookie: $v->{cookie}\r\n\r\n");
}

# what is wrong with a visitor's answer, '' when nothing
sub ka_check {
    my ($r, $v) = @_;
    return 'no answer' unless $r;
    my @bad;
    push @bad, 'status ' . $r->status if $r->status != 200;
    push @bad, "source " . $r->var('source')
        if $r->var('source') ne $v->{source};
    push @bad, "iab '" . $r->var('iab') . "'" if $r->var('iab') ne $v->{iab};
    push @bad, 'purposes ' . $r->var('purposes')
        if $r->var('purposes') ne $v->{purposes};
    my $kept = join ',', @{ kept_names($r) };
    push @bad, "kept $kept" if $kept ne $v->{kept};
    my $tcf = (consent_hdr($r) // '') =~ /, tcf=\?1\z/ ? 1 : 0;
    push @bad, "tcf=$tcf" if $tcf != $v->{tcf};
    return join '; ', @bad;
}

sub alternate {
    my ($inst, $label) = @_;
    my $s = $inst->ka_connect;
    my @bad;
    my $n = 0;
    for my $round (1 .. 4) {
        for my $v (@VISITORS, reverse @VISITORS) {
            my $r = ka_request($inst, $s, $v, ++$n);
            my $why = ka_check($r, $v);
            push @bad, "#$n $v->{name}: $why" if length $why;
            unless ($r) { $s = $inst->ka_connect }
        }
    }
    close $s;
    is_deeply(\@bad, [], "$label: $n requests on one keep-alive connection, "
        . 'alternating visitors, each its own decision')
        or diag join "\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)];
}

sub concurrently {
    my ($inst, $label) = @_;
    my ($clients, $each) = (6, 60);
    my $dir = $inst->dir;
    my @pids;
    for my $c (1 .. $clients) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            srand($$ ^ time);
            my @bad;
            my $ok = eval {
                my $s = $inst->ka_connect;
                for my $n (1 .. $each) {
                    my $v = $VISITORS[int rand @VISITORS];
                    my $r = ka_request($inst, $s, $v, $c * 1000 + $n);
                    my $why = ka_check($r, $v);
                    push @bad, "client $c #$n $v->{name}: $why"
                        if length $why;
                    $s = $inst->ka_connect unless $r;
                }
                1;
            };
            push @bad, "client $c died: $@" unless $ok;
            open my $fh, '>', "$dir/ka-$c.out";
            print $fh map { "$_\n" } @bad;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my @bad;
    for my $c (1 .. $clients) {
        my $f = "$dir/ka-$c.out";
        if (!-e $f) { push @bad, "client $c left no result"; next }
        push @bad, grep { length } split /\n/, $inst->read_file($f);
    }
    is_deeply(\@bad, [], "$label: $clients keep-alive clients x $each "
        . 'random visitors at once, each its own decision')
        or diag join "\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)];
}

alternate($t, 'default cache');
concurrently($t, 'default cache');

# --- HTTP/2

SKIP: {
    my $have_nghttp = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
    skip 'nghttp (nghttp2-client) not installed', 12 unless $have_nghttp;

    my $r = $t->h2_get('/h2/grant', headers => [['x-country' => 'FR'],
        [cookie => "euconsent-v2=$TC_ALL"], [cookie => '_ga=1; _fbp=2'],
        [cookie => 'pref=3'], [cookie => 'adn_id=4; sid=5']]);
    is($r->{rc}, 0, 'h2 grant: nghttp exit 0') or diag $r->{output};
    is($r->status, 200, 'h2 grant: 200');
    is($r->var('source'), 'iab', 'h2 grant: source iab');
    is($r->var('iab'), 'used', 'h2 grant: $consent_iab used');
    is_deeply(kept_names($r), [qw(_ga _fbp adn_id sid)],
        'h2 grant: cookie fields filtered, pref stripped');
    is(consent_hdr($r),
        consent_value(1, qw(analytics advertising personalization)),
        'h2 grant: Consent with tcf=?1');

    $r = $t->h2_get('/h2/optout', headers => [['x-country' => 'US'],
        [cookie => '__gpp=' . gpp_string({ id => 7, sale_opt_out => 1 })],
        [cookie => '__gpp_sid=7'], [cookie => '_ga=1; _fbp=2'],
        [cookie => 'share_id=3; sid=4']]);
    is($r->{rc}, 0, 'h2 opt-out: nghttp exit 0') or diag $r->{output};
    is($r->status, 200, 'h2 opt-out: 200');
    is($r->var('purposes'), purposes_str(@{ $US_OUT{granted} }),
        'h2 opt-out: purposes without advertising and sharing');
    is($r->var('stripped'), '_fbp,share_id', 'h2 opt-out: stripped');
    is_deeply(kept_names($r), [qw(_ga sid)], 'h2 opt-out: cookies kept');

    $r = $t->h2_get('/h2/usp', headers => [['x-country' => 'US'],
        [cookie => 'usprivacy=1YYN'], [cookie => '_fbp=2; _ga=1']]);
    is_deeply(kept_names($r), ['_ga'], 'h2 usprivacy 1YYN: _fbp stripped');
}

$t->stop;

# --- the decoded-strings cache: one entry, none

for my $size (1, 0) {
    my $c = ConsentTest->new(
        name    => "iab-cache-$size",
        workers => 2,
        files   => { keys => keys_line('k1', $K1),
                     'vendors.rules' => $RULES },
        http    => $HTTP . "    consent_iab_cache $size;\n",
        server  => $SERVER,
    );
    alternate($c, "consent_iab_cache $size");
    concurrently($c, "consent_iab_cache $size");
    $c->stop;
}

# --- consent_iab_map

{
    my $m = ConsentTest->new(
        name   => 'iab-map',
        files  => { keys => keys_line('k1', $K1),
                    'vendors.rules' => $RULES },
        http   => $HTTP . <<'EOF',
    consent_iab_map advertising 2;
    consent_iab_map functional 1 10;
    consent_iab_map personalization off;
EOF
        server => $SERVER,
    );

    for my $case (
        ['purpose 2 alone', 'FR', [2], [], [qw(advertising)]],
        ['purposes 1 and 10', 'FR', [1, 10], [], [qw(functional)]],
        ['purposes 1-11, no special feature', 'FR', \@ALL_P, [],
            [qw(functional analytics advertising)]],
        ['purposes 1, 3, 4 and sf1 (the default map\'s)', 'FR', [1, 3, 4],
            [1], []],
        ['nothing, US', 'US', [], [], [qw(personalization sharing)]],
        ['purposes 5, 6, US: personalization unmapped', 'US', [5, 6], [],
            [qw(personalization sharing)]],
    ) {
        my ($what, $country, $p, $sf, $granted) = @$case;
        my $r = visit('/map', t => $m, country => $country,
            iab => [['euconsent-v2' => tc(purposes => $p, features => $sf,
                vendors => [91, 755])]]);
        decided($r, "map: $what", source => 'iab', iab => 'used',
            granted => $granted);
    }
    $m->stop;
}

# --- a Redis record outranks a TC string; Redis down, a TC string still
#     decides in place of the fail policy

SKIP: {
    my $have_redis = grep { -x "$_/redis-server" } split /:/, $ENV{PATH};
    skip 'redis-server not installed', 12 unless $have_redis;

    my $rd = ConsentTest->new(
        name   => 'iab-redis',
        redis  => 1,
        http   => std_rules() . <<'EOF',
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=300ms connect_timeout=300ms;
    consent_zone zone=consent:1m ttl=60s;
EOF
        server => <<"EOF",
        consent on;
        consent_region \$http_x_country;
        consent_subject \$cookie_uid;
        consent_iab on cmp=28;
${\ location('/') }
EOF
    );

    $rd->redis_cmd(HSET => 'consent:s:rec1', p => 'analytics', v => 2,
        t => int $NOW);
    $rd->redis_cmd(HSET => 'consent:s:rec2',
        p => 'analytics,advertising,sharing', v => 2, t => int $NOW);

    my $r = visit('/rec1', t => $rd, iab => [[uid => 'rec1'],
        ['euconsent-v2' => $TC_ALL]]);
    is($r->var('source'), 'redis', 'record + TC: source redis');
    is($r->var('iab'), 'recorded', 'record + TC: $consent_iab recorded');
    is($r->var('purposes'), purposes_str('analytics'),
        'record + TC: the record\'s purposes');
    unlike(consent_hdr($r) // '', qr/tcf/, 'record + TC: no tcf=?1');

    $r = visit('/norec', t => $rd, iab => [[uid => 'norecord'],
        ['euconsent-v2' => $TC_ALL]]);
    is($r->var('source'), 'iab', 'no record + TC: source iab');
    is($r->var('purposes'),
        purposes_str(qw(analytics advertising personalization)),
        'no record + TC: the TC string\'s purposes');

    $r = visit('/rec2', t => $rd, country => 'US',
        iab => [[uid => 'rec2'], [usprivacy => '1YYN']]);
    is($r->var('source'), 'redis', 'record + usprivacy 1YYN: source redis');
    is($r->var('purposes'), purposes_str('analytics'),
        'record + usprivacy 1YYN: advertising and sharing turned off');

    $rd->stop_redis;

    $r = visit('/down-tc', t => $rd, iab => [[uid => 'down1'],
        ['euconsent-v2' => $TC_ALL]]);
    is($r->status, 200, 'Redis down + TC: 200');
    is($r->var('source'), 'iab', 'Redis down + TC: source iab, not fail');
    is($r->var('purposes'),
        purposes_str(qw(analytics advertising personalization)),
        'Redis down + TC: the TC string\'s purposes');

    $r = visit('/down-notc', t => $rd, country => 'US',
        iab => [[uid => 'down2']]);
    is($r->var('source'), 'fail', 'Redis down, no TC: the fail policy');

    $rd->stop;
}

# --- configuration errors

sub conf_fails {
    my ($what, %a) = @_;
    my $reason = delete $a{reason};
    my ($rc, $out) = config_test(%a);
    isnt($rc, 0, "$what: nginx -t fails");
    like($out, qr/\[emerg\]/, "$what: [emerg]") or diag $out;
    like($out, qr/nginx\.conf:\d+/, "$what: names nginx.conf:LINE");
    like($out, $reason, "$what: reason $reason") or diag $out if $reason;
}

sub conf_passes {
    my ($what, %a) = @_;
    my ($rc, $out) = config_test(%a);
    is($rc, 0, "$what: nginx -t ok") or diag $out;
}

conf_fails('consent_iab on without cmp=', extra => 'consent_iab on;',
    reason => qr/cmp/);
conf_fails('consent_iab on cmp=0', extra => 'consent_iab on cmp=0;',
    reason => qr/"[^"]*\b0"/);
conf_fails('consent_iab on cmp=4096', extra => 'consent_iab on cmp=4096;',
    reason => qr/4096/);
conf_fails('consent_iab on cmp=28,4096',
    extra => 'consent_iab on cmp=28,4096;', reason => qr/4096/);
conf_fails('consent_iab on cmp=abc', extra => 'consent_iab on cmp=abc;',
    reason => qr/abc/);
conf_fails('consent_iab on cmp= (empty)', extra => 'consent_iab on cmp=;');
conf_fails('consent_iab on cmp=28 max_age=soon',
    extra => 'consent_iab on cmp=28 max_age=soon;', reason => qr/soon/);
conf_fails('consent_iab on cmp=28 max_age= (empty)',
    extra => 'consent_iab on cmp=28 max_age=;');
conf_fails('consent_iab on cmp=28 colour=red',
    extra => 'consent_iab on cmp=28 colour=red;', reason => qr/colour/);
conf_fails('consent_iab maybe', extra => 'consent_iab maybe;',
    reason => qr/maybe/);
conf_fails('consent_iab without an argument', extra => 'consent_iab;');

conf_fails('consent_iab_map advertising 25',
    http => std_rules() . 'consent_iab_map advertising 25;',
    reason => qr/25/);
conf_fails('consent_iab_map advertising 0',
    http => std_rules() . 'consent_iab_map advertising 0;',
    reason => qr/"0"/);
conf_fails('consent_iab_map advertising sf13',
    http => std_rules() . 'consent_iab_map advertising 1 sf13;',
    reason => qr/sf13/);
conf_fails('consent_iab_map advertising sf0',
    http => std_rules() . 'consent_iab_map advertising sf0;',
    reason => qr/sf0/);
conf_fails('consent_iab_map advertising x1',
    http => std_rules() . 'consent_iab_map advertising x1;',
    reason => qr/x1/);
conf_fails('consent_iab_map advertising -1',
    http => std_rules() . 'consent_iab_map advertising -1;',
    reason => qr/-1/);
conf_fails('consent_iab_map of an unknown purpose',
    http => std_rules() . 'consent_iab_map nopurpose 1;',
    reason => qr/nopurpose/);
conf_fails('consent_iab_map without items',
    http => std_rules() . 'consent_iab_map advertising;');
conf_fails('consent_iab_map in a server block',
    extra => 'consent_iab_map advertising 1;');
conf_fails('consent_iab_cache -1',
    http => std_rules() . 'consent_iab_cache -1;');
conf_fails('consent_iab_cache over 65536',
    http => std_rules() . 'consent_iab_cache 65537;');
conf_fails('consent_iab_cache many',
    http => std_rules() . 'consent_iab_cache many;');
conf_fails('consent_iab_cache in a server block',
    extra => 'consent_iab_cache 10;');

conf_passes('consent_iab on cmp=28', extra => 'consent_iab on cmp=28;');
conf_passes('consent_iab on cmp=1,28,4095 max_age=30d',
    extra => 'consent_iab on cmp=1,28,4095 max_age=30d;');
conf_passes('consent_iab on cmp=any max_age=13M',
    extra => 'consent_iab on cmp=any max_age=13M;');
conf_passes('consent_iab off', extra => 'consent_iab off;');
conf_passes('consent_iab in http, off in a location',
    http => std_rules() . 'consent_iab on cmp=28;',
    extra => 'location /x/ { consent_iab off; proxy_pass %%ORIGIN%%; }');
conf_passes('consent_iab_map and consent_iab_cache in http',
    http => std_rules() . "consent_iab_map advertising 1 2 3 4 sf1 sf2;\n"
        . "    consent_iab_map functional 1 24 sf12;\n"
        . "    consent_iab_map personalization off;\n"
        . "    consent_iab_cache 0;",
    extra => 'consent_iab on cmp=28;');

done_testing;
