# Global Privacy Control: `Sec-GPC: 1` turns advertising and sharing off
# whatever the source; `consent_gpc off` ignores it; $consent_gpc.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(std_rules mint_token keys_line);

my $K1 = sha256('gpc-test-key-1');

my $t = ConsentTest->new(
    name  => 'gpc',
    files => { keys => keys_line('k1', $K1) },
    http  => std_rules() . "    consent_keys %%DIR%%/keys;\n",
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /nogpc/ {
            consent_gpc off;
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
EOF
);

my $COOKIE = '_ga=1; _fbp=2; _gcl_au=3; share_id=4; sid=5';
my $ALL = 'necessary,functional,analytics,advertising,personalization,sharing';
my $NO_ADS = 'necessary,functional,analytics,personalization';

sub req {
    my ($path, $region, @extra) = @_;
    my @h = ([Cookie => $COOKIE]);
    push @h, ['X-Country' => $region] if defined $region;
    return $t->get($path, headers => [@h, @extra]);
}

# US + GPC: advertising and sharing off, analytics kept
{
    my $r = req('/us-gpc', 'US', ['Sec-GPC' => '1']);
    is($r->status, 200, 'US+GPC: 200');
    is($r->var('gpc'), '1', 'US+GPC: $consent_gpc 1');
    is($r->var('regime'), 'opt_out', 'US+GPC: regime still opt_out');
    is($r->var('purposes'), $NO_ADS, 'US+GPC: purposes without ads/sharing');
    is($r->var('advertising'), '0', 'US+GPC: $consent_advertising 0');
    is($r->var('sharing'), '0', 'US+GPC: $consent_sharing 0');
    is($r->var('analytics'), '1', 'US+GPC: $consent_analytics 1');
    is($r->var('stripped'), '_fbp,_gcl_au,share_id', 'US+GPC: stripped');
    is_deeply([$r->raw_cookie_lines], ['_ga=1; sid=5'],
        'US+GPC: _ga and sid reach the origin');
}

# header name is case-insensitive, value may have spaces around
{
    my $r = req('/us-gpc-lc', 'US', ['sec-gpc' => ' 1 ']);
    is($r->var('gpc'), '1', 'sec-gpc lower case: $consent_gpc 1');
    is_deeply([$r->raw_cookie_lines], ['_ga=1; sid=5'],
        'sec-gpc lower case: ads stripped');
}

# Sec-GPC: 0 and other values are not a GPC signal
for my $v ('0', '2', 'true') {
    my $r = req("/us-gpc-$v", 'US', ['Sec-GPC' => $v]);
    is($r->var('gpc'), '0', "Sec-GPC: $v: \$consent_gpc 0");
    is($r->var('stripped'), '', "Sec-GPC: $v: nothing stripped");
    is_deeply([$r->raw_cookie_lines], [$COOKIE], "Sec-GPC: $v: untouched");
}

# no header at all
{
    my $r = req('/us', 'US');
    is($r->var('gpc'), '0', 'US no GPC: $consent_gpc 0');
    is($r->var('purposes'), $ALL, 'US no GPC: all purposes');
    is_deeply([$r->raw_cookie_lines], [$COOKIE], 'US no GPC: untouched');
}

# consent_gpc off: the signal is reported but not applied
{
    my $r = req('/nogpc/x', 'US', ['Sec-GPC' => '1']);
    is($r->var('gpc'), '1', 'consent_gpc off: $consent_gpc still 1');
    is($r->var('purposes'), $ALL, 'consent_gpc off: all purposes');
    is($r->var('advertising'), '1', 'consent_gpc off: advertising 1');
    is($r->var('stripped'), '', 'consent_gpc off: nothing stripped');
    is_deeply([$r->raw_cookie_lines], [$COOKIE],
        'consent_gpc off: _fbp and _gcl_au kept');
}

# notice and opt_in regimes: GPC changes nothing more
{
    my $r = req('/jp-gpc', 'JP', ['Sec-GPC' => '1']);
    is($r->var('purposes'), $NO_ADS, 'JP+GPC: notice purposes');
    is($r->var('stripped'), '_fbp,_gcl_au,share_id', 'JP+GPC: stripped');

    $r = req('/fr-gpc', 'FR', ['Sec-GPC' => '1']);
    is($r->var('purposes'), 'necessary', 'FR+GPC: opt_in purposes');
    is($r->var('gpc'), '1', 'FR+GPC: $consent_gpc 1');
    is_deeply([$r->raw_cookie_lines], ['sid=5'], 'FR+GPC: only sid kept');
}

# GPC beats a signed cookie that grants everything
{
    my $tok = mint_token('k1', $K1, 'subjGPC', 0x3f, 1, time - 10);
    my @h = ([Cookie => "consent=$tok; $COOKIE"], ['X-Country' => 'FR']);

    my $r = $t->get('/tok', headers => \@h);
    is($r->var('source'), 'cookie', 'token, no GPC: source cookie');
    is($r->var('purposes'), $ALL, 'token, no GPC: all purposes');
    is_deeply([$r->raw_cookie_lines], ["consent=$tok; $COOKIE"],
        'token, no GPC: everything kept');

    $r = $t->get('/tok-gpc', headers => [@h, ['Sec-GPC' => '1']]);
    is($r->var('source'), 'cookie', 'token+GPC: source cookie');
    is($r->var('id'), 'subjGPC', 'token+GPC: $consent_id');
    is($r->var('purposes'), $NO_ADS, 'token+GPC: ads and sharing off');
    is($r->var('stripped'), '_fbp,_gcl_au,share_id', 'token+GPC: stripped');
    is_deeply([$r->raw_cookie_lines], ["consent=$tok; _ga=1; sid=5"],
        'token+GPC: consent, _ga, sid kept');

    $r = $t->get('/nogpc/tok', headers => [@h, ['Sec-GPC' => '1']]);
    is($r->var('purposes'), $ALL, 'token+GPC, consent_gpc off: all purposes');
}

$t->stop;

done_testing;
