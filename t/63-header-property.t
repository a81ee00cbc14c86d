# Property test of what the origin receives, over HTTP/1.1 and HTTP/2:
# random request header lists (0 to 100 ordinary headers with random
# names and values, 0 to 5 Cookie lines anywhere among them, tracker and
# unknown cookies, the consent cookie, duplicates, odd spacing, forged
# Consent headers) go through the module (consent on, one worker) to the
# harness's raw TCP origin, which echoes the exact request head it got.
# For every request:
#
#   - every header but Cookie and Consent arrives byte for byte, in the
#     same relative order, modelling what nginx itself changes: the proxy
#     drops Host, Connection, TE, Keep-Alive and Upgrade and writes its
#     own headers first (proxy_set_header X-Consent-Stripped, then Host and
#     Connection); HTTP/1.1 values lose the spaces around them; HTTP/2
#     names are lowercase and nginx joins the cookie fields, with "; ",
#     into one "cookie" header after all the others;
#   - the Consent header appears exactly once, with the decision's value
#     (where the client's first Consent header was, else last);
#   - the Cookie lines are exactly what the core says: each line (for
#     HTTP/2 the joined one) filtered by lua-free-tests/build/strip_cookie
#     (consent_cookie_filter with the module's keep rule, the same rules
#     file), a line whose pairs were all dropped gone; $consent_stripped
#     (sent upstream as X-Consent-Stripped) names the dropped cookies;
#   - the whole upstream head is exactly the modelled one.
#
# HTTP/1.1 goes out as raw bytes, HTTP/2 through the harness's own h2c
# client (fields byte for byte, each cookie its own field) and, for a
# sample, through nghttp.  Names never have underscores or other bytes
# nginx ignores headers for; values never NUL, CR or LF.
#
# The generator often makes the shape a list-surgery bug needed: 15 to 40
# other header lines, then two or more Cookie lines that are all
# stripped, then the module pushing its Consent header.  A deterministic
# case does exactly that (20 or 40 header lines, then two "Cookie: _ga=1")
# and repeats it with request pools of many sizes, so that a write past a
# header list part corrupts the heap instead of dead pool memory.
#
# Deterministic given a seed: CONSENT_SEED=n (printed on every run);
# CONSENT_PROP_N requests per protocol (default 300).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use File::Temp ();
use Time::HiRes qw(time);
use ConsentTest qw(mint_token keys_line repo_root);

# nginx 1.29.7 and later proxy with HTTP/1.1 and send no Connection header
# by default; before, HTTP/1.0 and "Connection: close"
my $PROXY_11 = ConsentTest::nginx_at_least('1.29.7');
my $PROXY_VER = $PROXY_11 ? 'HTTP/1.1' : 'HTTP/1.0';

my $T0 = time;

my $SEED = $ENV{CONSENT_SEED};
$SEED = (int(time * 1000) ^ ($$ << 8)) % 2_000_000_000
    unless defined $SEED && $SEED =~ /\A[0-9]+\z/;
diag("seed $SEED (rerun with CONSENT_SEED=$SEED)");
srand($SEED);

my $N = $ENV{CONSENT_PROP_N};
$N = 300 unless defined $N && $N =~ /\A[1-9][0-9]*\z/;

# nghttp starts a process a request: it gets a fifteenth of them
my $have_nghttp = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
my $N_NGHTTP = $have_nghttp ? int(($N + 14) / 15) : 0;

# ---------------------------------------------------------------- the core

my $TOOL = repo_root() . '/lua-free-tests/build/strip_cookie';
{
    my $dir = repo_root() . '/lua-free-tests';
    my $rc = system("make -s -C '$dir' tools >/dev/null");
    die "make -C lua-free-tests tools failed: cannot ask the core\n"
        if $rc != 0 || !-x $TOOL;
}

my $K1 = sha256('header-property-key');

my $RULES = <<'EOF';
# exact names
_ga           analytics        google
_gid          analytics        google
_fbp          advertising      meta
_gcl_au       advertising      google
IDE           advertising      doubleclick
pref          functional       site
perso         personalization  site
share_id      sharing          databroker
# prefixes (the longest wins; an exact name beats them)
_ga_*         analytics        google
uid2_*        sharing          uid2
_hj*          analytics        hotjar
_hjSession*   functional       hotjar
# regexes, matching the whole name
~_pk_(id|ses)\..*      analytics        matomo
~ad[0-9]+              advertising      adnet
~trk-[a-f0-9]{4}       personalization  trk
EOF

my $DICT_PURPOSES = [qw(functional analytics advertising personalization
    sharing)];

my %REGIME_MASK = (opt_in => 0x01, opt_out => 0x3f, notice => 0x17);
my %REGION = (FR => 'opt_in', DE => 'opt_in', US => 'opt_out',
    JP => 'notice');

sub consent_value {
    my ($mask, $gpc, $v) = @_;
    my $i = 1;
    return join ', ',
        (map { "$_=?" . (($mask >> $i++) & 1) } @$DICT_PURPOSES),
        'gpc=?' . ($gpc ? 1 : 0), 'v=' . $v;
}

# the decision the module must make for a request's inputs
sub decide {
    my ($q) = @_;
    my $regime = 'opt_in';    # consent_default_regime
    if (defined $q->{country} && length $q->{country}) {
        my $c = uc $q->{country};
        my ($country) = $c =~ /\A([A-Z]+)-/;
        $regime = $REGION{$c}
            // (defined $country ? $REGION{$country} : undef) // 'opt_in';
    }
    my $mask = $q->{token} ? ($q->{token}{mask} & 0x3f)
        : $REGIME_MASK{$regime};
    $mask &= ~0x28 if $q->{gpc};
    $mask |= 0x01;
    $q->{mask} = $mask;
    $q->{consent} = consent_value($mask, $q->{gpc},
        $q->{token} ? $q->{token}{pv} : 0);
}

# ---------------------------------------------------------------- generator

sub pick { $_[int rand @_] }
sub chance { rand() < $_[0] }

sub shuffle {
    my @a = @_;
    for (my $i = $#a; $i > 0; $i--) {
        my $j = int rand($i + 1);
        @a[$i, $j] = @a[$j, $i];
    }
    return @a;
}

sub rand_str {
    my ($min, $max, $chars) = @_;
    my $n = $min + int rand($max - $min + 1);
    return join '', map { substr($chars, int rand(length $chars), 1) } 1 .. $n;
}

my $ALNUM = join '', 'a' .. 'z', 'A' .. 'Z', 0 .. 9;
my $HEX   = '0123456789abcdef';

my @COMMON = qw(Accept Accept-Language Accept-Encoding Cache-Control Pragma
    DNT Referer Origin Via X-Forwarded-For X-Forwarded-Proto X-Forwarded-Host
    Forwarded Sec-Fetch-Site Sec-Fetch-Mode Sec-Fetch-Dest Sec-Fetch-User
    Sec-CH-UA Sec-CH-UA-Mobile Upgrade-Insecure-Requests User-Agent Priority
    Save-Data X-Requested-With Traceparent Tracestate Baggage X-Request-Id
    X-Real-IP True-Client-IP CF-IPCountry);

# names next to the ones that matter: they must pass untouched
my @NEAR = qw(Cookies Cookie2 X-Cookie Set-Cookie Cookie-Policy Consent-Id
    Consents X-Consent Consent-Version Sec-GPC-Extra X-Country-Code Country
    X-Req-Id Cooki Consen);

# names nginx (or this test's configuration) gives a meaning to: never
# random; underscores are never generated (nginx ignores such headers)
my %RESERVED = map { $_ => 1 } qw(host connection content-length
    content-range transfer-encoding te keep-alive upgrade expect
    if-modified-since if-unmodified-since if-match if-none-match if-range
    authorization range cookie consent sec-gpc x-country x-req
    x-consent-stripped proxy-connection http2-settings);

# nghttp sends these itself
my %NGHTTP_OWN = map { $_ => 1 } qw(accept accept-encoding user-agent);

# Three ways to send: 'h1' raw HTTP/1.1 bytes; 'h2' the harness's own h2c
# client (every field byte for byte: empty values, spaces, tabs and high
# bytes too); 'nghttp' a real client, whose -H values must be printable,
# not empty, and not start with a space.
sub lc_names { $_[0] ne 'h1' }
sub tight    { $_[0] eq 'nghttp' }

sub rand_case {
    my ($s) = @_;
    my $r = rand;
    return lc $s if $r < 0.15;
    return uc $s if $r < 0.25;
    return join '', map { chance(0.5) ? uc : lc } split //, $s if $r < 0.35;
    return $s;
}

sub rand_name {
    my ($mode) = @_;
    while (1) {
        my $r = rand;
        my $n = $r < 0.4 ? pick(@COMMON)
            : $r < 0.5 ? pick(@NEAR)
            : $r < 0.8 ? 'X-' . rand_str(1, 24, "$ALNUM-")
            : rand_str(1, 1, $ALNUM =~ s/[0-9]//gr) . rand_str(0, 30, "$ALNUM-");
        next if $RESERVED{lc $n} || (tight($mode) && $NGHTTP_OWN{lc $n});
        return lc_names($mode) ? lc $n : rand_case($n);
    }
}

my $VCHAR = join '', map { chr } 0x21 .. 0x7e;

# a header value as sent: any byte but NUL, CR and LF, spaces and tabs
# around it; nghttp's are printable ASCII, not empty, not starting with a
# space
sub rand_value {
    my ($mode) = @_;
    my $tight = tight($mode);
    return '' if !$tight && chance(0.06);
    my $n = chance(0.1) ? 1 + int rand(200) : 1 + int rand(40);
    my $v = '';
    for (1 .. $n) {
        my $r = rand;
        $v .= $r < 0.08 ? ' '
            : (!$tight && $r < 0.10) ? "\t"
            : (!$tight && $r < 0.13) ? chr(0x80 + int rand 128)
            : substr($VCHAR, int rand(length $VCHAR), 1);
    }
    if ($tight) {
        $v =~ s/\A +//;
        $v = 'v' . $v if $v eq '';
    } else {
        $v = pick(' ', '  ', "\t", ' ' x 3) . $v if chance(0.1);
    }
    $v .= pick(' ', '  ', $tight ? () : "\t") if chance(0.1);
    return $v;
}

# a value once nginx has parsed it: HTTP/1.1 loses the spaces (not the
# tabs) around it, HTTP/2 keeps every byte
sub parsed {
    my ($mode, $v) = @_;
    return $v if $mode ne 'h1';
    $v =~ s/\A +//;
    $v =~ s/ +\z//;
    return $v;
}

my @TRACKERS = (qw(_ga _gid _fbp _gcl_au IDE pref perso share_id),
    sub { '_ga_' . rand_str(1, 8, $ALNUM) },
    sub { 'uid2_' . rand_str(0, 6, $ALNUM) },
    sub { '_hj' . rand_str(0, 8, $ALNUM) },
    sub { '_hjSession' . rand_str(0, 8, "$ALNUM._") },
    sub { '_pk_' . pick('id', 'ses') . '.' . rand_str(0, 8, "$ALNUM.") },
    sub { 'ad' . rand_str(1, 6, '0123456789') },
    sub { 'trk-' . rand_str(4, 4, $HEX) });

my @UNKNOWN = (qw(session sid csrftoken lang cart _gax ga _GA Pref ide _pk_id
    _pk_idx ad ad12x xad1 uid2 share_id2 perso2 consent2 Consent
    __Host-sid),
    sub { 'trk-' . rand_str(3, 5, "${HEX}g") . 'x' },
    sub { rand_str(1, 12, "$ALNUM!#\$%&'*+-.^_`|~") });

my $COOKIE_VCHARS = join '', $ALNUM, split //, q{!#$%&'()*+-./:<=>?@[]^_`{|}~,};

sub rand_cookie_value {
    my ($mode) = @_;
    my $r = rand;
    return '' if $r < 0.08;
    return '"' . rand_str(0, 12, "$ALNUM =") . '"' if $r < 0.15;
    my $v = rand_str(1, 24, $COOKIE_VCHARS);
    $v .= ' ' . rand_str(1, 6, $ALNUM) if chance(0.05);
    $v .= chr(0x80 + int rand 128) . chr(0x80 + int rand 128)
        if !tight($mode) && chance(0.05);
    return $v;
}

sub rand_pair {
    my ($mode, $kind) = @_;
    my $name;
    if ($kind eq 'tracker') {
        $name = pick(@TRACKERS);
    } elsif ($kind eq 'unknown') {
        $name = pick(@UNKNOWN);
    } elsif ($kind eq 'consent') {
        return 'consent=' . pick('1.k1.junk', 'x', '',
            rand_str(1, 40, "$ALNUM.-_"));
    } else {
        # empty names: kept
        return pick('=' . rand_str(0, 8, $ALNUM), 'lonely', '==x',
            ' = ' . rand_str(1, 4, $ALNUM));
    }
    $name = $name->() if ref $name;
    my $eq = '=';
    $eq = pick(' =', '= ', ' = ', tight($mode) ? '  =' : "\t=") if chance(0.1);
    return $name . $eq . rand_cookie_value($mode);
}

my @SEPS = ('; ', ';', ' ; ', ';;', '; ;', ';  ', ' ;');

sub rand_cookie_line {
    my ($mode, %o) = @_;
    my $tight = tight($mode);
    return pick('', ' ', '  ', "\t") if !$tight && chance(0.04);
    my $n = 1 + int rand(chance(0.1) ? 12 : 4);
    my @p;
    for (1 .. $n) {
        my $r = rand;
        my $kind = $o{trackers_only} ? 'tracker'
            : $r < 0.50 ? 'tracker'
            : $r < 0.80 ? 'unknown'
            : $r < 0.90 ? ($o{no_consent} ? 'unknown' : 'consent')
            : 'empty';
        push @p, rand_pair($mode, $kind);
    }
    # duplicates: the same pair again, elsewhere
    if (chance(0.15)) {
        splice @p, int rand(@p + 1), 0, $p[int rand @p];
    }
    my $line = '';
    for my $i (0 .. $#p) {
        $line .= pick(@SEPS, $tight ? () : (";\t", "\t; ")) if $i;
        $line .= $p[$i];
    }
    $line = pick('; ', ';', ' ', $tight ? () : "\t") . $line if chance(0.08);
    $line .= pick(';', '; ', ' ') if chance(0.08);
    if ($tight) {
        $line =~ s/\A +//;
        $line = 'x=1' if $line eq '';
    }
    return $line;
}

# a consent cookie's purposes: none, all, each one alone, all but each one
# (a short list: the core filter runs once per distinct decision)
my @TOKEN_MASKS = (0x01, 0x3f, (map { 0x01 | 1 << $_ } 1 .. 5),
    (map { 0x3f & ~(1 << $_) } 1 .. 5));

my @COUNTRIES = ('FR', 'fr', 'DE', 'US', 'us', 'US-CA', 'us-ny', 'JP', 'jp',
    'JP-13', 'BR', 'ZZ', '', undef);

# one request: {mode, shape, headers => [[name, value, kind], ...],
# country, gpc, token, mask, consent, ...}
sub gen_request {
    my ($mode, $i) = @_;
    my %q = (mode => $mode, i => $i);
    my $tight = tight($mode);

    # every tenth request has the list-surgery bug's shape for sure, with
    # every cookie refused (trackers only, opt_in, no token): the property
    # sees that case whatever the seed, not only when chance gives it
    my $quota = $i % 10 == 0;

    my $r = rand;
    $q{shape} = ($quota || $r < 0.35) ? 'tail'
        : $r < 0.45 ? 'small' : 'random';

    $q{country} = pick(@COUNTRIES);
    $q{country} = pick('FR', 'fr', 'DE', undef, 'ZZ')
        if $q{shape} eq 'tail' && chance(0.6);
    $q{country} = 'FR' if $quota;
    $q{country} = undef if $tight && defined $q{country} && $q{country} eq '';
    $q{gpc} = chance(0.3) ? 1 : 0;
    if (!$quota && chance(0.25)) {
        my $pv = 1 + int rand 9;
        my $mask = pick(@TOKEN_MASKS);
        $q{token} = { mask => $mask, pv => $pv,
            value => mint_token('k1', $K1, "s$i", $mask, $pv, time - 60) };
    }

    $q{id} = "p63-$mode-$i-$SEED";
    $q{path} = "/p63/$mode-$i";

    # the headers that carry meaning
    my @special = (['X-Req', $q{id}, 'req']);
    push @special, ['X-Country', $q{country}, 'country']
        if defined $q{country};
    push @special, ['Sec-GPC', '1', 'gpc'] if $q{gpc};
    if (chance(0.15)) {
        # forged: the module's own replaces the first, the rest go
        push @special, [pick('Consent', 'consent', 'CONSENT'),
            pick('analytics=?1, advertising=?1', 'v=99', 'forged',
                $tight ? () : ''),
            'consent'] for 1 .. 1 + int rand 3;
    }
    if ($mode eq 'h1') {
        push @special, ['Host', 'localhost', 'hop'];
        push @special, [pick('Connection', 'connection'), 'close', 'hop'];
        push @special, [pick('TE', 'Keep-Alive', 'Upgrade', 'keep-alive'),
            rand_value($mode), 'hop'] for 1 .. (chance(0.1) ? 1 + int rand 2 : 0);
    }
    if (lc_names($mode)) {
        $_->[0] = lc $_->[0] for @special;
    }

    my ($n_ord, $n_cookie);
    if ($q{shape} eq 'tail') {
        my $before = 15 + int rand 26;         # 15..40 list elements
        $n_ord = $before - @special;
        $n_ord = 0 if $n_ord < 0;
        $n_cookie = 2 + int rand 4;
    } elsif ($q{shape} eq 'small') {
        $n_ord = int rand 4;
        $n_cookie = int rand 6;
    } else {
        $n_ord = int rand 101;
        $n_cookie = int rand 6;
    }

    my @ord = map { [rand_name($mode), rand_value($mode), 'ord'] } 1 .. $n_ord;
    my $trackers_only = $quota || ($q{shape} eq 'tail' && chance(0.5));
    my @cookies = map {
        [lc_names($mode) ? 'cookie'
             : pick('Cookie', 'Cookie', 'Cookie', 'cookie', 'COOKIE'),
         rand_cookie_line($mode, trackers_only => $trackers_only,
             no_consent => !!$q{token}),
         'cookie']
    } 1 .. $n_cookie;

    if ($q{token}) {
        push @cookies, [lc_names($mode) ? 'cookie' : 'Cookie', '', 'cookie']
            unless @cookies;
        my $c = $cookies[int rand @cookies];
        my $tok = "consent=$q{token}{value}";
        $c->[1] = $c->[1] !~ /[^ \t]/ ? $tok
            : chance(0.5) ? "$tok; $c->[1]" : "$c->[1]; $tok";
    }

    if ($q{shape} eq 'tail') {
        $q{headers} = [shuffle(@ord, @special), @cookies];
    } else {
        $q{headers} = [shuffle(@ord, @special, @cookies)];
    }

    decide(\%q);
    return \%q;
}

# ---------------------------------------------------------------- tool

my $TMP = File::Temp->newdir('consent-p63-XXXXXX', TMPDIR => 1);

# core_filter($rules, [[$mask, $value, \$slot], ...]) sets each $slot to
# [the value the origin must get, or undef when the line goes; the names
# dropped from it, ','-joined], from one run of strip_cookie per mask
sub core_filter {
    my ($rules_path, $jobs) = @_;
    my %by_mask;
    push @{ $by_mask{$_->[0]} }, $_ for @$jobs;
    for my $mask (sort { $a <=> $b } keys %by_mask) {
        my $in = "$TMP/in-$mask";
        open my $fh, '>', $in or die "$in: $!";
        binmode $fh;
        print $fh unpack('H*', $_->[1]), "\n" for @{ $by_mask{$mask} };
        close $fh;
        open my $out, '-|', "'$TOOL' -s '$rules_path' $mask consent < '$in'"
            or die "strip_cookie: $!";
        my @lines = <$out>;
        close $out;
        die "strip_cookie exited with " . ($? >> 8) . "\n" if $?;
        die "strip_cookie: " . @lines . " lines for "
            . @{ $by_mask{$mask} } . " inputs\n"
            if @lines != @{ $by_mask{$mask} };
        for my $j (0 .. $#lines) {
            my ($v, $names) = $lines[$j] =~ /\A(-|[0-9a-f]*)\t([0-9a-f]*)\n\z/
                or die "strip_cookie: bad output line $lines[$j]";
            ${ $by_mask{$mask}[$j][2] } = [
                $v eq '-' ? undef : pack('H*', $v), pack('H*', $names)];
        }
    }
}

# ---------------------------------------------------------------- model

# the values the module filters: HTTP/1.1 lines as nginx parsed them; over
# HTTP/2 the one line nginx joins the fields into
sub cookie_inputs {
    my ($q) = @_;
    my @c = map { parsed($q->{mode}, $_->[1]) }
        grep { $_->[2] eq 'cookie' } @{ $q->{headers} };
    return @c if $q->{mode} eq 'h1';
    return @c ? (join '; ', @c) : ();
}

# the upstream head the origin must receive (for nghttp: from the fields
# nghttp reports it sent)
sub expected_head {
    my ($q, $raw_port, $sent) = @_;
    my $h1 = $q->{mode} eq 'h1';
    my @fields = $sent ? grep { $_->[0] !~ /\A:/ } @$sent : @{ $q->{headers} };
    my (@lines, @stripped);
    my ($consent_done, $ci) = (0, 0);
    for my $f (@fields) {
        my ($name, $value) = @$f;
        my $lc = lc $name;
        # proxy_set_header's defaults: Host and Connection are its own,
        # TE, Keep-Alive and Upgrade cleared
        next if $lc =~ /\A(?:host|connection|te|keep-alive|upgrade)\z/;
        if ($lc eq 'cookie') {
            next unless $h1;
            my $res = $q->{filtered}[$ci++];
            push @stripped, $res->[1] if length $res->[1];
            push @lines, "$name: $res->[0]" if defined $res->[0];
        } elsif ($lc eq 'consent') {
            push @lines, "$name: $q->{consent}" unless $consent_done++;
        } else {
            push @lines, "$name: " . parsed($q->{mode}, $value);
        }
    }
    if (!$h1 && @{ $q->{filtered} || [] }) {
        # the cookie header nginx builds from the fields comes after them
        my $res = $q->{filtered}[0];
        push @stripped, $res->[1] if length $res->[1];
        push @lines, "cookie: $res->[0]" if defined $res->[0];
    }
    push @lines, "Consent: $q->{consent}" unless $consent_done;
    $q->{stripped} = join ',', @stripped;
    # the location's proxy_set_header first (not sent when empty), then
    # the defaults' Host and Connection
    unshift @lines, 'Host: 127.0.0.1:' . $raw_port,
        $PROXY_11 ? () : 'Connection: close';
    unshift @lines, "X-Consent-Stripped: $q->{stripped}"
        if length $q->{stripped};
    unshift @lines, "GET $q->{path} $PROXY_VER";
    return join('', map { "$_\r\n" } @lines) . "\r\n";
}

sub h1_bytes {
    my ($q) = @_;
    return "GET $q->{path} HTTP/1.1\r\n"
        . join('', map { "$_->[0]: $_->[1]\r\n" } @{ $q->{headers} }) . "\r\n";
}

sub show {
    my ($s) = @_;
    return 'undef' unless defined $s;
    $s =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
    return $s;
}

sub diff_lines {
    my ($want, $got) = @_;
    my @w = split /\r\n/, $want // '';
    my @g = split /\r\n/, $got // '';
    my @out;
    my $n = @w > @g ? @w : @g;
    for my $i (0 .. $n - 1) {
        my ($a, $b) = ($w[$i], $g[$i]);
        next if defined $a && defined $b && $a eq $b;
        push @out, sprintf "  line %d: want %s\n           got  %s",
            $i, show($a), show($b);
        last if @out >= 6;
    }
    return join "\n", @out;
}

# [line, value] of the head's lines called name
sub header_lines {
    my ($head, $name) = @_;
    return map { /\A\Q$name\E:[ ](.*)\z/si ? [$_, $1] : () }
        split /\r\n/, $head;
}

# every request of one way of sending, one assertion per property
sub check_all {
    my ($what_proto, $reqs) = @_;
    my @props = (
        [answered => "answered 200 with the origin's echo"],
        [others   => 'every other header byte for byte, in order'],
        [consent  => 'one Consent header, with the decision'],
        [cookies  => 'Cookie lines exactly as the core filter says'],
        [stripped => '$consent_stripped: the names the core dropped'],
        [head     => 'the whole upstream head as modelled'],
    );
    my %fail = map { $_->[0] => [] } @props;
    for my $q (@$reqs) {
        my $r = $q->{response};
        my $got = $r ? $r->body // '' : '';
        my $tag = "$q->{mode} #$q->{i} ($q->{shape}, "
            . scalar(@{ $q->{headers} }) . ' headers, mask '
            . sprintf('0x%02x', $q->{mask}) . ')';
        unless ($r && $r->status == 200 && $got =~ /\r\n\r\n\z/) {
            # nothing to look at: every property fails
            push @{ $fail{$_->[0]} }, "$tag: no echo" for @props;
            $fail{answered}[-1] = "$tag: status " . ($r ? $r->status : '-')
                . ($r && $r->{error} ? " ($r->{error})" : '')
                . ($r && $r->{output} ? "\n$r->{output}" : '');
            next;
        }
        my $want = $q->{expected};
        push @{ $fail{head} }, "$tag:\n" . diff_lines($want, $got)
            if $got ne $want;

        my $others = sub {
            join "\r\n", grep { !/\A(?:cookie|consent|x-consent-stripped):/i }
                split /\r\n/, $_[0];
        };
        push @{ $fail{others} }, "$tag:\n"
            . diff_lines($others->($want), $others->($got))
            if $others->($got) ne $others->($want);

        my @c = header_lines($got, 'consent');
        push @{ $fail{consent} }, "$tag: " . @c . ' Consent lines: '
            . join(' | ', map { show($_->[0]) } @c)
            . "; want one with $q->{consent}"
            unless @c == 1 && $c[0][1] eq $q->{consent};

        my $wc = join "\n", map { $_->[0] } header_lines($want, 'cookie');
        my $gc = join "\n", map { $_->[0] } header_lines($got, 'cookie');
        push @{ $fail{cookies} }, "$tag:\n  in:   "
            . join("\n        ", map { show($_) } cookie_inputs($q))
            . "\n  want: " . show($wc) . "\n  got:  " . show($gc)
            if $wc ne $gc;

        my @s = map { $_->[1] } header_lines($got, 'x-consent-stripped');
        my $gs = join '|', @s;
        push @{ $fail{stripped} }, "$tag: want " . show($q->{stripped})
            . ', got ' . show($gs)
            if @s > 1 || $gs ne $q->{stripped};
    }

    my $n = @$reqs;
    for my $p (@props) {
        my $f = $fail{$p->[0]};
        is(scalar @$f, 0, "$what_proto, $n requests: $p->[1]")
            or diag(join "\n", (@$f > 3 ? @$f[0 .. 2] : @$f),
                @$f > 3 ? '... and ' . (@$f - 3) . ' more' : ());
    }
}

# ---------------------------------------------------------------- instance

my $t = ConsentTest->new(
    name   => 'header-property',
    h2     => 1,
    files  => { 'prop.rules' => $RULES, keys => keys_line('k1', $K1) },
    http   => <<'EOF',
    consent_rules %%DIR%%/prop.rules;
    consent_keys  %%DIR%%/keys;
EOF
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            proxy_set_header X-Consent-Stripped $consent_stripped;
        }
EOF
);
my $rules_path = $t->dir . '/prop.rules';
note(sprintf '%.1fs: nginx up', time - $T0);

# everything is generated first: the sequence depends on the seed alone
my @h1 = map { gen_request('h1', $_) } 1 .. $N;
my @h2 = map { gen_request('h2', $_) } 1 .. $N;
my @ng = map { gen_request('nghttp', $_) } 1 .. $N_NGHTTP;

{
    my @jobs;
    for my $q (@h1, @h2, @ng) {
        $q->{filtered} = [];
        my @in = cookie_inputs($q);
        push @jobs, [$q->{mask}, $in[$_], \$q->{filtered}[$_]] for 0 .. $#in;
    }
    core_filter($rules_path, \@jobs);
    note(sprintf '%.1fs: %d requests generated, %d cookie lines filtered',
        time - $T0, @h1 + @h2 + @ng, scalar @jobs);
}

# the generator makes the shape the list-surgery bug needed
{
    my $shape = grep {
        my @k = map { $_->[2] } @{ $_->{headers} };
        my $first = (grep { $k[$_] eq 'cookie' } 0 .. $#k)[0];
        my $n = grep { $_ eq 'cookie' } @k;
        defined $first && $first >= 15 && $first <= 40 && $n >= 2
            && !grep { $_ ne 'cookie' } @k[$first .. $#k];
    } @h1;
    cmp_ok($shape, '>=', $N / 5,
        "generator: $shape of $N HTTP/1.1 requests have 15-40 header lines, "
        . 'then 2+ Cookie lines last');
    my $gone = grep {
        (grep { $_->[2] eq 'cookie' } @{ $_->{headers} }) >= 2
            && !grep { defined $_->[0] } @{ $_->{filtered} }
    } @h1;
    cmp_ok($gone, '>=', $N / 20, "generator: $gone HTTP/1.1 requests have "
        . '2+ Cookie lines, all of them stripped');
    my $split = grep {
        (grep { $_->[2] eq 'cookie' } @{ $_->{headers} }) >= 2 } @h2;
    cmp_ok($split, '>=', $N / 5,
        "generator: $split HTTP/2 requests split cookies over 2+ fields");
    note(scalar(grep { $_->{token} } @h1, @h2)
        . ' requests with a valid consent cookie');
}

# --- HTTP/1.1: raw bytes

for my $q (@h1) {
    $q->{expected} = expected_head($q, $t->raw_port);
    $q->{response} = $t->raw(h1_bytes($q));
}
note(sprintf '%.1fs: HTTP/1.1 sent', time - $T0);
check_all('HTTP/1.1', \@h1);

# --- HTTP/2: prior knowledge h2c, each cookie its own field

for my $q (@h2) {
    $q->{expected} = expected_head($q, $t->raw_port);
    $q->{response} = $t->h2c_request($q->{path},
        headers => [map { [$_->[0], $_->[1]] } @{ $q->{headers} }]);
}
note(sprintf '%.1fs: HTTP/2 sent', time - $T0);
check_all('HTTP/2', \@h2);

# --- HTTP/2 from nghttp, a real client (each run starts a process: fewer)

SKIP: {
    skip 'nghttp (nghttp2-client) not installed', 7 unless $have_nghttp;
    my @bad;
    for my $q (@ng) {
        my $r = $t->h2_request($q->{path}, no_req => 1,
            headers => [map { [$_->[0], $_->[1]] } @{ $q->{headers} }]);
        $q->{response} = $r;
        # what nghttp sent: its own fields, then ours as generated
        my @ours = grep { $_->[0] !~ /\A:/ && !$NGHTTP_OWN{$_->[0]} }
            @{ $r->{sent} };
        my $want = join "\r\n", map { "$_->[0]: $_->[1]" } @{ $q->{headers} };
        my $got = join "\r\n", map { "$_->[0]: $_->[1]" } @ours;
        push @bad, "nghttp #$q->{i}:\n" . diff_lines($want, $got)
            if $got ne $want;
        $q->{expected} = expected_head($q, $t->raw_port, $r->{sent});
    }
    is(scalar @bad, 0, 'nghttp sent every field as generated, in order')
        or diag(join "\n", @bad > 3 ? @bad[0 .. 2] : @bad);
    note(sprintf '%.1fs: HTTP/2 sent with nghttp', time - $T0);
    check_all('HTTP/2 (nghttp)', \@ng);
}

$t->stop;

# --- deterministic: N header lines, then two "Cookie: _ga=1", one rule
#
# nginx gives a request's header list parts of 20 elements.  20 (or 40)
# lines then two Cookie lines that are both stripped empty the last part
# entirely; then the module pushes its Consent header (and the proxy adds
# its own headers to what goes upstream).  A list left inconsistent by the
# removal makes that push write past the end of a part: where the part
# ends inside a pool block the bytes land in dead memory and nothing
# shows, so the same requests also go to servers whose request pools are
# 1024 to 2048 bytes (every 16): with some of those, the part ends at a
# block's end and an overflow corrupts the heap.  The worker must survive
# every one (and error.log stay clean, checked at stop).

{
    my @pools = map { 1024 + 16 * $_ } 0 .. 64;
    my $location = <<'EOF';
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            proxy_set_header X-Added "after";
            %%VARS_HEADERS%%
        }
EOF
    my $servers = join '', map { <<"EOF" } @pools;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name pool-$_;
        request_pool_size $_;
$location
    }
EOF
    my $d = ConsentTest->new(
        name   => 'header-property-20',
        http   => "    consent_rule _ga analytics google;\n$servers",
        server => $location . <<'EOF',
        location = /pid {
            consent off;
            return 200 "$pid";
        }
EOF
    );
    my $fr = consent_value(0x01, 0, 0);

    # ($request, $expected upstream head) for $k list elements before the
    # two Cookie lines: Host, Connection, X-Req, X-Country and pads
    my $det = sub {
        my ($k, $host, $path) = @_;
        my @h = (['Host', $host], ['Connection', 'close'],
            ['X-Req', "det-$k"], ['X-Country', 'FR'],
            map { [sprintf('X-Pad-%02d', $_), "value-$_"] } 1 .. $k - 4);
        my $req = "GET $path HTTP/1.1\r\n"
            . join('', map { "$_->[0]: $_->[1]\r\n" } @h)
            . "Cookie: _ga=1\r\nCookie: _ga=1\r\n\r\n";
        # proxy_set_header's own header first, then its defaults
        my $want = "GET $path $PROXY_VER\r\nX-Added: after\r\n"
            . "Host: 127.0.0.1:" . $d->raw_port . "\r\n"
            . ($PROXY_11 ? '' : "Connection: close\r\n")
            . join('', map { "$_->[0]: $_->[1]\r\n" } @h[2 .. $#h])
            . "Consent: $fr\r\n\r\n";
        return ($req, $want);
    };
    my $pid = sub {
        $d->get('/pid', headers => [[Connection => 'close']])->body
    };

    for my $k (20, 19, 21, 40, 39, 41) {
        my ($req, $want) = $det->($k, 'localhost', "/det/$k");
        my $r = $d->raw($req);
        is($r->status, 200, "$k header lines, then two Cookie: _ga=1: 200");
        is($r->body, $want, "$k header lines, then two Cookie: _ga=1: both "
            . 'lines gone, every other header intact, Consent last')
            or diag(diff_lines($want, $r->body));
        is($r->var('stripped'), '_ga,_ga',
            "$k header lines: \$consent_stripped is _ga,_ga");
    }

    my $worker = $pid->();
    my (@died, @wrong);
    for my $size (@pools) {
        for my $k (20, 40) {
            my ($req, $want) = $det->($k, "pool-$size", "/pool/$size/$k");
            my $r = $d->raw($req);
            push @wrong, "request_pool_size $size, $k lines: status "
                . $r->status . "\n" . diff_lines($want, $r->body)
                if $r->status != 200 || $r->body ne $want;
            # a worker that died is replaced: the next answer has a new pid
            my $now = $pid->();
            if ($now ne $worker) {
                push @died, "request_pool_size $size, $k lines";
                $worker = $now;
            }
        }
    }
    is(scalar @died, 0, 'request pools of 1024 to 2048 bytes, 20 or 40 '
        . 'lines then two stripped Cookie lines: the worker never dies')
        or diag(join "\n", 'the worker died after ' . @died . ' of '
            . 2 * @pools . ' requests:', @died > 8 ? (@died[0 .. 7], '...')
            : @died);
    is(scalar @wrong, 0, 'request pools of 1024 to 2048 bytes: every '
        . 'upstream head as modelled')
        or diag(join "\n", @wrong > 3 ? @wrong[0 .. 2] : @wrong);
    $d->stop;
}

note(sprintf 'took %.1fs', time - $T0);

done_testing;
