# The signed consent cookie: valid tokens decide; tampered, unknown-key,
# expired, future and malformed tokens are ignored (logged at info) and
# the regime default applies; key rotation; consent_cookie name/max_age;
# consent_subject; the consent cookie itself always reaches the origin.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256 sha384);
use ConsentTest qw(std_rules mint_token sign_payload keys_line);

my $K1 = sha384('consent-test-key-1');    # 48 bytes: base64 without padding
my $K2 = sha256('consent-test-key-2');    # 32 bytes: base64 with one '='
my $K9 = sha256('not-in-the-keys-file');

my $server = <<'EOF';
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /subj/ {
            consent_subject $cookie_uid;
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
EOF

my $t = ConsentTest->new(
    name  => 'token',
    files => { keys => "# signing key first\n" . keys_line('k1', $K1)
                      . "\n" . keys_line('k2', $K2) },
    http  => std_rules() . "    consent_keys %%DIR%%/keys;\n",
    server => $server,
);

my $NOW = time;

sub send_tok {
    my ($t, $path, $tok, %o) = @_;
    my $name = $o{name} || 'consent';
    my $cookie = $o{cookie} // "sid=1; $name=$tok; _ga=2; _fbp=3";
    return $t->get($path, headers => [
        [Cookie => $cookie],
        ['X-Country' => $o{region} || 'FR'],
        @{ $o{headers} || [] },
    ]);
}

# --- valid tokens

{
    my $tok = mint_token('k1', $K1, 'u_Abc-123', 0x05, 3, $NOW - 5);
    like($tok, qr/^1\.k1\.u_Abc-123\.00000005\.3\.\d+\.[A-Za-z0-9_-]{43}$/,
        'minted token has the documented shape');
    my $r = send_tok($t, '/valid', $tok);
    is($r->var('source'), 'cookie', 'valid: $consent_source cookie');
    is($r->var('id'), 'u_Abc-123', 'valid: $consent_id is the subject');
    is($r->var('purposes'), 'necessary,analytics', 'valid: purposes');
    is($r->var('analytics'), '1', 'valid: analytics 1');
    is($r->var('advertising'), '0', 'valid: advertising 0');
    is($r->var('regime'), 'opt_in', 'valid: regime still reported');
    is($r->var('stripped'), '_fbp', 'valid: _fbp stripped even in FR');
    is_deeply([$r->raw_cookie_lines], ["sid=1; consent=$tok; _ga=2"],
        'valid: consent cookie and _ga reach the origin untouched');
    is(scalar $t->error_log_grep(qr/consent cookie rejected.*"GET \/valid /,
        timeout => 0), 0, 'valid: nothing logged as rejected');
}

# key rotation: a token signed with the second key still verifies
{
    my $tok = mint_token('k2', $K2, 'rotated', 0x0d, 1, $NOW - 100);
    my $r = send_tok($t, '/rotated', $tok);
    is($r->var('source'), 'cookie', 'second key: source cookie');
    is($r->var('id'), 'rotated', 'second key: $consent_id');
    is($r->var('purposes'), 'necessary,analytics,advertising',
        'second key: purposes');
    is($r->var('stripped'), '', 'second key: nothing stripped');
    is_deeply([$r->raw_cookie_lines], ["sid=1; consent=$tok; _ga=2; _fbp=3"],
        'second key: cookies untouched');
}

# necessary is always on, unknown bits are ignored
{
    my $r = send_tok($t, '/nonecessary',
        mint_token('k1', $K1, 'x', 0x04, 1, $NOW));
    is($r->var('purposes'), 'necessary,analytics',
        'mask without necessary bit: necessary still on');
    is($r->var('necessary'), '1', '$consent_necessary 1');

    $r = send_tok($t, '/unknownbits',
        mint_token('k1', $K1, 'x', 0x80000005, 1, $NOW));
    is($r->var('source'), 'cookie', 'unknown high bit: token still valid');
    is($r->var('purposes'), 'necessary,analytics',
        'unknown high bit: not reported as a purpose');

    $r = send_tok($t, '/zero', mint_token('k1', $K1, 'x', 0, 1, $NOW));
    is($r->var('source'), 'cookie', 'mask 0: valid token');
    is($r->var('purposes'), 'necessary', 'mask 0: necessary only');
    is($r->var('stripped'), '_ga,_fbp', 'mask 0: _ga and _fbp stripped');
}

# the token is found in a second Cookie header line too
{
    my $tok = mint_token('k1', $K1, 'line2', 0x05, 1, $NOW);
    my $r = $t->get('/line2', headers => [
        [Cookie => 'sid=1; _fbp=3'], [Cookie => "_ga=2; consent=$tok"],
        ['X-Country' => 'FR']]);
    is($r->var('source'), 'cookie', 'token in 2nd Cookie line: source cookie');
    is_deeply([$r->raw_cookie_lines], ['sid=1', "_ga=2; consent=$tok"],
        'token in 2nd Cookie line: _fbp stripped, _ga kept');
}

# tokens within the limits of max_age (395d) and clock skew (300 s)
{
    my $r = send_tok($t, '/old-ok',
        mint_token('k1', $K1, 'old', 0x05, 1, $NOW - 394 * 86400));
    is($r->var('source'), 'cookie', 'issued 394 days ago: still valid');

    $r = send_tok($t, '/skew-ok',
        mint_token('k1', $K1, 'skew', 0x05, 1, $NOW + 60));
    is($r->var('source'), 'cookie', 'issued 60 s in the future: accepted');
}

# --- rejected tokens: default regime applies, info line logged

my $good = mint_token('k1', $K1, 'victim', 0x05, 1, $NOW);
my ($payload, $sig) = $good =~ /^(.*)\.([^.]+)$/;

sub flip {
    my ($s, $i) = @_;
    my $c = substr($s, $i, 1);
    substr($s, $i, 1) = $c eq 'A' ? 'B' : 'A';
    return $s;
}

my @bad = (
    ['sig-flip',  "$payload." . flip($sig, 5), 'bad signature'],
    ['sig-flip0', "$payload." . flip($sig, 0), 'bad signature'],
    ['purposes',  ($good =~ s/\.00000005\./.0000003f./r), 'bad signature'],
    ['subject',   ($good =~ s/\.victim\./.victin./r), 'bad signature'],
    ['iat',       ($good =~ s/\.$NOW\./'.' . ($NOW - 1) . '.'/er),
                  'bad signature'],
    ['unknown-kid', mint_token('k9', $K9, 'victim', 0x05, 1, $NOW),
                  'unknown key'],
    ['kid-swap',  ($good =~ s/^1\.k1\./1.k2./r), 'bad signature'],
    ['expired',   mint_token('k1', $K1, 'old', 0x05, 1, $NOW - 396 * 86400),
                  'expired'],
    ['future',    mint_token('k1', $K1, 'fut', 0x05, 1, $NOW + 3600),
                  'issued in the future'],
    ['garbage',   'garbage', 'malformed'],
    ['empty',     '', 'malformed'],
    ['short',     '1.k1.victim.00000005.1', 'malformed'],
    ['nosig',     "$payload.", 'malformed|bad signature'],
    ['version2',  sign_payload("2.k1.victim.00000005.1.$NOW", $K1),
                  'malformed'],
    ['upperhex',  sign_payload("1.k1.victim.0000003F.1.$NOW", $K1),
                  'malformed'],
    ['7hex',      sign_payload("1.k1.victim.0000005.1.$NOW", $K1),
                  'malformed'],
    ['9hex',      sign_payload("1.k1.victim.000000005.1.$NOW", $K1),
                  'malformed'],
    ['subj-char', sign_payload("1.k1.vic!tim.00000005.1.$NOW", $K1),
                  'malformed'],
    ['subj-long', sign_payload('1.k1.' . ('a' x 65) . ".00000005.1.$NOW", $K1),
                  'malformed'],
    ['subj-empty', sign_payload("1.k1..00000005.1.$NOW", $K1), 'malformed'],
    ['pv-alpha',  sign_payload("1.k1.victim.00000005.x.$NOW", $K1),
                  'malformed'],
    ['iat-alpha', sign_payload('1.k1.victim.00000005.1.12ab', $K1),
                  'malformed'],
    ['extra',     sign_payload("1.k1.victim.00000005.1.$NOW.9", $K1),
                  'malformed'],
);

for my $case (@bad) {
    my ($name, $tok, $reason) = @$case;
    my $path = "/bad/$name";
    my $r = send_tok($t, $path, $tok);
    is($r->status, 200, "$name: 200");
    is($r->var('source'), 'default', "$name: \$consent_source default");
    is($r->var('id'), '', "$name: \$consent_id empty");
    is($r->var('purposes'), 'necessary', "$name: opt_in default purposes");
    is($r->var('stripped'), '_ga,_fbp', "$name: _ga and _fbp stripped");
    is_deeply([$r->raw_cookie_lines], ["sid=1; consent=$tok"],
        "$name: consent cookie still passed through untouched");
    my @l = $t->error_log_grep(
        qr/\[info\].*consent cookie rejected: .*"GET \Q$path\E HTTP/);
    ok(@l, "$name: info line 'consent cookie rejected' logged")
        or diag join '', (split /^/, $t->read_file('error.log'))[-5 .. -1];
    like($l[0] // '', qr/consent cookie rejected: (?:$reason)\b/,
        "$name: reason /$reason/");
}

# a rejected token in the US: opt_out default (everything kept)
{
    my $tok = "$payload." . flip($sig, 5);
    my $r = send_tok($t, '/bad-us', $tok, region => 'US');
    is($r->var('source'), 'default', 'forged in US: default');
    is($r->var('purposes'),
        'necessary,functional,analytics,advertising,personalization,sharing',
        'forged in US: opt_out purposes, not the token\'s');
}

# --- consent_subject

{
    my $tok = mint_token('k1', $K1, 'cookieSubject', 0x05, 1, $NOW);

    my $r = send_tok($t, '/subj/both', $tok,
        cookie => "uid=acct42; consent=$tok; _ga=2; _fbp=3");
    is($r->var('id'), 'acct42', 'consent_subject wins over the token subject');
    is($r->var('source'), 'default',
        'consent_subject: a token issued to another subject does not decide');
    is($r->var('purposes'), 'necessary',
        'consent_subject: the default, not the other subject\'s purposes');
    is_deeply([$r->raw_cookie_lines], ["uid=acct42; consent=$tok"],
        'consent_subject: the other subject\'s grant strips _ga and _fbp');

    # a token issued to the same subject does decide
    my $own = mint_token('k1', $K1, 'acct42', 0x05, 1, $NOW);
    $r = send_tok($t, '/subj/own', $own,
        cookie => "uid=acct42; consent=$own; _ga=2; _fbp=3");
    is($r->var('source'), 'cookie', 'consent_subject: its own token decides');
    is($r->var('purposes'), 'necessary,analytics',
        'consent_subject: purposes from its own token');

    $r = send_tok($t, '/subj/token', $tok,
        cookie => "consent=$tok; _ga=2");
    is($r->var('id'), 'cookieSubject',
        'empty consent_subject: id from the token');

    $r = send_tok($t, '/subj/uid', undef, cookie => 'uid=acct7; _ga=2');
    is($r->var('id'), 'acct7', 'consent_subject without token: id');
    is($r->var('source'), 'default', 'consent_subject without token: default');

    $r = send_tok($t, '/subj/none', undef, cookie => '_ga=2');
    is($r->var('id'), '', 'no subject at all: $consent_id empty');

    $r = send_tok($t, '/noconfsubj', undef, cookie => 'uid=acct7; _ga=2');
    is($r->var('id'), '', 'without consent_subject: uid cookie not used');
}

$t->stop;

# --- consent_cookie NAME max_age=60

my $t2 = ConsentTest->new(
    name  => 'token-cc',
    files => { keys => keys_line('k1', $K1) },
    http  => std_rules() . "    consent_keys %%DIR%%/keys;\n"
        . "    consent_cookie cc max_age=60;\n",
    server => $server,
);

{
    my $tok = mint_token('k1', $K1, 'cc1', 0x05, 1, time - 10);
    my $r = send_tok($t2, '/cc/fresh', $tok, name => 'cc');
    is($r->var('source'), 'cookie', 'cc, issued 10 s ago: valid');
    is($r->var('id'), 'cc1', 'cc: $consent_id');
    is_deeply([$r->raw_cookie_lines], ["sid=1; cc=$tok; _ga=2"],
        'cc: the consent cookie under its configured name is kept');

    $tok = mint_token('k1', $K1, 'cc2', 0x05, 1, time - 3600);
    $r = send_tok($t2, '/cc/old', $tok, name => 'cc');
    is($r->var('source'), 'default', 'cc, issued 1 h ago, max_age=60: ignored');
    is($r->var('stripped'), '_ga,_fbp', 'cc expired: default regime strips');
    my @l = $t2->error_log_grep(
        qr/consent cookie rejected: expired.*"GET \/cc\/old HTTP/);
    ok(@l, 'cc expired: logged as expired');

    $tok = mint_token('k1', $K1, 'cc3', 0x05, 1, time - 10);
    $r = send_tok($t2, '/cc/othername', $tok, name => 'consent');
    is($r->var('source'), 'default',
        'a token under the default name is not the consent cookie here');
    is_deeply([$r->raw_cookie_lines], ["sid=1; consent=$tok"],
        'the other-name cookie is an unknown cookie: kept');
}

$t2->stop;

done_testing;
