# `consent on|off` inheritance: off in one location of an enabled server,
# on in one location of a disabled server, on from the http block.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(std_rules);

my $t = ConsentTest->new(
    name => 'onoff',
    http => std_rules() . <<'EOF',
    consent on;
    consent_region FR;

    server {
        listen 127.0.0.1:%%H2_PORT%%;
        server_name off;
        consent off;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /on/ {
            consent on;
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
    }
EOF
    server => <<'EOF',
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /off/ {
            consent off;
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /off-o/ {
            consent off;
            proxy_pass %%ORIGIN%%;
        }
EOF
);

my $C = 'sid=1; _ga=2; _fbp=3';

sub strips {
    my ($r, $what) = @_;
    is_deeply([$r->raw_cookie_lines], ['sid=1'], "$what: stripped");
    is($r->var('stripped'), '_ga,_fbp', "$what: \$consent_stripped");
    is($r->var('purposes'), 'necessary', "$what: \$consent_purposes");
    is($r->var('regime'), 'opt_in', "$what: \$consent_regime");
}

sub untouched {
    my ($r, $what) = @_;
    is_deeply([$r->raw_cookie_lines], [$C], "$what: untouched");
    for my $v (qw(stripped purposes regime region source gpc id analytics
                  necessary)) {
        is($r->var($v), '', "$what: \$consent_$v empty");
    }
}

strips($t->get('/x', headers => [[Cookie => $C]]), 'on from http');
untouched($t->get('/off/x', headers => [[Cookie => $C]]), 'off in location');
untouched($t->get('/x', port => $t->h2_port, headers => [[Cookie => $C]]),
    'off in server');
strips($t->get('/on/x', port => $t->h2_port, headers => [[Cookie => $C]]),
    'on in a location of an off server');

# the variables are empty in an access log line of an off location too
{
    my $r = $t->get('/off-o/x', headers => [[Cookie => $C], ['Sec-GPC' => '1']]);
    is($r->origin->{cookie}, $C, 'off location: origin got every cookie');
    my $e = $t->front_log($r);
    ok($e, 'off location: access log line');
    for my $v (qw(purposes stripped source regime gpc)) {
        like($e->{$v} // 'missing', qr/^-?$/, "off location: log $v empty");
    }
}

$t->stop;

done_testing;
