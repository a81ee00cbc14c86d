# consent_gpc_json: the /.well-known/gpc.json content handler (200,
# application/json, an exact body; HEAD without a body; other methods 405)
# and its configuration errors (bad last_update dates, wrong context).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(std_rules config_test);

my $BODY      = '{"gpc": true, "lastUpdate": "2026-11-01"}';
my $BODY_NODATE = '{"gpc": true}';

# --- configuration errors first (nginx -t only)

sub conf_t { (config_test(extra => $_[0]))[0, 1] }

for my $arg (qw(
    last_update=2026-13-01
    last_update=yesterday
    last_update=2026-00-10
    last_update=2026-02-30
    last_update=2026-02-29
    last_update=2100-02-29
    last_update=2026-04-31
    last_update=2026-11-00
    last_update=2026-11-32
    last_update=2026-1-01
    last_update=2026-01-1
    last_update=26-11-01
    last_update=2026/11/01
    last_update=2026-11-01x
    last_update=
    lastupdate=2026-11-01
    2026-11-01
)) {
    my ($rc, $out) = conf_t(
        "        location = /gpc.json { consent_gpc_json $arg; }");
    isnt($rc, 0, "nginx -t fails: consent_gpc_json $arg");
    like($out, qr/\[emerg\].*\Q$arg\E/, "  [emerg] names \"$arg\"")
        or diag $out;
}

{
    my ($rc, $out) = conf_t(
        '        location = /gpc.json { consent_gpc_json '
        . 'last_update=2026-11-01 last_update=2026-11-02; }');
    isnt($rc, 0, 'nginx -t fails: two arguments');

    ($rc, $out) = conf_t('        consent_gpc_json;');
    isnt($rc, 0, 'nginx -t fails: consent_gpc_json in server context');
    like($out, qr/not allowed here/, '  "not allowed here"') or diag $out;
}

for my $arg ('', 'last_update=2026-11-01', 'last_update=2028-02-29',
             'last_update=2000-02-29', 'last_update=2026-12-31')
{
    my ($rc, $out) = conf_t(
        "        location = /gpc.json { consent_gpc_json $arg; }");
    is($rc, 0, "nginx -t ok: consent_gpc_json $arg") or diag $out;
}

# --- the running instance

my $t = ConsentTest->new(
    name   => 'gpc-json',
    h2     => 1,
    http   => std_rules(),
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;

        location = /.well-known/gpc.json {
            consent_gpc_json last_update=2026-11-01;
        }

        location = /gpc-nodate.json {
            consent_gpc_json;
        }

        location = /leap.json {
            consent_gpc_json last_update=2028-02-29;
        }

        location = /off.json {
            consent off;
            consent_gpc_json last_update=2026-11-01;
        }

        location / {
            proxy_pass %%ORIGIN%%;
        }
EOF
);

my $URL = '/.well-known/gpc.json';

sub visit {
    my ($path, %o) = @_;
    return $t->get($path, method => $o{method}, body => $o{body},
        headers => [['X-Country' => $o{country} // 'FR'],
            @{ $o{headers} || [] }]);
}

sub json_ok {
    my ($r, $body, $what) = @_;
    is($r->status, 200, "$what: 200");
    is($r->header('Content-Type'), 'application/json',
        "$what: Content-Type application/json");
    is($r->body, $body, "$what: exact body");
    is($r->header('Content-Length'), length $body,
        "$what: Content-Length " . length $body);
}

json_ok(visit($URL), $BODY, 'GET gpc.json');
json_ok(visit('/gpc-nodate.json'), $BODY_NODATE, 'GET without last_update');
json_ok(visit('/leap.json'), '{"gpc": true, "lastUpdate": "2028-02-29"}',
    'GET with a leap day');
json_ok(visit("$URL?x=1&gclid=2"), $BODY, 'GET with a query string');
json_ok(visit($URL, country => 'US'), $BODY, 'GET from the US');
json_ok(visit($URL, country => 'JP', headers => [['Sec-GPC' => '1'],
    [Cookie => '_ga=1; _fbp=2']]), $BODY, 'GET from JP with GPC and cookies');
json_ok(visit('/off.json'), $BODY, 'GET where consent is off');

{
    # a later proxied request's origin line is written after any line
    # for $r would have been (one worker, lines in order)
    my $r = visit($URL);
    my $s = visit('/sentinel');
    ok(scalar $t->origin_log($s), 'sentinel request reached the origin');
    is(scalar(grep { ($_->{req} // '') eq $r->req }
        $t->log_entries('origin.log')), 0,
        'GET gpc.json: answered by nginx, not proxied');
}

{
    my $r = visit($URL, method => 'HEAD');
    is($r->status, 200, 'HEAD: 200');
    is($r->body, '', 'HEAD: no body');
    my (undef, $rest) = split /\r\n\r\n/, $r->{raw}, 2;
    is($rest // '', '', 'HEAD: nothing after the header');
    is($r->header('Content-Type'), 'application/json',
        'HEAD: Content-Type application/json');

    $r = visit('/gpc-nodate.json', method => 'HEAD');
    is($r->status, 200, 'HEAD without last_update: 200');
    is($r->body, '', 'HEAD without last_update: no body');
}

for my $m (qw(POST PUT DELETE PATCH OPTIONS)) {
    my $r = visit($URL, method => $m);
    is($r->status, 405, "$m: 405");
    unlike($r->body, qr/"gpc"/, "$m: no JSON body");
}

{
    my $r = visit($URL, method => 'POST', body => '{"gpc": false}');
    is($r->status, 405, 'POST with a body: 405');

    $r = visit('/gpc-nodate.json', method => 'POST', body => 'x=1');
    is($r->status, 405, 'POST without last_update: 405');
}

# several requests on one keep-alive connection: the body stays exact
{
    my $one = "GET $URL HTTP/1.1\r\nHost: localhost\r\nX-Country: FR\r\n\r\n";
    my $r = $t->raw($one . $one
        . "GET $URL HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my @bodies = $r->{raw} =~ /\r\n\r\n(\{"gpc"[^}]*\})/g;
    is_deeply(\@bodies, [($BODY) x 3], 'keep-alive: three exact bodies');
}

SKIP: {
    my $have = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
    skip 'nghttp (nghttp2-client) not installed', 3 unless $have;
    my $r = $t->h2_get($URL, headers => [['x-country' => 'FR']]);
    is($r->status, 200, 'h2: 200') or diag $r->{output};
    is($r->header('content-type'), 'application/json', 'h2: JSON');
    # nghttp -v prints a body without a final newline on the same line
    # as its next trace line, which the harness then appends to the body
    (my $body = $r->body) =~ s/\[ *[\d.]+\] (?:recv|send) .*\z//s;
    is($body, $BODY, 'h2: exact body');
}

$t->stop;

done_testing;
