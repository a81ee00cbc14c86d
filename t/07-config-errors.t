# Configuration errors are caught by `nginx -t`: bad rules file lines name
# FILE:LINE and the reason; bad keys files, unknown regimes, missing files.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64);
use ConsentTest qw(keys_line config_test);

my $SERVER = <<'EOF';
        consent on;
        location / { proxy_pass %%ORIGIN%%; }
EOF

# nginx -t on an http snippet with files; returns (rc, output, instance)
sub conf_test { config_test(server => $SERVER, http => '', @_) }

sub fails_ok {
    my ($what, %a) = @_;
    my ($rc, $out, $t) = conf_test(%a);
    isnt($rc, 0, "$what: nginx -t fails");
    like($out, qr/\[emerg\]/, "$what: [emerg] message");
    if ($a{file}) {
        my $path = $t->dir . "/$a{file}";
        my $line = $a{line};
        like($out, qr/\Q$path\E:$line\b/, "$what: names $a{file}:$line")
            or diag $out;
    }
    like($out, $a{reason}, "$what: reason $a{reason}") or diag $out
        if $a{reason};
    return $out;
}

sub passes_ok {
    my ($what, %a) = @_;
    my ($rc, $out) = conf_test(%a);
    is($rc, 0, "$what: nginx -t ok") or diag $out;
}

# --- rules files

fails_ok('unknown purpose',
    files  => { 'r.rules' => "# comment\n\nfoo_* nopurpose vendorx\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 3,
    reason => qr/unknown purpose "nopurpose"/);

fails_ok('domain-only without domain=',
    files  => { 'r.rules' => "_ga analytics google\nuid advertising X domain-only\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 2,
    reason => qr/domain-only needs domain= "domain-only"/);

fails_ok('unknown rule option',
    files  => { 'r.rules' => "uid advertising X domain=x.com scoped\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 1,
    reason => qr/unknown option .* "scoped"/);

fails_ok('bad vendor line',
    files  => { 'r.rules' => "# vendors\n\@vendor X name=\"A\" "
                             . "policy=javascript:alert(1)\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 2,
    reason => qr/invalid or repeated vendor field "policy=javascript:/);

fails_ok('unknown vendor field',
    files  => { 'r.rules' => "\@vendor X colour=red\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 1,
    reason => qr/unknown vendor field "colour"/);

passes_ok('vendor lines and rule options',
    files  => { 'r.rules' => "\@vendor X name=\"X Co.\" country=JP "
                             . "purposes=advertising "
                             . "policy=https://x.example/privacy "
                             . "domains=x.example,y.example\n"
                             . "uid advertising X domain=x.example "
                             . "domain-only icase\n" },
    http   => 'consent_rules %%DIR%%/r.rules;');

fails_ok('missing vendor',
    files  => { 'r.rules' => "_ga analytics google\nlonely analytics\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 2,
    reason => qr/missing vendor/);

fails_ok('missing purpose',
    files  => { 'r.rules' => "justaname\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 1,
    reason => qr/purpose/);

fails_ok('bad regex',
    files  => { 'r.rules' => "a analytics v\nb* analytics v\n# c\n"
                             . "~foo( analytics v\n" },
    http   => 'consent_rules %%DIR%%/r.rules;',
    file   => 'r.rules', line => 4,
    reason => qr/regex/i);

fails_ok('second rules file',
    files  => { 'ok.rules' => "_ga analytics google\n",
                'bad.rules' => "\n\n\n\n_x advertizing v\n" },
    http   => "consent_rules %%DIR%%/ok.rules;\n"
            . "    consent_rules %%DIR%%/bad.rules;",
    file   => 'bad.rules', line => 5,
    reason => qr/unknown purpose "advertizing"/);

fails_ok('custom purpose used before its declaration',
    files  => { 'r.rules' => "lab_* research uni\n" },
    http   => "consent_rules %%DIR%%/r.rules;\n    consent_purpose research;",
    file   => 'r.rules', line => 1,
    reason => qr/unknown purpose "research"/);

passes_ok('custom purpose declared first',
    files  => { 'r.rules' => "lab_* research uni\n" },
    http   => "consent_purpose research;\n    consent_rules %%DIR%%/r.rules;");

passes_ok('valid rules file with comments, prefixes, regexes, domain=',
    files  => { 'r.rules' => "# c\n\n_ga analytics google\n"
        . "_ga_* analytics google\n~_hj.* analytics hotjar\n"
        . "_fbp advertising meta domain=.facebook.com\n" },
    http   => 'consent_rules %%DIR%%/r.rules;');

{
    my $out = fails_ok('rules file does not exist',
        http => 'consent_rules %%DIR%%/nope.rules;');
    like($out, qr{nope\.rules}, 'missing rules file: named in the message');
}

SKIP: {
    skip 'running as root: a mode 000 file is still readable', 3 if $> == 0;
    my $t = ConsentTest->new(name => 'conf', start => 0,
        files => { 'r.rules' => "_ga analytics google\n" },
        http => 'consent_rules %%DIR%%/r.rules;', server => $SERVER);
    chmod 0, $t->dir . '/r.rules';
    my ($rc, $out) = $t->nginx_t;
    isnt($rc, 0, 'unreadable rules file: nginx -t fails');
    like($out, qr/\[emerg\]/, 'unreadable rules file: [emerg]');
    like($out, qr{r\.rules}, 'unreadable rules file: named');
    $t->stop;
}

# --- inline rules

{
    my $out = fails_ok('inline rule, unknown purpose',
        http   => 'consent_rule _x nopurpose v;',
        reason => qr/unknown purpose "nopurpose"/);
    like($out, qr/nginx\.conf:\d+/, 'inline rule: names nginx.conf:LINE');
}

fails_ok('inline rule, bad regex',
    http   => 'consent_rule "~(" analytics v;',
    reason => qr/regex/i);

# --- keys

my $K = sha256('k');

passes_ok('valid keys file (16, 32 and 64-byte keys)',
    files => { keys => keys_line('a', substr($K, 0, 16)) . keys_line('b', $K)
                       . keys_line('c', $K . $K) },
    http  => 'consent_keys %%DIR%%/keys;');

for my $case (
    ['key too short (8 bytes)', keys_line('k1', substr($K, 0, 8))],
    ['key too long (65 bytes)', keys_line('k1', $K . $K . 'x')],
    ['bad base64', "k1 !!!not*base64!!!\n"],
    ['missing key', "k1\n"],
) {
    my ($what, $content) = @$case;
    my $out = fails_ok("keys: $what",
        files => { keys => $content },
        http  => 'consent_keys %%DIR%%/keys;');
    like($out, qr{/keys\b}, "keys: $what: names the keys file");
}

fails_ok('keys file does not exist',
    http   => 'consent_keys %%DIR%%/nokeys;',
    reason => qr/nokeys/);

# --- regimes, cookie

fails_ok('unknown default regime',
    http => 'consent_default_regime strict;', reason => qr/strict/);
fails_ok('unknown regime in consent_regime',
    http => 'consent_regime bogus FR;', reason => qr/bogus/);
fails_ok('consent on with a bad value',
    http => 'consent maybe;');
fails_ok('consent_cookie with a bad max_age',
    http => 'consent_cookie consent max_age=soon;');

done_testing;
