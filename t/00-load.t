# The module loads, `nginx -t` accepts a configuration using it, and with
# `consent off` (explicit or default) requests pass through untouched.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(std_rules);

ok(-f ConsentTest::module_path(), 'module is built: ' . ConsentTest::module_path())
    or BAIL_OUT('module not built; run make at the repo root');

my $t = ConsentTest->new(
    name  => 'load',
    start => 0,
    http  => std_rules() . <<'EOF',
    # a server that never mentions consent: default off
    server {
        listen 127.0.0.1:%%H2_PORT%%;
        server_name dflt;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
    }
EOF
    server => <<'EOF',
        consent off;
        consent_region FR;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /o/ {
            proxy_pass %%ORIGIN%%;
        }
EOF
);

my ($rc, $out) = $t->nginx_t;
is($rc, 0, 'nginx -t exits 0') or diag $out;
like($out, qr/test is successful/, 'nginx -t says the test is successful');
unlike($out, qr/\[(?:emerg|alert|crit)\]/, 'nginx -t: no emerg/alert/crit');

$t->start;

my @cookies = ('sid=1; _ga=GA1.2.3;  _fbp=fb.1.2 ;pref="a;b"', '_gcl_au=x');

for my $case (['explicit off', $t->port], ['default off', $t->h2_port]) {
    my ($what, $port) = @$case;
    my $r = $t->get('/path?q=1', port => $port,
        headers => [map { [Cookie => $_] } @cookies]);
    is($r->status, 200, "$what: 200 from the origin");
    like($r->raw_head, qr{^GET /path\?q=1 HTTP/1\.[01]\r?$}m,
        "$what: origin got the request line");
    is_deeply([$r->raw_cookie_lines], \@cookies,
        "$what: both Cookie lines reach the origin byte for byte");
    is($r->var('stripped'), '', "$what: \$consent_stripped empty");
    is($r->var('purposes'), '', "$what: \$consent_purposes empty");
    is($r->var('analytics'), '', "$what: \$consent_analytics empty");
}

# through the nginx origin too, no Cookie header at all stays absent
{
    my $r = $t->get('/o/x');
    is($r->status, 200, 'no cookies: 200');
    is($r->origin->{cookie}, '', 'no cookies: origin body cookie empty');
    my $e = $t->origin_log($r);
    is($e && $e->{cookie}, '-', 'no cookies: origin saw no Cookie header');

    $r = $t->get('/o/y', headers => [[Cookie => 'a=1; _ga=2']]);
    is($r->origin->{cookie}, 'a=1; _ga=2', 'origin echoes the cookie');
    my $f = $t->front_log($r);
    ok($f, 'front access log line written');
}

$t->stop;

done_testing;
