#!/usr/bin/perl
# Malformed input in volume: 10,000 exchanges (over 10,000 requests, some
# pipelined) of mixed bad input against one nginx with the module in full
# configuration (rules, keys, Redis, a small zone that evicts, region,
# subject, expire_rejected, upstream header, strip_args, require, the
# consent API), from 4 forked keep-alive clients.
#
# Bad input: huge and broken Cookie headers (up to the header buffer and
# past it, 1,000+ cookies, no '=', empty names, unbalanced quotes, ';;;',
# whitespace only, bytes 0x80-0xff, control bytes, NUL and bare CR, many
# Cookie lines), forged, truncated, bit-flipped, expired, future-dated and
# unknown-key consent tokens, garbage consent_subject values, odd Sec-GPC,
# X-Country and Host values, tracking query parameters among junk ones, and
# at the consent API invalid JSON (truncated, nested deep, bad UTF-8, lone
# surrogates, duplicate keys, wrong types, huge numbers, over 4 KB), wrong
# content types, bad form bodies, chunked bodies good and broken, cross-site
# Origins, other methods; and from an upstream, good and broken Set-Cookie
# headers for the response side.
#
# Every request must get a complete answer whose status is the one its kind
# calls for; the answer's head must split cleanly into CRLF lines with no
# NUL, no bare CR or LF and no header nobody writes; every Set-Cookie must
# be one the module writes (an expiry of a token-named cookie or a consent
# cookie whose signature verifies) or an upstream one passed on byte for
# byte; the upstream Consent header is well-formed; where the outcome is
# known (forged tokens, subjects, regions, GPC, valid tokens, stripping of
# cookies and query parameters, API errors and the field they name) it is
# checked too.  Afterwards the worker is the same process, the master is
# alive, error.log is clean, and a normal request and a normal API write
# still work.  The checker itself is shown to catch fabricated bad answers
# first.
#
# Deterministic: client c of 4 draws from srand(SEED + c) (SEED below, or
# CONSENT_MALFORMED_SEED); a failing request is shown byte for byte.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(hmac_sha256 sha256);
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);

use ConsentTest qw(mint_token sign_payload b64url keys_line time_scale
    expiry_domains);
use ConsentTest ();

my $SEED = $ENV{CONSENT_MALFORMED_SEED} // 62_062;
$SEED =~ /\A\d+\z/ or die "CONSENT_MALFORMED_SEED must be a number\n";
my $CLIENTS = 4;
my $PER_CLIENT = 2_500;                 # 10,000 requests in all
my $N = $CLIENTS * $PER_CLIENT;

my %KEY = (k1 => sha256('62-malformed-input k1'),
           k2 => sha256('62-malformed-input k2'));
my @PURPOSES = qw(necessary functional analytics advertising
    personalization sharing);
my $ALL_MASK = 0x3f;
my $PP = 'browsing-topics=(), interest-cohort=()';
my $BUF = 48 * 1024;                    # large_client_header_buffers 8 48k

my $t = ConsentTest->new(
    name  => 'malformed',
    redis => 1,
    files => { keys => keys_line(k1 => $KEY{k1}) . keys_line(k2 => $KEY{k2}) },
    http  => <<'EOF',
    consent_rules %%REPO%%/ngx_consent_module/rules/default.rules;
    consent_rule ~trk_[0-9]+ advertising acme-ads;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s connect_timeout=1s;
    consent_zone zone=consent:32k ttl=60s negative_ttl=60s;
    consent_policy_version 3 reconsent_below=2;
    large_client_header_buffers 8 48k;

    # an origin that answers with the Set-Cookie headers it is asked for
    server {
        listen unix:%%DIR%%/sc.sock;
        access_log off;
        location / {
            add_header Set-Cookie $http_x_sc1;
            add_header Set-Cookie $http_x_sc2;
            add_header Set-Cookie $http_x_sc3;
            add_header Set-Cookie $http_x_sc4;
            return 200 "sc\n";
        }
    }
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid trusted;
    consent_expire_rejected on;
    consent_upstream_header Consent;
    consent_strip_args advertising gclid fbclid msclkid;
    consent_strip_args analytics utm_*;

    location = /consent { consent_api; }

    location /collect/ {
        consent_require analytics;
        proxy_pass %%ORIGIN%%;
    }

    location /raw/ { proxy_pass %%RAW%%; }

    location /sc/ {
        proxy_buffer_size 64k;
        proxy_buffers 4 64k;
        proxy_busy_buffers_size 128k;
        proxy_pass http://unix:%%DIR%%/sc.sock:;
    }

    location / {
        %%VARS_HEADERS%%
        proxy_pass %%ORIGIN%%;
    }
EOF
);

# ================================================================ helpers

sub rnd    { int rand $_[0] }
sub pick   { $_[ rnd scalar @_ ] }
sub chance { rand() < $_[0] }

sub esc {
    my ($s) = @_;
    $s =~ s/([^\x20-\x7e]|\\)/$1 eq '\\' ? '\\\\' : sprintf '\\x%02x', ord $1/ge;
    return $s;
}

sub b64chars {
    my ($n) = @_;
    my $a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return join '', map { substr $a, rnd(64), 1 } 1 .. $n;
}

sub hi_bytes  { join '', map { chr(0x80 + rnd 128) } 1 .. $_[0] }
sub ctl_bytes { join '', map { pick("\x01", "\x02", "\x07", "\x08", "\x0b",
    "\x0c", "\x1b", "\x1f", "\x7f", "\t") } 1 .. $_[0] }

sub mask_names {
    my ($m) = @_;
    return join ',', map { $PURPOSES[$_] } grep { $m & (1 << $_) } 0 .. 5;
}

# what nginx makes of a Host header: lower case, no port, no trailing dot
sub server_name {
    my ($h) = @_;
    $h = lc $h;
    $h =~ s/:\d+\z// unless $h =~ /\A\[/;
    $h =~ s/\.\z//;
    return $h;
}

# consent_expire_rejected's headers for a request to / (the contract is
# modelled in the harness)
sub expiries {
    my ($host, @names) = @_;
    return ConsentTest::expiries(host => server_name($host), path => '/',
        names => \@names);
}

# ================================================================ inputs

# names the rules match (every one a purpose opt_in refuses), and names no
# rule knows
my @TRACK = qw(_ga _gid _fbp _fbc _gcl_au IDE MUID _ga_ABC123 _ga_X
    _pk_id.1.ab12 trk_1 trk_42 _hjid __utma __utmz cto_bundle _ttp _uetsid
    _li_ss id5id);
my @PLAIN = qw(sid session csrf zq_a zq_b lang theme cart);

my @OPT_IN  = qw(FR de GB CH it UK NO);
my @OPT_OUT = qw(US us US-CA us-ny);
my @NOTICE  = qw(JP jp);
# unmapped: the default regime (opt_in)
my @BAD_REGION = ('ZZ', 'XX', "\x80\xff", 'F R', 'Q' x 300, 'J"P\\',
    "\x01\x02", '??', '0', '..', "\xe6\x97\xa5\xe6\x9c\xac", 'fr,de',
    'FR;DE', 'EU', '{}', 'null');

my %REGIME_P = (opt_in => 0x01, opt_out => 0x3f, notice => 0x17);

sub region_opt_in { chance(0.5) ? pick(@OPT_IN) : pick(@BAD_REGION) }

my @GPC = (['1', 1], ['0', 0], ['', 0], [' 1 ', 1], ['11', 0], ['true', 0],
    ['1,1', 0], ['01', 0], ['1;', 0], ['yes', 0], ["\x011", 0], ["1\x80", 0],
    ['1' x 3000, 0], ['?1', 0], ['1.0', 0]);
my @GPC_NAME = (['Sec-GPC', 1], ['sec-gpc', 1], ['SEC-GPC', 1],
    ['Sec-GPC-X', 0], ['Sec_GPC', 0], ['X-Sec-GPC', 0]);

sub junk_name {
    my $k = rnd 12;
    return pick(@TRACK) if $k < 4;
    return pick(@PLAIN) if $k < 6;
    return pick(@TRACK) . hi_bytes(1 + rnd 4) if $k == 6;
    return '_ga_' . ctl_bytes(1 + rnd 3) if $k == 7;
    return 'trk_' . ('9' x (1 + rnd 600)) if $k == 8;
    return '' if $k == 9;
    return pick(' ', "\t", '"', '""', '\\', '(x)', '{}', '[]', '@', '%00',
        '%0d%0a', "\x7f", 'a b', '/', '?') if $k == 10;
    return pick(@TRACK) . pick(' ', "\t", '"', '.', '*', '~', '(', ')');
}

sub junk_value {
    my $k = rnd 11;
    return '' if $k == 0;
    return '"' . b64chars(rnd 20) if $k == 1;
    return '"' . b64chars(rnd 20) . '"' if $k == 2;
    return hi_bytes(1 + rnd 30) if $k == 3;
    return ctl_bytes(1 + rnd 5) . 'x' if $k == 4;
    return b64chars(100 + rnd 3000) if $k == 5;
    return '=' x (1 + rnd 5) if $k == 6;
    return '%0D%0A%00' . b64chars(5) if $k == 7;
    return 'a=b=c' if $k == 8;
    return b64chars(1 + rnd 40);
}

sub junk_pair {
    my $k = rnd 10;
    return junk_name() if $k == 0;                    # no '='
    return '=' . junk_value() if $k == 1;             # empty name
    return junk_name() . ' = ' . junk_value() if $k == 2;
    return pick(' ', "\t", ' ' x (1 + rnd 20), '') if $k == 3;
    return junk_name() . '=' . junk_value();
}

sub junk_sep { pick('; ', ';', ';;;', ' ; ', ";\t", '; ; ', ';' x (1 + rnd 50),
    ', ', ';  ') }

# a Cookie value of n junk pairs (fewer past max bytes): never NUL, CR or
# LF, never a uid or consent cookie (so that the decision stays known)
sub junk_cookie {
    my ($n, $max) = @_;
    $max //= 20_000;
    my $v = chance(0.2) ? pick(';', ' ;', ';;') : '';
    for my $i (1 .. $n) {
        last if length $v > $max;
        $v .= junk_sep() if $i > 1;
        $v .= junk_pair();
    }
    $v .= pick(';', '; ', ';;;') if chance(0.2);
    return $v;
}

# ---------------------------------------------------------------- tokens

my $CLIENT = 0;
my $SUBSEQ = 0;

sub new_subject { "s$CLIENT-" . ++$SUBSEQ . '-' . b64chars(8) }

sub valid_token {
    my (%o) = @_;
    my $kid = $o{kid} // pick('k1', 'k2');
    my $sub = $o{subject} // new_subject();
    my $mask = $o{mask} // (1 | rnd 64);
    return (mint_token($kid, $KEY{$kid}, $sub, $mask, $o{pv} // 3,
        $o{iat} // time), $sub, $mask);
}

# another character at pos (one draw from rand whatever the token holds, so
# that the sequence of requests does not depend on the time in tokens)
sub flip_char {
    my ($s, $pos) = @_;
    my $a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    my $i = index $a, substr($s, $pos, 1);
    $i = 0 if $i < 0;
    substr($s, $pos, 1) = substr $a, ($i + 1 + rnd 64) % 65, 1;
    return $s;
}

# a consent cookie value the module must not trust
sub forged_token {
    my ($tok, $sub, $mask) = valid_token();
    my $now = int time;
    my $sig_at = length($tok) - 43;
    my $k = rnd 24;
    return flip_char($tok, $sig_at + rnd 43) if $k == 0;
    return flip_char($tok, rnd $sig_at) if $k == 1;
    return substr($tok, 0, rnd length $tok) if $k == 2;
    return mint_token('k9', $KEY{k1}, $sub, $mask, 3, $now) if $k == 3;
    return mint_token('k1', sha256('not the key'), $sub, $mask, 3, $now)
        if $k == 4;
    return mint_token('k1', $KEY{k2}, $sub, $mask, 3, $now) if $k == 5;
    return mint_token('k1', $KEY{k1}, $sub, $mask, 3, $now - 396 * 86400)
        if $k == 6;
    return mint_token('k2', $KEY{k2}, $sub, $mask, 3, $now + 3600) if $k == 7;
    # version 2 without its vendors, or with them out of their one form
    return sign_payload("2.k1.$sub.00000005.3.$now"
        . pick('', '.', '.Fyy', '.Fyy7Fyy7', '.njh7Fyy7', '.Fy+7', '.Fyy7.',
            '.Fyy7=', ".\x80\x81\x82\x83"), $KEY{k1}) if $k == 8;
    return sign_payload('1.k1.' . $sub . '.' . pick('5', '000000005',
        '0000000A', 'zzzzzzzz', '', '-0000001') . ".3.$now", $KEY{k1})
        if $k == 9;
    return sign_payload("1.k1.$sub.00000005." . pick('4294967296', '-3',
        '+3', '', 'x', '99999999999999999999') . ".$now", $KEY{k1})
        if $k == 10;
    return sign_payload("1.k1.$sub.00000005.3." . pick('-1', 'abc', '',
        '99999999999999999999999', '1e9', '0x10'), $KEY{k1}) if $k == 11;
    return sign_payload('1.k1.' . pick('s!b', 'a b', '', 'a' x 65,
        'x' x 150, "\x80\x81", 'a"b', 'a,b') . ".00000005.3.$now", $KEY{k1})
        if $k == 12;
    return sign_payload("1.k1.$sub.00000005.3.$now.extra", $KEY{k1})
        if $k == 13;
    return sign_payload("1.k1.$sub.00000005.3", $KEY{k1}) if $k == 14;
    return $tok . pick('=', 'x', '.', '..', '==') if $k == 15;
    return '"' . $tok . '"' if $k == 16;
    return sign_payload("1.K1.$sub.00000005.3.$now", $KEY{k1}) if $k == 17;
    return join '.', map { b64chars(rnd 30) } 1 .. (1 + rnd 9) if $k == 18;
    return 'x' . $tok if $k == 19;
    if ($k == 20) {
        my ($other) = valid_token();
        return substr($tok, 0, $sig_at) . substr($other, -43);
    }
    return substr($tok, 0, $sig_at) . ('A' x 43) if $k == 21;
    if ($k == 22) {
        my $flipped = flip_char($tok, $sig_at);
        (my $std = $tok) =~ tr{-_}{+/};
        return $std ne $tok ? $std : $flipped;
    }
    return $tok . hi_bytes(3);
}

# ================================================================ requests

our $REQ_ID = '';

sub request {
    my (%o) = @_;
    my $req = ($o{method} // 'GET') . ' ' . ($o{path} // '/') . ' '
        . ($o{version} // 'HTTP/1.1') . "\r\n";
    my @h;
    push @h, "Host: $o{host}" if defined $o{host};
    push @h, "X-Req: $REQ_ID";
    push @h, map { ref $_ ? "$_->[0]: $_->[1]" : $_ } @{ $o{headers} || [] };
    if (defined $o{chunks}) {
        push @h, 'Transfer-Encoding: chunked';
    } elsif (defined $o{body}) {
        push @h, 'Content-Length: ' . ($o{cl} // length $o{body});
    }
    push @h, 'Connection: close' if $o{close};
    return $req . join('', map { "$_\r\n" } @h) . "\r\n"
        . ($o{chunks} // $o{body} // '');
}

# a spec: kind, req (bytes), expect (statuses), head (HEAD request), and
# what else to check (see check())
our $NO_CLOSE = 0;

sub spec {
    my ($kind, $expect, %o) = @_;
    $o{close} //= $NO_CLOSE ? 0 : chance(0.15);
    my %s = (kind => $kind, expect => $expect,
        head => ($o{method} // '') eq 'HEAD');
    for my $k (qw(x origin origin_cookie origin_uri sc api field error
                  region raw no_cookie json_200 write upstream_sc sc_drop
                  sc_keep)) {
        $s{$k} = delete $o{$k} if exists $o{$k};
    }
    $s{req} = request(%o);
    $s{id} = $REQ_ID;
    return \%s;
}

# nginx 1.29.4 and later validate Host by RFC 3986 and answer 400 to these
my @ODD_HOSTS = ConsentTest::nginx_at_least('1.29.4')
    ? () : ("h\x80st.example", 'a\\b');

sub host_ok { pick('localhost', 'localhost', 'www.shop.example',
    'WWW.Shop.Example.', 'www.shop.example:8080', '127.0.0.1', '[::1]',
    @ODD_HOSTS, ('x' x 200) . '.example', 'my_host.example',
    'shop.example') }

# 0 to 3 GPC-ish headers: (headers, whether the module must see GPC)
sub gpc_headers {
    my (@h, $gpc);
    $gpc = 0;
    for (1 .. rnd 4) {
        my $n = pick(@GPC_NAME);
        my $v = pick(@GPC);
        push @h, [$n->[0], $v->[0]];
        $gpc ||= $n->[1] && $v->[1];
    }
    return (\@h, $gpc ? 1 : 0);
}

# ---------------------------------------------------------------- proxied

sub k_cookie_junk {
    my @h;
    for (1 .. 1 + (chance(0.3) ? rnd 6 : 0)) {
        push @h, [pick('Cookie', 'cookie', 'COOKIE'), junk_cookie(1 + rnd 40)];
    }
    my ($g) = gpc_headers();
    return spec('cookie-junk', [200], host => host_ok(),
        headers => [@h, ['X-Country', region_opt_in()], @$g], origin => 1);
}

sub k_cookie_huge {
    my $target = 8_000 + rnd(36_000);              # fits the 48k buffer
    my $v = '';
    while (length $v < $target) {
        $v .= junk_sep() if length $v;
        $v .= chance(0.7) ? pick(@TRACK, @PLAIN) . '=' . b64chars(rnd 12)
            : junk_pair();
    }
    $v = substr $v, 0, $target;
    return spec('cookie-huge', [200], host => host_ok(),
        headers => [[Cookie => $v], ['X-Country', region_opt_in()]],
        origin => 1);
}

sub k_cookie_many {
    my $n = 1_000 + rnd 2_500;
    my @p = map { chance(0.5) ? pick(@TRACK) . "=$_" : "c$_=$_" } 1 .. $n;
    my $v = join pick('; ', ';'), @p;
    if (length $v > 44_000) {
        $v = substr $v, 0, 44_000;
        $v =~ s/;[^;]*\z//;
    }
    return spec('cookie-many', [200], host => host_ok(),
        headers => [[Cookie => $v], ['X-Country', region_opt_in()]],
        origin => 1);
}

sub k_cookie_lines {
    my @h;
    for my $i (1 .. 30 + rnd 170) {
        push @h, [Cookie => chance(0.5) ? junk_cookie(1 + rnd 4, 500)
            : pick(@TRACK) . "=$i"];
        push @h, ["X-Pad-$i", b64chars(rnd 10)] if chance(0.3);
    }
    return spec('cookie-lines', [200], host => host_ok(),
        headers => [@h, ['X-Country', region_opt_in()]], origin => 1);
}

# NUL and bare CR make nginx refuse the request; other control bytes and a
# bare LF (a line end to nginx) do not
sub k_cookie_ctl {
    my $k = rnd 5;
    my $v = junk_cookie(1 + rnd 5);
    my $at = rnd(length($v) + 1);
    my ($ins, $st);
    if ($k == 0) { ($ins, $st) = ("\0", 400) }
    elsif ($k == 1) { ($ins, $st) = ("\rx", 400) }           # CR, not CRLF
    elsif ($k == 2) { ($ins, $st) = ("\nX-Junk: 1", 200) }   # a line of its own
    elsif ($k == 3) { ($ins, $st) = ("\nb=2", 200); $at = length $v }
    else { ($ins, $st) = (ctl_bytes(1 + rnd 8), 200) }
    substr($v, $at, 0) = $ins;
    return spec('cookie-ctl', [$st], host => 'localhost',
        headers => [[Cookie => "_ga=1; $v"], ['X-Country', 'FR']],
        close => $st != 200 || chance(0.15), origin => $st == 200);
}

sub k_too_big {
    my $k = rnd 4;
    if ($k == 0) {
        return spec('too-big', [414], close => 1, host => 'localhost',
            path => '/?' . ('a' x ($BUF + rnd 20_000)));
    }
    if ($k == 1) {
        return spec('too-big', [400], close => 1, host => 'localhost',
            headers => [map { [Cookie => "c$_=" . ('v' x 45_000)] } 1 .. 9]);
    }
    return spec('too-big', [400], close => 1, host => 'localhost',
        headers => [[Cookie => '_ga=1; ' . junk_cookie(3) . '; big='
            . ('x' x ($BUF + rnd 60_000))]]);
}

# well-formed lines under opt_in with no consent: exactly the tracking
# cookies go, the rest keep their bytes and order, each name goes once
# into $consent_stripped and gets its expiries
sub k_strip {
    my $host = pick('localhost', 'www.shop.example', 'www.shop.example:8080',
        'WWW.Shop.Example.', 'a.b.c.d.example', '127.0.0.1', 'shop.example');
    my (@h, @kept_lines, @stripped);
    for my $i (1 .. 1 + rnd(chance(0.3) ? 60 : 4)) {
        my (@pairs, @kept);
        for my $j (1 .. 1 + rnd 30) {
            if (chance(0.5)) {
                my $n = pick(@TRACK);
                push @pairs, "$n=" . b64chars(rnd 10);
                push @stripped, $n;
            } else {
                push @pairs, pick(@PLAIN) . "$i$j=" . b64chars(rnd 10);
                push @kept, $pairs[-1];
            }
        }
        push @h, [Cookie => join '; ', @pairs];
        push @h, ["X-Pad-$i", 'p'] if chance(0.3);
        push @kept_lines, join '; ', @kept if @kept;
    }
    return spec('strip', [200], host => $host,
        headers => [@h, ['X-Country', pick(@OPT_IN)]],
        origin => 1,
        origin_cookie => join('; ', @kept_lines),
        sc => [expiries($host, @stripped)],
        x => { stripped => join(',', @stripped), source => 'default',
               purposes => 'necessary' });
}

sub token_cookie_headers {
    my (@cookies) = @_;    # spread over one or two Cookie lines with junk
    my @extra = map { pick(@TRACK, @PLAIN) . '=' . b64chars(5) } 1 .. rnd 5;
    my @all = (@extra, @cookies);
    if (chance(0.3) && @all > 1) {
        my $cut = 1 + rnd $#all;
        return ([Cookie => join '; ', @all[0 .. $cut - 1]],
                [Cookie => join '; ', @all[$cut .. $#all]]);
    }
    return ([Cookie => join '; ', @all]);
}

sub k_forged {
    my @c = map { 'consent=' . forged_token() } 1 .. 1 + rnd 4;
    push @c, 'uid=' . pick('a b', 'x' x 129, 'a!b', "\x80") if chance(0.2);
    return spec('forged', [200], host => host_ok(),
        headers => [token_cookie_headers(@c), ['X-Country', region_opt_in()]],
        origin => 1,
        x => { source => 'default', id => '', purposes => 'necessary' });
}

sub k_valid_token {
    my ($tok, $sub, $mask) = valid_token(
        mask => chance(0.2) ? rnd(2**32) : 1 | rnd 64);
    my @c = map { 'consent=' . forged_token() } 1 .. rnd 3;
    push @c, 'consent=' . (chance(0.2) ? " $tok " : $tok);
    return spec('valid-token', [200], host => host_ok(),
        headers => [token_cookie_headers(@c), ['X-Country', region_opt_in()]],
        origin => 1,
        x => { source => 'cookie', id => $sub,
               purposes => mask_names(($mask & $ALL_MASK) | 1) });
}

sub k_stale_token {
    my ($tok, $sub) = valid_token(pv => pick(0, 1));
    return spec('stale-token', [200], host => 'localhost',
        headers => [token_cookie_headers("consent=$tok"),
            ['X-Country', region_opt_in()]],
        origin => 1,
        x => { source => 'default', id => $sub, purposes => 'necessary' });
}

sub k_subject {
    my $ok = chance(0.5);
    my $uid;
    if ($ok) {
        my $len = pick(1, 2, 64, 127, 128, 1 + rnd 128);
        my $a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-';
        $uid = "u$CLIENT-$SUBSEQ-";
        $SUBSEQ++;
        $uid .= substr $a, rnd(length $a), 1 while length $uid < $len;
        $uid = substr $uid, 0, $len;
    } else {
        $uid = pick('', 'x' x 129, 'y' x 3000, 'a!b', 'a/b', '"quoted"',
            '<script>', "\x80\xff", "a\x01b", 'a%20b', 'a+b', 'a=b', '{x}',
            'a\\b', '#', '~', '*');
    }
    my @pre = map { pick(@PLAIN, @TRACK) . '=1' } 1 .. rnd 4;
    my @post = map { pick(@PLAIN, @TRACK) . '=2' } 1 .. rnd 4;
    return spec('subject', [200], host => 'localhost',
        headers => [[Cookie => join '; ', @pre, "uid=$uid", @post],
            ['X-Country', region_opt_in()]],
        origin => 1,
        x => { id => $ok ? $uid : '', source => 'default',
               purposes => 'necessary' });
}

sub k_gpc_region {
    my ($gh, $gpc) = gpc_headers();
    my $k = rnd 4;
    my ($region, $regime) = $k == 0 ? (pick(@OPT_OUT), 'opt_out')
        : $k == 1 ? (pick(@NOTICE), 'notice')
        : $k == 2 ? (pick(@OPT_IN), 'opt_in')
        : (pick(@BAD_REGION), 'opt_in');
    my @xc = chance(0.1) ? () : (['X-Country', $region]);
    $regime = 'opt_in' unless @xc;
    my $p = $REGIME_P{$regime};
    $p &= ~((1 << 3) | (1 << 5)) if $gpc;
    return spec('gpc-region', [200], host => host_ok(),
        headers => [[Cookie => junk_cookie(rnd 8)], @xc, @$gh],
        origin => 1,
        x => { gpc => $gpc, regime => $regime, purposes => mask_names($p),
               source => 'default' });
}

sub k_args {
    my @names = ('gclid', 'fbclid', 'msclkid', 'utm_source', 'utm_', 'utm_x_y',
        'keep', 'a', 'b', '%67clid', 'GCLID', 'UTM_x', 'gclidx', 'xgclid', '',
        '=', 'q', 'utm', 'fbclid[]');
    my @vals = ('', '=1', '=%ZZ', '=a=b', '=%00', '=%0d%0a', '=' . b64chars(20),
        '=' . hi_bytes(3), '=;gclid=1', '=+%2B', "=\xc3\xa9");
    my @segs = map { pick(@names) . pick(@vals) } 1 .. 1 + rnd 12;
    my $args = join '&', @segs;
    $args = "&$args" if chance(0.1);
    $args .= '&' if chance(0.1);
    my $strip = sub { my $n = (split /=/, $_[0], 2)[0];
        $n =~ /\A(?:gclid|fbclid|msclkid|utm_.*)\z/s };
    my @all = split /&/, $args, -1;
    my @kept = grep { length && !$strip->($_) } @all;
    my $uri = (grep { length && $strip->($_) } @all)
        ? '/a/b' . (@kept ? '?' . join('&', @kept) : '') : "/a/b?$args";
    return spec('args', [200], host => 'localhost', path => "/a/b?$args",
        headers => [['X-Country', pick(@OPT_IN)],
            [Cookie => junk_cookie(rnd 4)]],
        origin => 1, origin_uri => $uri);
}

sub k_collect {
    my $k = rnd 4;
    my ($region, @c, $ok);
    if ($k == 0) { $region = pick(@OPT_OUT); $ok = 1 }
    elsif ($k == 1) {
        my ($tok, $sub, $mask) = valid_token();
        push @c, "consent=$tok";
        $region = pick(@OPT_IN);
        $ok = $mask & (1 << 2);
    } else {
        push @c, map { 'consent=' . forged_token() } 1 .. rnd 3;
        $region = region_opt_in();
        $ok = 0;
    }
    push @c, junk_cookie(1 + rnd 5);
    my ($gh) = gpc_headers();
    return spec('collect', [$ok ? 200 : 204], host => 'localhost',
        path => '/collect/px?v=1&tid=' . b64chars(8) . '&' . b64chars(rnd 30),
        headers => [[Cookie => join '; ', @c], ['X-Country', $region], @$gh],
        origin => $ok, no_cookie => !$ok);
}

sub k_raw {
    my @h = map { [Cookie => junk_cookie(1 + rnd 10)] } 1 .. 1 + rnd 3;
    return spec('raw-upstream', [200], host => host_ok(),
        path => '/raw/' . b64chars(5) . '?gclid=1&x=' . b64chars(3),
        headers => [@h, ['X-Country', region_opt_in()],
            [Consent => 'advertising=?1, forged=?1']],
        raw => 1);
}

# Set-Cookie from upstream, good and broken: a tracker's goes (by name or
# by its domain=), others stay byte for byte and in order
sub junk_set_cookie {
    my $v = junk_pair() . join '', map { pick(';', '; ', ';;', ' ; ')
        . pick('Path=/', 'Domain=', 'Domain=.', 'Domain=..doubleclick.net',
            'Domain=' . hi_bytes(4), 'Domain=DoubleClick.NET', 'Max-Age=-1',
            'Max-Age=' . ('9' x 40), 'Expires=Wed, 21 Oct 2015 07:28:00 GMT',
            'Secure', 'HttpOnly', 'SameSite=' . b64chars(3), 'Partitioned',
            '=', '', 'a' x (1 + rnd 500), ctl_bytes(2), '"',
            'Domain=' . ('a.' x 200) . 'doubleclick.net') } 1 .. rnd 6;
    $v =~ s/\A[ \t]+//;
    $v =~ s/[ \t]+\z//;
    return length $v ? $v : 'x';
}

sub k_upstream_sc {
    my (@sent, @drop, @keep);
    for my $i (1 .. 1 + rnd 4) {
        my $k = rnd 7;
        my $v;
        if ($k == 0) {
            $v = pick(@TRACK) . '=' . b64chars(8) . pick('', '; Path=/',
                '; Path=/; Secure; HttpOnly', '; Max-Age=3600; SameSite=None');
            push @drop, $v;
        } elsif ($k == 1) {
            $v = "zq_k$i=" . b64chars(8) . pick('', '; Path=/', '; HttpOnly',
                '; Domain=notdoubleclick.net', '; Domain=doubleclick.network');
            push @keep, $v;
        } elsif ($k == 2) {
            $v = "zq_d$i=1; Path=/; Domain=" . pick('doubleclick.net',
                '.doubleclick.net', 'ads.doubleclick.net', 'bing.com');
            push @drop, $v;
        } else {
            $v = junk_set_cookie();
        }
        push @sent, $v;
    }
    return spec('upstream-sc', [200], host => host_ok(),
        path => '/sc/' . b64chars(4),
        headers => [[Cookie => junk_cookie(rnd 5)],
            ['X-Country', region_opt_in()],
            map { ["X-SC$_", $sent[$_ - 1]] } 1 .. @sent],
        upstream_sc => \@sent, sc_drop => \@drop, sc_keep => \@keep);
}

sub k_host {
    my @bad = ('a..b', '/x', 'ex ample.com', '', 'a/b.example', "x\x01y");
    if (chance(0.3)) {
        return spec('host', [400], close => 1, host => pick(@bad),
            headers => [[Cookie => '_ga=1']]);
    }
    if (chance(0.1)) {
        return spec('host', [400], close => 1, host => 'a',
            headers => ['Host: b', [Cookie => '_ga=1']]);
    }
    if (chance(0.2)) {     # HTTP/1.0, no Host at all
        return spec('host', [200], close => 0, version => 'HTTP/1.0',
            headers => [[Cookie => '_ga=1; ' . junk_cookie(3)]], origin => 1);
    }
    return spec('host', [200], host => host_ok(),
        headers => [[Cookie => '_ga=1; _fbp=2; ' . junk_cookie(3)],
            ['X-Country', 'FR']], origin => 1);
}

# ---------------------------------------------------------------- API

my @BAD_JSON = (
    # body, status, field, error
    ['', 400, 'body', qr/empty body/],
    ["  \t\r\n", 400, 'body', qr/empty body/],
    ['[]', 400, 'body', qr/must be a JSON object/],
    ['"purposes"', 400, 'body', qr/must be a JSON object/],
    ['null', 400, 'body', qr/must be a JSON object/],
    ['[' x 4000, 400, 'body', qr/must be a JSON object/],
    ['{', 400, 'body', qr/^invalid JSON at byte 1$/],
    ['{"purposes":[', 400, 'body', qr/^invalid JSON at byte 13$/],
    ['{"purposes":["analytics"]', 400, 'body', qr/invalid JSON at byte/],
    ['{"purposes":["analytics",]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],}', 400, 'body', qr/invalid JSON/],
    ["{'purposes':[]}", 400, 'body', qr/invalid JSON/],
    ['{purposes:[]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[]} x', 400, 'body', qr/invalid JSON at byte 16/],
    ['{"purposes":[]}{}', 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[]}\0", 400, 'body', qr/invalid JSON at byte 15/],
    ["{\"purposes\":[\"\xff\"]}", 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[\"\xc0\xaf\"]}", 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[\"\xed\xa0\x80\"]}", 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[\"\xf4\x90\x80\x80\"]}", 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[\"\xe2\x82\"]}", 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[],\"x\":\"\xe0\x80\x80\"}", 400, 'body', qr/invalid JSON/],
    ['{"purposes":["\ud800"]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":["\udc00"]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":["\ud800\u0041"]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"x":"\udbff"}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"x":"\ud83d\ude00"}', 200],
    ['{"purposes":["\x"]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":["\u12"]}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":["\u12G4"]}', 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[\"a\x01\"]}", 400, 'body', qr/invalid JSON/],
    ["{\"purposes\":[\"a\nb\"]}", 400, 'body', qr/invalid JSON/],
    ['{"x":' . ('[' x 40) . (']' x 40) . ',"purposes":[]}', 400, 'body',
        qr/nested too deep/],
    ['{"x":' . ('{"a":' x 40) . '1' . ('}' x 40) . ',"purposes":[]}', 400,
        'body', qr/nested too deep/],
    # 32 levels with the top object: the limit, not past it
    ['{"x":' . ('[' x 31) . (']' x 31) . ',"purposes":[]}', 200],
    ['{"x":' . ('[' x 32) . (']' x 32) . ',"purposes":[]}', 400, 'body',
        qr/^JSON nested too deep$/],
    ['{"x":' . ('[' x 100000), 400, 'body', qr/larger than 16384/],
    ['{"purposes":[],"purposes":[]}', 400, 'purposes', qr/duplicate field/],
    ['{"policy_version":3,"policy_version":3,"purposes":[]}', 400,
        'policy_version', qr/duplicate field/],
    ['{"purposes":"analytics"}', 400, 'purposes', qr/array/],
    ['{"purposes":1}', 400, 'purposes', qr/array/],
    ['{"purposes":null}', 400, 'purposes', qr/array/],
    ['{"purposes":{}}', 400, 'purposes', qr/array/],
    ['{"purposes":true}', 400, 'purposes', qr/array/],
    ['{"purposes":[1]}', 400, 'purposes', qr/array/],
    ['{"purposes":[null]}', 400, 'purposes', qr/array/],
    ['{"purposes":[["analytics"]]}', 400, 'purposes', qr/array/],
    ['{"purposes":[{"analytics":true}]}', 400, 'purposes', qr/array/],
    ['{"purposes":["spying"]}', 400, 'purposes', qr/^unknown purpose "spying"$/],
    ['{"purposes":["analytics","spying"]}', 400, 'purposes', qr/unknown purpose/],
    ['{"purposes":["' . ('a' x 40) . '"]}', 400, 'purposes',
        qr/^unknown purpose "a{31}\.\.\."$/],
    ['{"purposes":["' . ('a' x 3000) . '"]}', 400, 'purposes',
        qr/^unknown purpose "a{31}\.\.\."$/],
    ['{"purposes":["\u0000"]}', 400, 'purposes', qr/^unknown purpose "\?"$/],
    ['{"purposes":["\"\\\\"]}', 400, 'purposes', qr/^unknown purpose "\?\?"$/],
    ["{\"purposes\":[\"\xc3\xa9\"]}", 400, 'purposes', qr/^unknown purpose "\?\?"$/],
    ['{"purposes":[""]}', 400, 'purposes', qr/^unknown purpose ""$/],
    ['{"purposes":["ana\u006cytics"]}', 200],
    ['{"purp\u006fses":["analytics"]}', 200],
    ['{"purposes":["analytics","analytics"]}', 200],
    ['{"purposesX":[],"purposes":[]}', 200],
    ['{"purposes":[],"' . ('k' x 100) . '":1}', 200],
    ['{"purposes":[],"n":1e999999}', 200],
    ['{"purposes":[],"n":-123456789012345678901234567890.5e-10}', 200],
    [" {\n\"purposes\" :\t[ ] } \r\n", 200],
    ["{\"purposes\":[],\"x\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}", 200],
    ['{"purposes":[],"policy_version":"3"}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":3.0}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":-1}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":1e0}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":true}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":null}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":[]}', 400, 'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":' . ('9' x 400) . '}', 400,
        'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":4294967296}', 400, 'policy_version',
        qr/integer/],
    ['{"purposes":[],"policy_version":18446744073709551616}', 400,
        'policy_version', qr/integer/],
    ['{"purposes":[],"policy_version":4294967295}', 400, 'policy_version',
        qr/^newer than the current policy version 3$/],
    ['{"purposes":[],"policy_version":4}', 400, 'policy_version', qr/newer/],
    ['{"purposes":[],"policy_version":1}', 400, 'policy_version',
        qr/^below the re-consent floor 2$/],
    ['{"purposes":[],"policy_version":-0}', 400, 'policy_version', qr/below/],
    ['{"purposes":[],"policy_version":01}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"policy_version":}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"policy_version":+3}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"policy_version":3}', 200],
    ['{"purposes":[],"n":-}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"n":1.}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"n":1e}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"n":.5}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"n":tru}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"n":NaN}', 400, 'body', qr/invalid JSON/],
    ['{"purposes":[],"n":Infinity}', 400, 'body', qr/invalid JSON/],
    ['{"purposes" "analytics"}', 400, 'body', qr/invalid JSON/],
    ['{"policy_version":3}', 400, 'purposes', qr/^missing$/],
    ['{}', 400, 'purposes', qr/^missing$/],
);

my $GOOD_JSON = '{"purposes":["analytics","advertising"],"policy_version":3}';

sub api_common {
    my (%o) = @_;
    my $host = $o{host} // pick('localhost', 'www.shop.example');
    my @h;
    my $src = rnd 4;
    if (($o{method} // 'GET') ne 'GET') {
        push @h, [Origin => "http://$host"] if $src == 0 || $src == 1;
        push @h, ['Sec-Fetch-Site' => pick('same-origin', 'same-site', 'none')]
            if $src == 2;
    }
    my @c;
    push @c, junk_cookie(rnd 6) if chance(0.6);
    push @c, 'consent=' . forged_token() if chance(0.3);
    push @c, 'consent=' . (valid_token())[0] if chance(0.2);
    push @c, 'uid=' . pick('api-' . b64chars(6), 'a b', 'x' x 200)
        if chance(0.2);
    push @h, [Cookie => join '; ', @c] if @c;
    push @h, ['X-Country', pick(@OPT_IN, @OPT_OUT, @NOTICE, @BAD_REGION)]
        if chance(0.8);
    my ($g) = gpc_headers();
    push @h, @$g;
    push @h, ['Expect', '100-continue'] if chance(0.05);
    return ($host, @h);
}

sub k_api_json {
    my ($body, $st, $field, $err);
    my $k = rnd 10;
    if ($k < 6) {
        ($body, $st, $field, $err) = @{ pick(@BAD_JSON) };
    } elsif ($k == 6) {        # every proper prefix is invalid
        $body = substr $GOOD_JSON, 0, rnd length $GOOD_JSON;
        ($st, $field, $err) = (400, 'body',
            length $body ? qr/invalid JSON at byte \d+/ : qr/empty body/);
    } elsif ($k == 7) {        # garbage that is not an object
        $body = pick('x', '1', '-', ']', "\x80", "\x01", 'n', '"')
            . join '', map { chr rnd 256 } 1 .. rnd 300;
        ($st, $field, $err) = (400, 'body', qr/must be a JSON object/);
    } else {                   # one byte changed or inserted: anything
        $body = $GOOD_JSON;
        my $at = rnd length $body;
        if (chance(0.5)) { substr($body, $at, 1) = chr rnd 256 }
        else { substr($body, $at, 0) = chr rnd 256 }
        $st = undef;
    }
    my ($host, @h) = api_common(method => 'POST');
    return spec('api-json', defined $st ? [$st] : [200, 400],
        method => 'POST', path => '/consent', host => $host,
        headers => [@h, ['Content-Type', pick('application/json',
            'application/json; charset=utf-8', 'APPLICATION/JSON',
            'application/json ;x=1', 'application/json;')]],
        body => $body, api => 1, field => $field, error => $err,
        write => 1);
}

my @FORMS = (
    ['purposes=analytics%2Cadvertising&policy_version=3', 200],
    ['purposes=analytics&purposes=advertising', 200],
    ['purposes=', 200],
    ['purposes=+,+,', 200],
    ['purposes=&policy_version=3', 200],
    ['purposes=analytics&x=' . ('y' x 3000), 200],
    ['purposes=spying', 400, 'purposes', qr/^unknown purpose "spying"$/],
    ['purposes=analytics,spying', 400, 'purposes', qr/unknown purpose/],
    ['purposes=%ZZ', 400, 'body', qr/bad percent-encoding/],
    ['purposes=%', 400, 'body', qr/bad percent-encoding/],
    ['purposes=%4', 400, 'body', qr/bad percent-encoding/],
    ['%zz=1&purposes=', 400, 'body', qr/bad percent-encoding/],
    ['purposes=%00', 400, 'purposes', qr/^unknown purpose "\?"$/],
    ['purposes=%C3%A9', 400, 'purposes', qr/^unknown purpose "\?\?"$/],
    ['purposes=' . ('%41' x 1000), 400, 'purposes',
        qr/^unknown purpose "A{31}\.\.\."$/],
    ['', 400, 'purposes', qr/^missing$/],
    ['&&&=&', 400, 'purposes', qr/^missing$/],
    ['policy_version=3', 400, 'purposes', qr/^missing$/],
    ['purposes=&policy_version=abc', 400, 'policy_version', qr/integer/],
    ['purposes=&policy_version=', 400, 'policy_version', qr/integer/],
    ['purposes=&policy_version=99999999999', 400, 'policy_version',
        qr/integer/],
    ['purposes=&policy_version=-3', 400, 'policy_version', qr/integer/],
    ['purposes=&policy_version=4294967295', 400, 'policy_version', qr/newer/],
    ['purposes=&policy_version=1', 400, 'policy_version', qr/below/],
    ['purposes=&policy_version=3&policy_version=3', 400, 'policy_version',
        qr/duplicate field/],
    ['purposes=' . ('a,' x 8300), 400, 'body', qr/larger than 16384/],
);

sub k_api_form {
    my ($body, $st, $field, $err) = @{ pick(@FORMS) };
    my ($host, @h) = api_common(method => 'POST');
    return spec('api-form', [$st], method => 'POST', path => '/consent',
        host => $host,
        headers => [@h, ['Content-Type', pick(
            'application/x-www-form-urlencoded',
            'application/x-www-form-urlencoded; charset=UTF-8',
            'Application/X-WWW-Form-Urlencoded')]],
        body => $body, api => 1, field => $field, error => $err, write => 1);
}

sub k_api_type {
    my @types = (['text/plain', qr/use application\/json or/],
        [undef, qr/^missing: use application\/json$/], ['', qr/use application/],
        ['application/jsonx', qr/use/], ['application/json-patch+json', qr/use/],
        ['multipart/form-data; boundary=x', qr/use/], ["application/json\x01",
        qr/use/], ['application/x-www-form-urlencodedx', qr/use/],
        ["\x80\xff", qr/use/], ['a' x 3000, qr/use/], ['json', qr/use/]);
    my ($type, $err) = @{ pick(@types) };
    my ($host, @h) = api_common(method => 'POST');
    push @h, ['Content-Type', $type] if defined $type;
    return spec('api-type', [400], method => 'POST', path => '/consent',
        host => $host, headers => \@h, body => pick($GOOD_JSON, 'purposes='),
        api => 1, field => 'Content-Type', error => $err);
}

sub chunked {
    my ($body) = @_;
    my ($out, $p) = ('', 0);
    while ($p < length $body) {
        my $n = 1 + rnd(chance(0.5) ? 4 : 600);
        $n = length($body) - $p if $p + $n > length $body;
        my $hex = sprintf chance(0.3) ? '%X' : '%x', $n;
        $hex = ('0' x (1 + rnd 3)) . $hex if chance(0.2);
        $out .= $hex . (chance(0.1) ? ';ext=' . b64chars(3) : '') . "\r\n"
            . substr($body, $p, $n) . "\r\n";
        $p += $n;
    }
    return $out . '0' . "\r\n" . (chance(0.1) ? "X-Trailer: 1\r\n" : '')
        . "\r\n";
}

sub k_api_chunked {
    my ($host, @h) = api_common(method => 'POST');
    push @h, ['Content-Type', 'application/json'];
    my $k = rnd 5;
    if ($k == 0) {
        return spec('api-chunked', [200], method => 'POST', path => '/consent',
            host => $host, headers => \@h, chunks => chunked($GOOD_JSON),
            api => 1, write => 1);
    }
    if ($k == 1) {
        my ($body, $st, $field, $err) = @{ pick(@BAD_JSON) };
        return spec('api-chunked', [$st], method => 'POST',
            path => '/consent', host => $host, headers => \@h,
            chunks => chunked($body), api => 1, field => $field,
            error => $err, write => 1);
    }
    if ($k == 2) {
        return spec('api-chunked', [400], method => 'POST', path => '/consent',
            host => $host, headers => \@h,
            chunks => chunked('{"purposes":[],"x":"' . ('z' x (16400 + rnd 4000))
                . '"}'),
            api => 1, field => 'body', error => qr/^larger than 16384 bytes$/);
    }
    # broken framing: nginx answers 400 itself and closes
    return spec('api-chunked', [400], method => 'POST', path => '/consent',
        host => $host, headers => \@h, close => 1,
        chunks => pick("zz\r\n{}\r\n0\r\n\r\n", "5\r\nabcdefgh\r\n0\r\n\r\n",
            "-1\r\n\r\n", "fffffffffffffffffff\r\n", "\r\n",
            "2\r\n{}0\r\n\r\n", "0x2\r\n{}\r\n0\r\n\r\n"));
}

my @ORIGINS = (
    # Origin, Sec-Fetch-Site, allowed
    ['https://evil.example', undef, 0], ['null', undef, 0],
    ['http://HOST.evil', undef, 0], ['http://HOST:80', undef, 0],
    ['http://HOST/', undef, 0], ['HOST', undef, 0], ['', undef, 0],
    ['http://' . ('a' x 3000), undef, 0], ["http://HO\x80ST", undef, 0],
    ['http://evil.example#http://HOST', undef, 0],
    ['HTTP://HOST', undef, 1],
    [undef, 'cross-site', 0], [undef, 'same-originx', 0], [undef, '', 0],
    [undef, "\x80", 0], [undef, 'SAME-ORIGIN', 1], [undef, 'none', 1],
    ['http://HOST', 'cross-site', 0], ['https://evil.example', 'same-origin', 1],
);

sub k_api_origin {
    my ($o, $sfs, $allowed) = @{ pick(@ORIGINS) };
    my $host = pick('localhost', 'www.shop.example');
    my @h;
    if (defined $o) { (my $v = $o) =~ s/HOST/$host/g; push @h, [Origin => $v] }
    push @h, ['Sec-Fetch-Site' => $sfs] if defined $sfs;
    push @h, [Cookie => junk_cookie(rnd 5)] if chance(0.5);
    push @h, ['X-Country', pick(@OPT_IN)];
    my $del = chance(0.3);
    return spec('api-origin', [$allowed ? 200 : 403],
        method => $del ? 'DELETE' : 'POST', path => '/consent', host => $host,
        headers => [@h, $del ? () : ['Content-Type', 'application/json']],
        ($del ? () : (body => '{"purposes":["functional"]}')),
        api => 1, write => 1,
        ($allowed ? () : (field => 'Origin',
            error => qr/^cross-site writes are refused$/)));
}

sub k_api_method {
    my $k = rnd 6;
    my ($host, @h) = api_common(method => 'POST');
    if ($k <= 1) {
        my $m = pick(qw(PUT PATCH OPTIONS PROPFIND FOO MKCOL COPY MOVE LOCK
            UNLOCK X-Y_Z));
        my %b = chance(0.5) ? () : chance(0.5)
            ? (body => '{"purposes":[]}') : (chunks => chunked('{}'));
        return spec('api-method', [405], method => $m, path => '/consent',
            host => $host, headers => \@h, %b, api => 1, field => 'method',
            error => qr/^use GET, POST or DELETE$/);
    }
    if ($k == 2) {
        return spec('api-method', [200], method => 'HEAD', path => '/consent',
            host => $host, headers => \@h, api => 1);
    }
    if ($k == 3) {
        return spec('api-method', [200], method => 'GET',
            path => '/consent?' . b64chars(rnd 20), host => $host,
            headers => \@h, body => 'x' x rnd 3000, api => 1);
    }
    if ($k == 4) {
        return spec('api-method', [200], method => 'DELETE', path => '/consent',
            host => $host,
            headers => [@h, [Cookie => join '; ', map { pick(@TRACK) . '=1' }
                1 .. 1 + rnd 20]],
            (chance(0.3) ? (body => 'junk') : ()), api => 1, write => 1);
    }
    # nginx itself: TRACE is refused, lower-case methods are not methods
    return pick(
        spec('api-method', [405], method => 'TRACE', path => '/consent',
            host => $host, close => 1),
        spec('api-method', [400], method => 'post', path => '/consent',
            host => $host, close => 1, body => '{}'));
}

sub k_api_get {
    my @h;
    my $region = chance(0.8) ? pick(@OPT_IN, @OPT_OUT, @NOTICE, @BAD_REGION)
        : undef;
    push @h, ['X-Country', $region] if defined $region;
    push @h, [Cookie => junk_cookie(rnd 10) . '; consent='
        . (chance(0.5) ? forged_token() : (valid_token())[0])] if chance(0.7);
    my ($g) = gpc_headers();
    return spec('api-get', [200], path => '/consent' . pick('', '?x=1', '?'),
        host => pick('localhost', 'www.shop.example'),
        headers => [@h, @$g], api => 1,
        region => defined $region && length $region ? $region : undef);
}

sub k_api_valid {
    my $mask = 1 | rnd 64;
    my @p = grep { $mask & (1 << $_) } 1 .. 5;
    my ($host, @h) = ('localhost', [Origin => 'http://localhost'],
        ['X-Country' => pick(@OPT_IN, @OPT_OUT)]);
    my $uid;
    if (chance(0.3)) {
        $uid = "api-$CLIENT-" . ++$SUBSEQ;
        push @h, [Cookie => "uid=$uid; _ga=1; " . junk_cookie(2)];
    }
    my $form = chance(0.3);
    my $body = $form
        ? 'purposes=' . join(',', map { $PURPOSES[$_] } @p) . '&policy_version=3'
        : '{"purposes":[' . join(',', map { "\"$PURPOSES[$_]\"" } @p)
            . '],"policy_version":3}';
    return spec('api-valid', [200], method => 'POST', path => '/consent',
        host => $host,
        headers => [@h, ['Content-Type', $form
            ? 'application/x-www-form-urlencoded' : 'application/json']],
        body => $body, api => 1, write => 1,
        json_200 => { purposes => [map { $PURPOSES[$_] } 0, @p],
                      (defined $uid ? (subject => $uid) : ()),
                      mask => sprintf('%08x', $mask) });
}

sub k_api_bigbody {
    my ($host, @h) = api_common(method => 'POST');
    push @h, ['Content-Type', 'application/json'];
    my $k = rnd 3;
    if ($k == 0) {     # over client_max_body_size: nginx's 413
        return spec('api-bigbody', [413], method => 'POST', path => '/consent',
            host => $host, headers => \@h, close => 1, body => '{"purp',
            cl => 1_048_577 + rnd 1e9);
    }
    if ($k == 1) {
        my $body = '{"purposes":[]' . (' ' x (16384 - 15)) . '}';
        return spec('api-bigbody', [200], method => 'POST',
            path => '/consent', host => $host, headers => \@h,
            body => $body, api => 1, write => 1);
    }
    return spec('api-bigbody', [400], method => 'POST', path => '/consent',
        host => $host, headers => \@h,
        body => '{"purposes":[],"x":"' . ('a' x (16364 + rnd 5000)) . '"}',
        api => 1, field => 'body', error => qr/^larger than 16384 bytes$/);
}

# 2 to 5 requests written at once on a fresh connection, answered in order
sub k_pipelined {
    my $base = $REQ_ID;
    my @sub;
    local $NO_CLOSE = 1;
    for my $i (1 .. 2 + rnd 4) {
        $REQ_ID = "$base-p$i";
        push @sub, pick(\&k_strip, \&k_cookie_junk, \&k_forged, \&k_subject,
            \&k_valid_token, \&k_api_get, \&k_api_json, \&k_api_form,
            \&k_api_valid, \&k_args, \&k_upstream_sc)->();
    }
    $REQ_ID = $base;
    return { kind => 'pipelined', pipeline => \@sub,
        req => join('', map { $_->{req} } @sub) };
}

my @KINDS = (
    [18, \&k_cookie_junk], [7, \&k_cookie_huge], [4, \&k_cookie_many],
    [4, \&k_cookie_lines], [3, \&k_cookie_ctl], [2, \&k_too_big],
    [6, \&k_strip], [10, \&k_forged], [3, \&k_valid_token],
    [1, \&k_stale_token], [5, \&k_subject], [6, \&k_gpc_region],
    [3, \&k_args], [3, \&k_collect], [2, \&k_raw], [2, \&k_host],
    [4, \&k_api_get], [8, \&k_api_json], [3, \&k_api_form],
    [2, \&k_api_type], [3, \&k_api_chunked], [3, \&k_api_origin],
    [3, \&k_api_method], [2, \&k_api_valid], [2, \&k_api_bigbody],
    [3, \&k_pipelined], [4, \&k_upstream_sc],
);
my $WSUM = 0;
$WSUM += $_->[0] for @KINDS;

sub make_request {
    my ($c, $seq) = @_;
    $REQ_ID = "m$c-$seq";
    my $r = rand $WSUM;
    for my $k (@KINDS) {
        return $k->[1]->() if ($r -= $k->[0]) < 0;
    }
    return $KINDS[-1][1]->();
}

# ================================================================ client

sub dechunk {
    my ($b) = @_;
    my ($out, $used) = ('', 0);
    while (1) {
        return (0) unless substr($b, $used) =~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/;
        my $n = hex $1;
        $used += length $&;
        if ($n == 0) {
            return (0) unless substr($b, $used) =~ /\A((?:[^\r\n]+\r\n)*)\r\n/;
            return (1, $out, $used + length $&);
        }
        return (0) if length($b) < $used + $n + 2;
        $out .= substr $b, $used, $n;
        $used += $n + 2;
    }
}

# 1 once the answer is whole (or can be no more)
sub parse_response {
    my ($buf, $r, $head_req, $eof) = @_;
    while (!defined $r->{head}) {
        my $i = index $$buf, "\r\n\r\n";
        return 0 if $i < 0;
        my $head = substr $$buf, 0, $i;
        my ($st) = $head =~ m{\AHTTP/1\.[01] (\d{3})};
        $st //= 0;
        substr($$buf, 0, $i + 4) = '';
        if ($st >= 100 && $st < 200) {
            push @{ $r->{interim} }, $head;
            next;
        }
        $r->{head} = $head;
        $r->{status} = $st;
        $r->{close} = $head =~ /^Connection:[ \t]*close\r?$/mi ? 1 : 0;
        if ($head_req || $st == 204 || $st == 304) {
            $r->{need} = 0;
        } elsif ($head =~ /^Transfer-Encoding:[ \t]*chunked\r?$/mi) {
            $r->{chunked} = 1;
        } elsif ($head =~ /^Content-Length:[ \t]*(\d+)\r?$/mi) {
            $r->{need} = $1;
        } else {
            $r->{until_close} = 1;
            $r->{close} = 1;
        }
    }
    if ($r->{chunked}) {
        my ($ok, $body, $used) = dechunk($$buf);
        return 0 unless $ok;
        @$r{qw(body consumed complete)} = ($body, $used, 1);
        return 1;
    }
    if ($r->{until_close}) {
        return 0 unless $eof;
        @$r{qw(body consumed complete)} = ($$buf, length $$buf, 1);
        return 1;
    }
    return 0 if length $$buf < $r->{need};
    @$r{qw(body consumed complete)} = (substr($$buf, 0, $r->{need}),
        $r->{need}, 1);
    return 1;
}

# sends req (one request, or several pipelined: heads says which are HEAD
# requests), reads one answer per request; returns them, the last one with
# unsent (bytes never written) and extra (bytes after it)
sub exchange {
    my ($s, $req, @heads) = @_;
    my @done;
    my $new = sub { { status => 0, complete => 0, got => 0, body => '' } };
    my $r = $new->();
    my $fn = fileno $s;
    my ($off, $buf, $eof, $got) = (0, '', 0, 0);
    my $deadline = time + 20 * time_scale();
    while (1) {
        if (parse_response(\$buf, $r, $heads[@done], $eof)) {
            substr($buf, 0, $r->{consumed}) = '';
            push @done, $r;
            last if @done == @heads || $r->{close};
            $r = $new->();
            next;
        }
        if ($eof) {
            $r->{error} //= $r->{got} ? 'closed mid-answer' : 'closed';
            last;
        }
        my $left = $deadline - time;
        if ($left <= 0) {
            $r->{error} = 'timeout';
            last;
        }
        my ($rin, $win) = ('', '');
        vec($rin, $fn, 1) = 1;
        vec($win, $fn, 1) = 1 if $off < length $req;
        my $n = select(my $rout = $rin, my $wout = $win, undef, $left);
        next if $n <= 0;
        if ($off < length $req && vec($wout, $fn, 1)) {
            my $w = syswrite $s, $req, length($req) - $off, $off;
            if (defined $w) {
                $off += $w;
            } elsif (!$!{EAGAIN} && !$!{EWOULDBLOCK} && !$!{EINTR}) {
                $r->{write_error} = "$!";
                $off = length $req;    # nothing more to send: read what is said
            }
        }
        if (vec($rout, $fn, 1)) {
            my $k = sysread $s, $buf, 65536, length $buf;
            if (!defined $k) {
                next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                $r->{error} = "read: $!";
                $eof = 1;
            } elsif ($k == 0) {
                $eof = 1;
            } else {
                $r->{got} += $k;
            }
        }
    }
    push @done, $r unless @done && $done[-1] == $r;
    push @done, { status => 0, complete => 0, got => 0,
        error => 'no answer: the connection ended before it' }
        while @done < @heads;
    $done[-1]{unsent} = length($req) - $off;
    $done[-1]{extra} = length $buf if $done[-1]{complete};
    return @done;
}

sub connect_front {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->port, Proto => 'tcp', Timeout => 5 * time_scale())
        or return undef;
    binmode $s;
    $s->blocking(0);
    return $s;
}

# ================================================================ checks

my %ALLOWED_HEADER = map { lc($_) => 1 } qw(Server Date Content-Type
    Content-Length Connection Transfer-Encoding Set-Cookie Permissions-Policy
    Cache-Control Allow X-C-Purposes X-C-Id X-C-Source X-C-Region X-C-Regime
    X-C-Gpc X-C-Stripped X-C-Necessary X-C-Functional X-C-Analytics
    X-C-Advertising X-C-Personalization X-C-Sharing);
my $TOKEN_RE = qr/[!#\$%&'*+\-.^_`|~0-9A-Za-z]+/;
my $CONSENT_HDR_RE = qr/\Afunctional=\?[01], analytics=\?[01], advertising=\?[01], personalization=\?[01], sharing=\?[01], gpc=\?[01], v=\d+\z/;
my $JSON = JSON::PP->new->utf8;

# a response head: (headers as [name, value], problems)
sub head_lines {
    my ($head, $what) = @_;
    my (@h, @p);
    push @p, "$what: NUL byte in the head" if $head =~ /\0/;
    my @lines = split /\r\n/, $head, -1;
    my $sl = shift @lines;
    push @p, "$what: bad status line " . esc($sl)
        unless $sl =~ m{\AHTTP/1\.[01] \d{3} [\x20-\x7e]*\z};
    for my $l (@lines) {
        if ($l =~ /[\r\n\0]/) {
            push @p, "$what: bare CR/LF/NUL in header line " . esc(substr $l, 0, 200);
            next;
        }
        if ($l !~ /\A($TOKEN_RE):[ \t]*(.*?)[ \t]*\z/s) {
            push @p, "$what: malformed header line " . esc(substr $l, 0, 200);
            next;
        }
        push @h, [$1, $2];
    }
    return (\@h, @p);
}

sub check_set_cookie {
    my ($v) = @_;
    return 'Set-Cookie with bytes outside visible ASCII: ' . esc($v)
        if $v =~ /[^\x20-\x7e]/;
    if ($v =~ /\Aconsent=/) {
        return 'malformed consent cookie: ' . esc($v)
            unless $v =~ /\Aconsent=(1\.k1\.[A-Za-z0-9._:\@-]{1,64}\.[0-9a-f]{8}\.\d+\.\d+)\.([A-Za-z0-9_-]{43}); Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly\z/;
        return 'consent cookie signature does not verify: ' . esc($v)
            unless b64url(hmac_sha256($1, $KEY{k1})) eq $2;
        return;
    }
    return 'Set-Cookie neither a consent cookie nor an expiry: ' . esc($v)
        unless $v =~ /\A([^\x00-\x20\x7f-\xff;=",\\]+)=; Max-Age=0; Path=\/[^\x00-\x20\x7f-\xff;,"\\?#]*(?:; Domain=([^\x00-\x20\x7f-\xff;]+))?\z/;
    my $d = $2;
    return 'expiry with a bad Domain: ' . esc($v)
        if defined $d && ($d !~ /\A[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+\z/
            || $d =~ /\A[\d.]+\z/);
    return;
}

sub check {
    my ($q, @r) = @_;
    return check_one($q, $r[0]) unless $q->{pipeline};
    my @p;
    for my $i (0 .. $#r) {
        my $sq = $q->{pipeline}[$i];
        local $REQ_ID = $sq->{id};
        push @p, map { s/\A(\w+): /$1: [pipelined #${\($i + 1)} $sq->{kind}] /r }
            check_one($sq, $r[$i]);
    }
    return @p;
}

sub check_one {
    my ($q, $r) = @_;
    unless ($r->{complete}) {
        return 'answer: none complete (' . ($r->{error} // '?') . ", got "
            . "$r->{got} bytes, status $r->{status}"
            . ($r->{write_error} ? ", write: $r->{write_error}" : '') . ')';
    }
    my @p;
    push @p, "status: $r->{status}, expected " . join('|', @{ $q->{expect} })
        unless grep { $_ == $r->{status} } @{ $q->{expect} };
    push @p, "answer: $r->{extra} bytes after it" if $r->{extra};

    my $h;
    for my $head (@{ $r->{interim} || [] }, $r->{head}) {
        my ($hs, @hp) = head_lines($head, 'head');
        push @p, @hp;
        $h = $hs;
    }
    my (%one, %n);
    for (@$h) {
        my $k = lc $_->[0];
        $n{$k}++;
        $one{$k} //= $_->[1];
        push @p, "head: unexpected header $_->[0]" unless $ALLOWED_HEADER{$k};
    }
    push @p, map { "head: $_ sent $n{$_} times" }
        grep { $n{$_} > 1 && $_ ne 'set-cookie' } sort keys %n;
    my @sc = map { $_->[1] } grep { lc $_->[0] eq 'set-cookie' } @$h;
    my %up = map { $_ => 1 } @{ $q->{upstream_sc} || [] };
    push @p, map { "cookie: $_" } grep { defined }
        map { $up{$_} ? undef : check_set_cookie($_) } @sc;
    push @p, 'head: Permissions-Policy ' . esc($one{'permissions-policy'})
        if defined $one{'permissions-policy'} && $one{'permissions-policy'} ne $PP;
    push @p, 'head: Cache-Control ' . esc($one{'cache-control'})
        if defined $one{'cache-control'} && $one{'cache-control'} ne 'no-store';
    push @p, 'head: Allow ' . esc($one{allow})
        if defined $one{allow} && $one{allow} ne 'GET, HEAD, POST, DELETE';
    return @p if @p && $p[0] =~ /^status/;
    # the module shows stripped names as visible ASCII, '?' for the rest
    push @p, 'head: X-C-Stripped ' . esc($one{'x-c-stripped'})
        . ' has bytes outside visible ASCII'
        if defined $one{'x-c-stripped'} && $one{'x-c-stripped'} =~ /[^\x21-\x7e]/;
    for my $k (qw(x-c-id x-c-region)) {
        push @p, "note: $k carries control bytes"
            if defined $one{$k} && $one{$k} =~ /[\x00-\x08\x0b-\x1f\x7f]/;
    }

    my $st = $r->{status};
    my $body = $r->{body};

    push @p, 'cookie: Set-Cookie on an answer that must carry none'
        if @sc && ($q->{no_cookie} || ($q->{api} && $st != 200)
            || $st == 204);
    push @p, 'answer: a body on a 204' if $st == 204 && length $body;

    if ($q->{origin} && $st == 200) {
        my %o;
        $o{$1} = $2 while $body =~ /^(\w+)=\[(.*)\]$/mg;
        push @p, 'origin: answer is not the origin\'s echo of this request'
            . ' (req=' . esc($o{req} // '-') . ")"
            unless ($o{req} // '') eq $REQ_ID;
        push @p, 'origin: Consent header sent upstream: ' . esc($o{consent} // '-')
            unless ($o{consent} // '') =~ $CONSENT_HDR_RE;
        push @p, 'origin: cookie ' . esc($o{cookie} // '-') . ' expected '
            . esc($q->{origin_cookie})
            if defined $q->{origin_cookie} && ($o{cookie} // '') ne $q->{origin_cookie};
        push @p, 'origin: uri ' . esc($o{uri} // '-') . ' expected '
            . esc($q->{origin_uri})
            if defined $q->{origin_uri} && ($o{uri} // '') ne $q->{origin_uri};
    }
    if ($q->{x} && $st == 200) {
        for my $k (sort keys %{ $q->{x} }) {
            my $got = $one{ 'x-c-' . $k } // '';
            push @p, "decision: X-C-\u$k " . esc($got) . ', expected '
                . esc($q->{x}{$k}) if $got ne $q->{x}{$k};
        }
    }
    if ($q->{sc} && $st == 200) {
        my $got = join ' | ', @sc;
        my $want = join ' | ', @{ $q->{sc} };
        push @p, 'cookie: expiries ' . esc(substr $got, 0, 300) . ' expected '
            . esc(substr $want, 0, 300) if $got ne $want;
    }
    if ($q->{upstream_sc} && $st == 200) {
        my %in = map { $_ => 1 } @sc;
        push @p, map { 'cookie: a tracker\'s Set-Cookie passed: ' . esc($_) }
            grep { $in{$_} } @{ $q->{sc_drop} };
        push @p, map { 'cookie: a Set-Cookie to keep was dropped: ' . esc($_) }
            grep { !$in{$_} } @{ $q->{sc_keep} };
        my @got = grep { $up{$_} } @sc;
        my @want = grep { $in{$_} } @{ $q->{upstream_sc} };
        push @p, 'cookie: upstream Set-Cookie headers reordered'
            unless join("\0", @got) eq join("\0", @want);
    }
    if ($q->{raw} && $st == 200) {
        my ($up) = $body =~ /\A(.*?)\r\n\r\n\z/s;
        if (!defined $up) {
            push @p, 'upstream: head not CRLF-terminated: '
                . esc(substr $body, 0, 200);
        } else {
            my ($uh, @up) = head_lines("HTTP/1.0 200 x\r\n"
                . ($up =~ s/\A[^\r\n]*\r\n//r), 'upstream');
            push @p, @up;
            push @p, 'upstream: request line ' . esc($up =~ /\A([^\r\n]*)/)
                unless $up =~ m{\AGET /raw/[^ ]* HTTP/1\.[01]\r\n};
            my @consent = map { $_->[1] } grep { lc $_->[0] eq 'consent' } @$uh;
            push @p, 'upstream: Consent ' . esc(join ' | ', @consent)
                unless @consent == 1 && $consent[0] =~ $CONSENT_HDR_RE;
            push @p, 'upstream: not this request'
                unless grep { lc $_->[0] eq 'x-req' && $_->[1] eq $REQ_ID } @$uh;
            push @p, 'upstream: gclid passed on' if $up =~ /[?&]gclid=/;
        }
    }
    if ($q->{api} && !$q->{head}) {
        my $ct = $one{'content-type'} // '';
        push @p, "api: Content-Type $ct" unless $ct eq 'application/json';
        push @p, 'api: no Cache-Control: no-store'
            unless ($one{'cache-control'} // '') eq 'no-store';
        my $d = eval { $JSON->decode($body) };
        if (ref $d ne 'HASH') {
            push @p, 'api: not a JSON object: ' . esc(substr $body, 0, 200);
        } elsif ($st == 200) {
            push @p, 'api: purposes ' . esc(JSON::PP->new->encode([$d->{purposes}]))
                unless ref $d->{purposes} eq 'ARRAY' && @{ $d->{purposes} }
                    && $d->{purposes}[0] eq 'necessary';
            push @p, 'api: available'
                unless join(',', @{ $d->{available} || [] }) eq join(',', @PURPOSES);
            push @p, 'api: current_policy_version'
                unless ($d->{current_policy_version} // '') eq '3';
            push @p, 'api: region ' . esc($d->{region} // 'null') . ', sent '
                . esc($q->{region})
                if defined $q->{region} && ($d->{region} // '') ne $q->{region};
            if ($q->{write}) {
                my @cc = grep { /\Aconsent=/ } @sc;
                push @p, 'api: a write answered 200 with ' . @cc
                    . ' consent cookies' unless @cc == 1;
                push @p, 'api: a write not from redis: ' . esc($d->{source} // '')
                    unless ($d->{source} // '') eq 'redis';
                push @p, 'api: subject ' . esc($d->{subject} // 'null')
                    unless ($d->{subject} // '') =~ /\A[A-Za-z0-9._:\@-]{1,128}\z/;
            }
            if (my $w = $q->{json_200}) {
                my $got = join ',', @{ $d->{purposes} || [] };
                push @p, "api: purposes $got, expected " . join(',', @{ $w->{purposes} })
                    if $got ne join(',', @{ $w->{purposes} });
                push @p, 'api: subject ' . esc($d->{subject} // 'null')
                    . " expected $w->{subject}"
                    if defined $w->{subject} && ($d->{subject} // '') ne $w->{subject};
                my ($m) = map { /\Aconsent=1\.k1\.[^.]+\.([0-9a-f]{8})\./ } @sc;
                push @p, 'api: cookie mask ' . ($m // '-') . " expected $w->{mask}"
                    if ($m // '') ne $w->{mask};
            }
        } else {
            push @p, 'api: error not a string'
                unless defined $d->{error} && !ref $d->{error} && length $d->{error};
            my $f = $d->{field} // '';
            if (defined $q->{field}) {
                push @p, "api: field $f, expected $q->{field}" if $f ne $q->{field};
            } elsif ($f !~ /\A(?:body|purposes|policy_version)\z/) {
                push @p, "api: field $f";
            }
            push @p, 'api: error ' . esc($d->{error} // '') . " !~ $q->{error}"
                if $q->{error} && ($d->{error} // '') !~ $q->{error};
        }
    }
    if ($q->{head} && length $body) {
        push @p, 'answer: a body on HEAD';
    }
    return @p;
}

# ================================================================ run

sub run_client {
    my ($c, $file) = @_;
    $CLIENT = $c;
    srand($SEED + $c);
    $SIG{PIPE} = 'IGNORE';
    open my $out, '>', $file or die "$file: $!";
    $out->autoflush(1);
    my ($s, $used, $shown) = (undef, 0, 0);
    for my $seq (1 .. $PER_CLIENT) {
        my $q = make_request($c, $seq);
        my @heads = $q->{pipeline} ? map { $_->{head} } @{ $q->{pipeline} }
            : ($q->{head});
        if ($q->{pipeline} && $s) {       # a fresh connection for a pipeline
            close $s;
            undef $s;
        }
        my (@r, $retried);
        $retried = 0;
        my $t0 = time;
        for my $try (1, 2) {
            unless ($s) {
                $s = connect_front();
                $used = 0;
                unless ($s) {
                    @r = ({ status => 0, complete => 0, got => 0,
                        error => "connect: $!" }) x @heads;
                    last;
                }
            }
            my $reused = $used;
            $used = 1;
            @r = exchange($s, $q->{req}, @heads);
            if (grep({ !$_->{complete} || $_->{close} } @r) || $r[-1]{unsent}) {
                close $s;
                undef $s;
            }
            # a keep-alive connection the server closed while idle
            last if $r[0]{complete} || !$reused || $r[0]{got} || $try == 2;
            $retried = 1;
        }
        my $r = $r[-1];
        my @p = check($q, @r);
        my $dump = '';
        if (@p && $shown++ < 10) {
            $dump = length $q->{req} > 1500
                ? substr($q->{req}, 0, 1000) . '...(' . length($q->{req})
                    . ' bytes)...' . substr($q->{req}, -300)
                : $q->{req};
            $dump = esc($dump);
        }
        print $out join("\t", $seq, $q->{kind},
            join(',', map { $_->{status} } @r),
            $r->{complete} ? 1 : 0, $retried, sprintf('%.4f', time - $t0),
            esc(join ' || ', @p), $dump), "\n";
    }
    close $s if $s;
    close $out;
}

# ---------------------------------------------------------------- the checker

# the checks must be able to fail: fabricated bad answers are caught
{
    local $REQ_ID = 'self-test';
    my $q = { kind => 'self', expect => [200], origin => 1 };
    my $ok_head = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain"
        . "\r\nContent-Length: 10";
    my $body = "req=[self-test]\nconsent=[functional=?0, analytics=?0, "
        . "advertising=?0, personalization=?0, sharing=?0, gpc=?0, v=0]\n";
    my $resp = sub { { complete => 1, status => 200, head => $_[0],
        body => $_[1] // $body, got => 1 } };
    is_deeply([check_one($q, $resp->($ok_head))], [],
        'checker: a clean answer passes');
    for my $bad (
        ["$ok_head\r\nSet-Cookie: a=1\nX: 2", qr/^head: bare CR/,
            'a bare LF inside a header line'],
        ["$ok_head\r\nX-C-Region: a\0b", qr/^head: NUL/, 'a NUL byte'],
        ["$ok_head\r\nX-C-Region: a\rb", qr/^head: bare CR/, 'a bare CR'],
        ["$ok_head\r\nX-Evil: injected", qr/^head: unexpected header X-Evil/,
            'a header nobody writes (an injection)'],
        ["$ok_head\r\nSet-Cookie: _ga=\x01; Max-Age=0; Path=/",
            qr/^cookie: Set-Cookie with bytes outside/, 'a control byte in Set-Cookie'],
        ["$ok_head\r\nSet-Cookie: consent=1.k1.abc.00000005.3.1700000000."
            . ('A' x 43) . '; Path=/; Max-Age=1; SameSite=Lax; HttpOnly',
            qr/^cookie: consent cookie signature does not verify/,
            'a consent cookie that does not verify'],
        ["$ok_head\r\nSet-Cookie: _ga=; Max-Age=0; Path=/; Domain=127.0.0.1",
            qr/^cookie: expiry with a bad Domain/, 'an expiry for an IP'],
        ["$ok_head\r\nAllow: GET", qr/^head: Allow/, 'a wrong Allow'],
    ) {
        my @p = check_one($q, $resp->($bad->[0]));
        ok(scalar(grep { $_ =~ $bad->[1] } @p), "checker: catches $bad->[2]")
            or diag explain \@p;
    }
    # an upstream's Set-Cookie passes as it was sent, and only so
    my $uq = { %$q, upstream_sc => ["zq=\x01\x80; Path=/", '_ga=1'],
        sc_drop => ['_ga=1'], sc_keep => ["zq=\x01\x80; Path=/"] };
    is_deeply([check_one($uq, $resp->("$ok_head\r\nSet-Cookie: zq=\x01\x80; Path=/"))],
        [], 'checker: an upstream Set-Cookie passed on byte for byte is fine');
    my @p = check_one($uq, $resp->("$ok_head\r\nSet-Cookie: zq=\x01\x81; Path=/"
        . "\r\nSet-Cookie: _ga=1"));
    is(scalar(grep { /^cookie:/ } @p), 3, 'checker: catches an upstream '
        . 'Set-Cookie changed, one dropped that must stay, one kept that must go')
        or diag explain \@p;
    @p = check_one($q, $resp->($ok_head, "req=[other]\nconsent=[x]\n"));
    is(scalar(grep { /^origin:/ } @p), 2, 'checker: catches an answer to '
        . 'another request and a malformed upstream Consent header');
    @p = check_one({ %$q, expect => [400] }, $resp->($ok_head));
    like($p[0] // '', qr/^status: 200, expected 400/, 'checker: catches a '
        . 'wrong status');
    @p = check_one($q, { complete => 0, status => 0, got => 0,
        error => 'timeout' });
    like($p[0] // '', qr/^answer: none complete \(timeout/,
        'checker: catches a missing answer');
}

my @workers_before = $t->worker_pids;
ok(scalar @workers_before, 'worker pid(s) before: ' . join(',', @workers_before));
my $master = $t->master_pid;

diag "seed $SEED (client c draws from srand($SEED + c)), $CLIENTS clients x "
    . "$PER_CLIENT requests";

my $t_start = time;
my (@pids, @files);
for my $c (1 .. $CLIENTS) {
    my $file = $t->dir . "/malformed-$c.tsv";
    push @files, $file;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $ok = eval { run_client($c, $file); 1 };
        print STDERR "client $c: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    push @pids, $pid;
}
my $deadline = time + 300 * time_scale();
my %left = map { $_ => 1 } @pids;
my %exit;
while (%left && time < $deadline) {
    for my $pid (keys %left) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            $exit{$pid} = $?;
            delete $left{$pid};
        }
    }
    sleep 0.05 if %left;
}
for my $pid (keys %left) {
    kill 'KILL', $pid;
    waitpid $pid, 0;
}
my $elapsed = time - $t_start;
is(scalar(keys %left), 0, 'every client finished in time');
is(scalar(grep { $exit{$_} } keys %exit), 0, 'every client exited cleanly');

my (@rec, %status, %kind, %kind_status, %bad_by_cat, $retried, $slowest);
my $http_requests = 0;
for my $f (@files) {
    open my $in, '<', $f or next;
    while (my $l = <$in>) {
        chomp $l;
        my ($seq, $kind, $st, $complete, $retry, $secs, $problems, $dump)
            = split /\t/, $l, -1;
        push @rec, 1;
        $kind{$kind}++;
        for (split /,/, $st) {
            $http_requests++;
            $status{$_}++;
            $kind_status{$kind}{$_}++;
        }
        $retried++ if $retry;
        $slowest = $secs if !defined $slowest || $secs > $slowest;
        next unless length $problems;
        my ($client) = $f =~ /malformed-(\d+)\.tsv\z/;
        for my $pr (split / \|\| /, $problems) {
            my ($cat) = $pr =~ /\A(\w+):/;
            push @{ $bad_by_cat{$cat // 'other'} },
                "m$client-$seq [$kind] $pr" . ($dump ? "\n      request: $dump" : '');
            $dump = '';
        }
    }
    close $in;
}

diag sprintf '%d HTTP requests (%d exchanges, pipelines counted once) in '
    . '%.1fs (%.0f/s), %d re-sent on a new connection after an idle '
    . 'keep-alive close, slowest exchange %.3fs', $http_requests, scalar @rec,
    $elapsed, $http_requests / ($elapsed || 1), $retried // 0, $slowest // 0;
diag 'statuses: ' . join(', ', map { "$_: $status{$_}" } sort keys %status);
for my $k (sort keys %kind) {
    diag sprintf '  %-13s %5d  %s', $k, $kind{$k},
        join(', ', map { "$_: $kind_status{$k}{$_}" } sort keys %{ $kind_status{$k} });
}

is(scalar @rec, $N, "$N exchanges sent and recorded");
cmp_ok($http_requests, '>=', 10_000, "at least 10,000 HTTP requests: $http_requests");
my @thin = grep { ($kind{$_} // 0) < 40 } map { $_ } qw(cookie-junk
    cookie-huge cookie-many cookie-lines cookie-ctl too-big strip forged
    valid-token stale-token subject gpc-region args collect raw-upstream host
    api-get api-json api-form api-type api-chunked api-origin api-method
    api-valid api-bigbody pipelined upstream-sc);
is(scalar @thin, 0, 'every kind of input was sent at least 40 times')
    or diag "too few: @thin";

for my $cat (qw(answer status head cookie origin decision upstream api)) {
    my $bad = $bad_by_cat{$cat} || [];
    my %what = (
        answer   => 'every request got one complete answer, nothing after it',
        status   => 'every status is the one its kind calls for',
        head     => 'every answer head splits into clean CRLF lines: no NUL, '
            . 'no bare CR or LF, only headers someone writes, once each',
        cookie   => 'every Set-Cookie is one the module writes (an expiry of '
            . 'a token-named cookie, a consent cookie that verifies) or an '
            . 'upstream one passed on byte for byte and in order; trackers\' '
            . 'dropped; none where none belongs',
        origin   => 'the origin got this very request, with a well-formed '
            . 'Consent header, and the expected cookies and query',
        decision => 'forged, stale and valid tokens, subjects, regions and '
            . 'GPC decided as they must',
        upstream => 'the head sent upstream splits into clean CRLF lines',
        api      => 'API answers: JSON, no-store, errors naming the field',
    );
    is(scalar @$bad, 0, "$cat: $what{$cat}")
        or diag join "\n", @$bad[0 .. ($#$bad > 7 ? 7 : $#$bad)];
}
my %notes;
for (@{ delete $bad_by_cat{note} || [] }) {
    $notes{$1}++ if /note: (?:\[[^\]]*\] )?(.*?)(?:\n|\z)/;
}
diag "note: $_ in $notes{$_} answers (\$consent_* variables hold the raw "
    . 'bytes of what the client sent; add_header passes them on)'
    for sort keys %notes;
my @other = map { @{ $bad_by_cat{$_} } }
    grep { !/\A(?:answer|status|head|cookie|origin|decision|upstream|api)\z/ }
    keys %bad_by_cat;
is(scalar @other, 0, 'no other problem') or diag join "\n", @other[0 .. 4];

# ---------------------------------------------------------------- after

my @workers_after = $t->worker_pids;
is_deeply(\@workers_after, \@workers_before,
    'the same worker process(es) before and after: no crash, no respawn');
ok(kill(0, $master), 'the master is alive');

my $log = $t->read_file('error.log');
my @fatal = grep { /\[(?:alert|emerg|crit)\]|signal|core dumped|exited on/ }
    split /^/, $log;
is(scalar @fatal, 0, 'error.log: no alert, emerg, crit, signal or core dump')
    or diag join '', @fatal[0 .. ($#fatal > 9 ? 9 : $#fatal)];
my @module_err = grep { /\[(?:error|warn)\] \d+#\d+: (?:\*\d+ )?consent/ }
    split /^/, $log;
is(scalar @module_err, 0, 'error.log: no error or warning from the module '
    . '(Redis answered everything, every decision was made)')
    or diag join '', @module_err[0 .. ($#module_err > 9 ? 9 : $#module_err)];
my %errors;
for (grep { /\[(?:error|warn)\]/ } split /^/, $log) {
    my ($m) = /(\[(?:error|warn)\] )\d+#\d+: (?:\*\d+ )?([^,]*)/;
    ($m = ($1 // '') . ($2 // $_)) =~ s/\d+/N/g;
    $errors{$m}++;
}
diag 'nginx error/warn lines (expected for broken input): '
    . (join(', ', map { "$_ x$errors{$_}" } sort keys %errors) || 'none');

# a normal visit still works

my $r = $t->get('/', host => 'www.shop.example', headers => [
    [Cookie => 'sid=abc; _ga=GA1.2.3; lang=en; _fbp=fb.1.2'],
    ['X-Country' => 'FR']]);
is($r->status, 200, 'after: a normal visit is proxied');
is($r->origin->{cookie}, 'sid=abc; lang=en',
    'after: the tracking cookies are stripped, the others kept');
is($r->var('stripped'), '_ga,_fbp', 'after: $consent_stripped');
is_deeply([$r->header_all('Set-Cookie')],
    [expiries('www.shop.example', '_ga', '_fbp')],
    'after: and expired on the host and its parent');

# a stripped name with bytes a header or log line should not carry:
# $consent_stripped shows them as '?', no expiry is written for it
$r = $t->get('/', headers => [[Cookie => "sid=1; _ga_\x01\x7f\xe9=1; _fbp=2"],
    ['X-Country' => 'FR']]);
is($r->origin->{cookie}, 'sid=1', 'a tracking name with control and '
    . 'non-ASCII bytes is stripped');
is($r->var('stripped'), '_ga_???,_fbp', '$consent_stripped shows its odd '
    . 'bytes as "?"');
is_deeply([$r->header_all('Set-Cookie')], [expiries('localhost', '_fbp')],
    'and only the clean name is expired');

# a normal consent API write still works, and is enforced

$r = $t->get('/consent', method => 'POST', headers => [
    [Origin => 'http://localhost'], ['Content-Type' => 'application/json'],
    ['X-Country' => 'FR']], body => '{"purposes":["analytics"],"policy_version":3}');
is($r->status, 200, 'after: an API POST records a choice');
my ($sc) = grep { /\Aconsent=/ } $r->header_all('Set-Cookie');
like($sc // '', qr/\Aconsent=1\.k1\.[A-Za-z0-9_-]{22}\.00000005\.3\.\d+\.[A-Za-z0-9_-]{43}; /,
    'after: with a consent cookie for analytics');
is(check_set_cookie($sc // ''), undef, 'after: whose signature verifies');
my ($tok) = ($sc // '') =~ /\Aconsent=([^;]+)/;
$r = $t->get('/', headers => [[Cookie => "consent=$tok; _ga=1; _fbp=2"],
    ['X-Country' => 'FR']]);
is($r->origin->{cookie}, "consent=$tok; _ga=1",
    'after: the next visit keeps analytics, strips advertising');
like($r->var('source'), qr/\A(?:cache|redis)\z/, 'after: decided by the record');

$t->stop;
done_testing();
