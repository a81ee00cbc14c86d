# Subrequests and internal redirects are decided once: an auth_request
# subrequest sees the stripped cookies and the same decision; after a
# try_files / error_page redirect the decision and $consent_stripped stay,
# and stripping is not repeated.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(std_rules);

# Debian's nginx has it; a bare upstream build (NGINX_BIN=...) may not
plan skip_all => 'nginx built without ngx_http_auth_request_module'
    unless `${\ ConsentTest::nginx_bin()} -V 2>&1`
           =~ /http_auth_request_module/;

my $t = ConsentTest->new(
    name   => 'subrequests',
    http   => std_rules(),
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;

        location /protected/ {
            auth_request /_auth;
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }

        location = /_auth {
            internal;
            # a second decision here would give opt_out
            consent_region US;
            proxy_pass %%ORIGIN%%/auth/;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Echo "$consent_regime|$consent_stripped|$consent_purposes";
        }

        location /tf/ {
            root %%DIR%%/html;
            try_files $uri @fallback;
        }

        location /ep/ {
            root %%DIR%%/html;
            error_page 404 = @fallback;
        }

        location /pi/ {
            proxy_pass %%ORIGIN%%/404/;
            proxy_intercept_errors on;
            error_page 404 = @fallback;
        }

        location /rw/ {
            rewrite ^/rw/(.*)$ /final/$1 last;
        }

        location /final/ {
            proxy_pass %%RAW%%;
            proxy_set_header X-Echo "$consent_regime|$consent_stripped";
            %%VARS_HEADERS%%
        }

        location @fallback {
            # a second decision here would give opt_out
            consent_region US;
            proxy_pass %%RAW%%;
            proxy_set_header X-Echo "$consent_regime|$consent_stripped";
            %%VARS_HEADERS%%
        }
EOF
);

my $C = 'sid=1; _ga=2; pref=3; _fbp=4; keep=5';
my $KEPT = 'sid=1; keep=5';
my $STRIPPED = '_ga,pref,_fbp';

sub fr { $t->get($_[0], headers => [[Cookie => $C], ['X-Country' => 'FR']]) }

sub echo_of {
    my ($r) = @_;
    my ($e) = $r->raw_head =~ /^X-Echo:[ \t]*(.*?)\r?$/mi;
    return $e // '';
}

# auth_request
{
    my $r = fr('/protected/x');
    is($r->status, 200, 'auth_request: 200');
    my @e = $t->origin_log($r);
    my ($auth) = grep { $_->{uri} eq '/auth/' } @e;
    ok($auth, 'auth subrequest reached the origin');
    is($auth && $auth->{cookie}, $KEPT,
        'auth subrequest saw the stripped Cookie header');
    is($auth && $auth->{echo}, "opt_in|$STRIPPED|necessary",
        'auth subrequest: same decision (not re-decided with its own region)');
    is_deeply([$r->raw_cookie_lines], [$KEPT], 'main request: stripped');
    is($r->var('stripped'), $STRIPPED, 'main request: $consent_stripped');
    my $f = $t->front_log($r);
    is($f && $f->{stripped}, $STRIPPED, 'access log: $consent_stripped');
}

# internal redirects
for my $case (['/tf/nofile', 'try_files'], ['/ep/nofile', 'error_page'],
              ['/pi/x', 'proxy_intercept_errors + error_page'])
{
    my ($path, $what) = @$case;
    my $r = fr($path);
    is($r->status, 200, "$what: 200 from the fallback");
    is_deeply([$r->raw_cookie_lines], [$KEPT],
        "$what: origin got the stripped cookies, not mangled");
    is(echo_of($r), "opt_in|$STRIPPED",
        "$what: fallback location sees the same decision and names");
    is($r->var('regime'), 'opt_in', "$what: \$consent_regime opt_in");
    is($r->var('stripped'), $STRIPPED, "$what: \$consent_stripped kept");
    my $f = $t->front_log($r);
    is($f && $f->{stripped}, $STRIPPED,
        "$what: access log lists the stripped names");
    is($f && $f->{regime}, 'opt_in', "$what: access log regime");
}

# the proxy_intercept_errors case: the first upstream also saw stripped
# cookies
{
    my $r = fr('/pi/y');
    my ($first) = grep { $_->{uri} eq '/404/y' } $t->origin_log($r);
    is($first && $first->{cookie}, $KEPT,
        'first upstream (404) saw the stripped cookies');
}

# rewrite ... last (a location change inside the same request)
{
    my $r = fr('/rw/x');
    is_deeply([$r->raw_cookie_lines], [$KEPT], 'rewrite last: stripped once');
    is(echo_of($r), "opt_in|$STRIPPED", 'rewrite last: names kept');
}

# with the US region everything is kept, through the redirect too
{
    my $r = $t->get('/tf/nofile', headers => [[Cookie => $C],
        ['X-Country' => 'US']]);
    is_deeply([$r->raw_cookie_lines], [$C], 'US + try_files: untouched');
    is(echo_of($r), 'opt_out|', 'US + try_files: nothing stripped');
}

$t->stop;

done_testing;
