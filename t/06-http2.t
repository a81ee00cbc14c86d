# HTTP/2 (h2c, prior knowledge): cookies sent as several header fields are
# filtered like one HTTP/1.1 Cookie header.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(std_rules);

my $have_nghttp = grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
plan skip_all => 'nghttp (nghttp2-client) not installed' unless $have_nghttp;

my $t = ConsentTest->new(
    name   => 'http2',
    h2     => 1,
    http   => std_rules(),
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /o/ {
            proxy_pass %%ORIGIN%%;
            %%VARS_HEADERS%%
        }
EOF
);

sub sent_cookies {
    my ($r) = @_;
    return map { $_->[1] } grep { $_->[0] eq 'cookie' } @{ $r->{sent} };
}

{
    my @fields = ('a=1; _ga=2', '_fbp=3', 'b=4');
    my $r = $t->h2_get('/split', headers => [
        ['x-country' => 'FR'], map { [cookie => $_] } @fields]);
    is($r->{rc}, 0, 'nghttp exit 0') or diag $r->{output};
    is_deeply([sent_cookies($r)], \@fields,
        'nghttp really sent three separate cookie fields');
    is($r->status, 200, 'h2: 200');
    is($r->var('stripped'), '_ga,_fbp', 'h2: $consent_stripped');
    is($r->var('regime'), 'opt_in', 'h2: regime');
    is_deeply([$r->raw_cookie_lines], ['a=1; b=4'],
        'h2: origin gets one Cookie header with the kept cookies');
}

{
    my @fields = ('_ga=1', '_fbp=2', '_gcl_au=3');
    my $r = $t->h2_get('/o/allgone', headers => [
        ['x-country' => 'FR'], map { [cookie => $_] } @fields]);
    is_deeply([sent_cookies($r)], \@fields, 'all-stripped: three fields sent');
    is($r->status, 200, 'h2 all stripped: 200');
    my $e = $t->origin_log($r);
    is($e && $e->{cookie}, '-', 'h2 all stripped: origin saw no Cookie header');
    is($r->var('stripped'), '_ga,_fbp,_gcl_au', 'h2 all stripped: names');
}

{
    my @fields = ('sid=1', 'pref=2; _ga=3', '_fbp=4', 'share_id=5; x=6');
    my $r = $t->h2_get('/jp', headers => [
        ['x-country' => 'JP'], map { [cookie => $_] } @fields]);
    is_deeply([$r->raw_cookie_lines], ['sid=1; pref=2; _ga=3; x=6'],
        'h2 JP: advertising and sharing stripped across fields');
    is($r->var('stripped'), '_fbp,share_id', 'h2 JP: names in field order');
}

{
    my @fields = ('a=1; _ga=2', '_fbp=3');
    my $r = $t->h2_get('/us', headers => [
        ['x-country' => 'US'], map { [cookie => $_] } @fields]);
    is_deeply([$r->raw_cookie_lines], ['a=1; _ga=2; _fbp=3'],
        'h2 US: nothing stripped');
}

# the HTTP/1.1 listener of the same server still works
{
    my $r = $t->get('/h1', headers => [[Cookie => 'a=1; _ga=2'],
        ['X-Country' => 'FR']]);
    is_deeply([$r->raw_cookie_lines], ['a=1'], 'HTTP/1.1 on the same server');
}

$t->stop;

done_testing;
