# Cookie stripping in detail: byte-for-byte preservation of kept cookies,
# order, duplicates, several Cookie lines, header removal, rule precedence
# (exact > longest prefix > first regex, regexes match the whole name),
# consent_rules files and inline consent_rule, custom purposes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(mint_token keys_line split_cookies);

my $K1 = sha256('strip-key');

my $A_RULES = <<'EOF';
# prefixes: the longest wins, whatever the order
pre*         analytics   v1
prefix_ad*   advertising v2

lp_ok*       analytics   v3
lp*          advertising v4
# regexes: the first that matches the whole name wins
~rx_[0-9]+   advertising v5
~rx_.*       analytics   v6
~rxa         advertising v7
~id_[0-9]{3} advertising v8 domain=.example.com
EOF

my $B_RULES = <<'EOF';
# a second file: consent_rules is repeatable
~pre[0-9]    advertising v9
~exact_.*    advertising v10
exact_ok     analytics   v11
EOF

my $t = ConsentTest->new(
    name  => 'strip',
    files => { 'a.rules' => $A_RULES, 'rules/b.rules' => $B_RULES,
               keys => keys_line('k1', $K1) },
    http  => <<'EOF',
    consent_purpose research;
    consent_rules %%DIR%%/a.rules;
    consent_rules %%DIR%%/rules/b.rules;
    consent_rule _ga   analytics   google;
    consent_rule _fbp  advertising meta;
    consent_rule ad*   advertising adnet;
    consent_rule adok  analytics   adnet;
    consent_rule lab_* research    university;
    consent_keys %%DIR%%/keys;
EOF
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
            add_header X-C-Research "$consent_research" always;
        }
        location /o/ {
            proxy_pass %%ORIGIN%%;
            %%VARS_HEADERS%%
        }
EOF
);

sub req {
    my ($path, $region, @cookies) = @_;
    return $t->get($path, headers => [
        ['X-Country' => $region], map { [Cookie => $_] } @cookies]);
}

# the output keeps exactly the given pairs, in order, each byte for byte,
# separated by ';' (plus optional spaces), nothing else
sub kept_ok {
    my ($line, $pairs, $what) = @_;
    $line //= '';
    is_deeply([split_cookies($line)], $pairs, "$what: kept pairs in order");
    my $pos = 0;
    my $ok = 1;
    for my $p (@$pairs) {
        my $i = index($line, $p, $pos);
        if ($i < 0) { $ok = 0; last }
        my $gap = substr($line, $pos, $i - $pos);
        $ok = 0 if $pos == 0 ? $gap ne '' : $gap !~ /\A[ \t]*;[ \t]*\z/;
        $pos = $i + length $p;
    }
    $ok = 0 if $pos != length $line;
    ok($ok, "$what: pairs copied byte for byte, no stray separators")
        or diag "got: [$line]";
}

# --- byte-for-byte

{
    my $r = req('/b1', 'FR', 'a=1; _ga=x;b="q;r"');
    my ($line) = $r->raw_cookie_lines;
    ok(defined $line && ($line eq 'a=1; b="q;r"' || $line eq 'a=1; b="q; r"'),
        '";" always splits: a=1; b="q;r" (or b="q; r")')
        or diag "got: [" . ($line // 'none') . "]";
    is($r->var('stripped'), '_ga', 'b1: _ga stripped');

    $r = req('/b2', 'FR',
        "x=1;  _ga=2 ;  y = \"a=b\"  ;z==eq=;w=;_fbp=9;  last=ok");
    ($line) = $r->raw_cookie_lines;
    kept_ok($line, ['x=1', 'y = "a=b"', 'z==eq=', 'w=', 'last=ok'], 'b2');
    is($r->var('stripped'), '_ga,_fbp', 'b2: stripped in header order');

    # canonical separators: the result is exact
    $r = req('/b3', 'FR',
        'k1=v1; _ga=GA1.2.3; k2="quoted value"; _fbp=fb.1; k3=a=b=c; '
        . 'k4=%7B%22x%22%3A1%7D; k5=');
    is_deeply([$r->raw_cookie_lines],
        ['k1=v1; k2="quoted value"; k3=a=b=c; k4=%7B%22x%22%3A1%7D; k5='],
        'b3: canonical input gives exact output');

    # high bytes are copied as they are
    $r = req('/b4', 'FR', "a=\x80\xff\xfe; _ga=1; b=\xe3\x81\x82");
    is_deeply([$r->raw_cookie_lines], ["a=\x80\xff\xfe; b=\xe3\x81\x82"],
        'b4: non-ASCII bytes preserved');

    # a pair without '=' is an unknown cookie: kept
    $r = req('/b5', 'FR', 'lonely; _ga=1; a=2');
    is_deeply([$r->raw_cookie_lines], ['lonely; a=2'], 'b5: "lonely" kept');

    # nothing to strip: the header is untouched, odd spacing and all
    $r = req('/b6', 'FR', 'a=1;b=2 ;  c = 3;;d');
    is_deeply([$r->raw_cookie_lines], ['a=1;b=2 ;  c = 3;;d'],
        'b6: nothing stripped, header byte for byte');
    is($r->var('stripped'), '', 'b6: $consent_stripped empty');
}

# --- order and duplicates

{
    my $r = req('/d1', 'FR', '_ga=1; x=1; _ga=2; y=2; _ga=3');
    is_deeply([$r->raw_cookie_lines], ['x=1; y=2'],
        'duplicates: every _ga stripped, order kept');
    like($r->var('stripped'), qr/^_ga(?:,_ga,_ga)?$/,
        'duplicates: $consent_stripped names _ga');

    my @in = map { $_ % 3 ? "k$_=v$_" : "ad$_=x" } 1 .. 300;
    my @want = grep { !/^ad/ } @in;
    $r = req('/d2', 'FR', join('; ', @in));
    is($r->status, 200, 'large header: 200');
    is_deeply([$r->raw_cookie_lines], [join('; ', @want)],
        'large header (300 cookies): 200 kept in order');
    is($r->var('stripped'), join(',', map { /^(ad\d+)/ ? $1 : () } @in),
        'large header: 100 names stripped in order');
}

# --- several Cookie lines (HTTP/1.1)

{
    my $r = req('/m1', 'FR', 'a=1; _ga=1', '_fbp=2; adx=3', 'b=2; c=3');
    is_deeply([$r->raw_cookie_lines], ['a=1', 'b=2; c=3'],
        'several lines: each filtered, the all-stripped line removed');
    is($r->var('stripped'), '_ga,_fbp,adx', 'several lines: stripped names');

    $r = req('/o/m2', 'FR', 'a=1; _ga=1', '_fbp=2; adx=3', 'b=2; c=3');
    is($r->origin->{cookie}, 'a=1; b=2; c=3',
        'several lines: nginx origin sees the kept cookies only');

    $r = req('/m3', 'FR', '_ga=1', 'keep=1', '_fbp=2');
    is_deeply([$r->raw_cookie_lines], ['keep=1'],
        'first and last line removed, middle one kept');
}

# --- a header whose cookies are all stripped disappears

{
    my $r = req('/o/all', 'FR', '_ga=1; _fbp=2');
    is($r->status, 200, 'all stripped: 200');
    my $e = $t->origin_log($r);
    is($e && $e->{cookie}, '-', 'all stripped: origin saw no Cookie header');
    is($r->var('stripped'), '_ga,_fbp', 'all stripped: names');

    $r = req('/all2', 'FR', '_ga=1; _fbp=2', ' _ga=3 ');
    is_deeply([$r->raw_cookie_lines], [],
        'all stripped over two lines: no Cookie line at all');
    unlike($r->raw_head, qr/^cookie:/mi, 'no empty Cookie header either');

    $r = req('/empty', 'FR', '');
    is($r->status, 200, 'empty Cookie header: 200');
}

# --- rule precedence (JP: notice, advertising refused, analytics allowed)

{
    my @c = (
        ['adok=1',       1, 'exact beats prefix'],
        ['adx=1',        0, 'prefix ad*'],
        ['pre1=1',       1, 'prefix beats regex'],
        ['prefix_ad1=1', 0, 'longest prefix (listed last)'],
        ['prefix_a=1',   1, 'shorter prefix when the longer does not match'],
        ['lp_ok_1=1',    1, 'longest prefix (listed first)'],
        ['lp_1=1',       0, 'short prefix'],
        ['rx_12=1',      0, 'first regex'],
        ['rx_ab=1',      1, 'second regex'],
        ['rx_12x=1',     1, 'regex must match the whole name'],
        ['rxa=1',        0, 'regex exact match'],
        ['xrxa=1',       1, 'regex not anchored at start: no match'],
        ['rxab=1',       1, 'regex not anchored at end: no match'],
        ['id_123=1',     0, 'regex with {3}'],
        ['id_1234=1',    1, 'regex {3} whole-name'],
        ['exact_ok=1',   1, 'exact beats regex'],
        ['exact_x=1',    0, 'regex from the second file'],
        ['_ga=1',        1, 'inline exact analytics'],
        ['_fbp=1',       0, 'inline exact advertising'],
        ['lab_1=1',      1, 'custom purpose granted in notice'],
        ['session=1',    1, 'unknown cookie'],
    );
    my $r = req('/prec', 'JP', join('; ', map { $_->[0] } @c));
    my ($line) = $r->raw_cookie_lines;
    my %got = map { $_ => 1 } split_cookies($line);
    for (@c) {
        my ($pair, $keep, $why) = @$_;
        is(!!$got{$pair}, !!$keep,
            ($keep ? 'kept' : 'stripped') . " $pair: $why");
    }
    is($line, join('; ', map { $_->[0] } grep { $_->[1] } @c),
        'precedence: kept cookies in order');
    is($r->var('stripped'),
        join(',', map { $_->[0] =~ /^([^=]+)/ } grep { !$_->[1] } @c),
        'precedence: $consent_stripped in header order');

    # in the US (opt_out) none of it is stripped
    my $all = join('; ', map { $_->[0] } @c);
    $r = req('/prec-us', 'US', $all);
    is_deeply([$r->raw_cookie_lines], [$all], 'US: nothing stripped');
}

# --- custom purpose

{
    my $r = req('/cp1', 'FR', 'lab_x=1; a=1');
    is_deeply([$r->raw_cookie_lines], ['a=1'], 'custom purpose refused in FR');
    is($r->var('research'), '0', '$consent_research 0 in FR');
    is($r->var('purposes'), 'necessary', 'FR purposes');

    $r = req('/cp2', 'US', 'lab_x=1; a=1');
    is_deeply([$r->raw_cookie_lines], ['lab_x=1; a=1'],
        'custom purpose allowed in US (opt_out: all purposes)');
    is($r->var('research'), '1', '$consent_research 1 in US');
    is($r->var('purposes'), 'necessary,functional,analytics,advertising,'
        . 'personalization,sharing,research', 'US purposes list research last');

    my $tok = mint_token('k1', $K1, 'lab', 0x41, 1, time);   # bit 6
    $r = req('/cp3', 'FR', "consent=$tok; lab_x=1; _ga=1; a=1");
    is($r->var('source'), 'cookie', 'token with custom bit: valid');
    is($r->var('purposes'), 'necessary,research', 'token: necessary,research');
    is($r->var('research'), '1', 'token: $consent_research 1');
    is_deeply([$r->raw_cookie_lines], ["consent=$tok; lab_x=1; a=1"],
        'token: lab_x kept, _ga stripped');
}

$t->stop;

done_testing;
