# The shipped default rules file: the common analytics and advertising
# cookies are recognised.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(split_cookies);

my $file = ConsentTest::repo_root() . '/ngx_consent_module/rules/default.rules';

ok(-f $file, "default rules file exists: $file") or do {
    done_testing;
    exit;
};

my $t = ConsentTest->new(
    name   => 'default-rules',
    http   => "    consent_rules $file;\n",
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
EOF
);

my @trackers = qw(_ga _gid _fbp _gcl_au IDE _uetsid _hjSessionUser_123 __hstc);
my @firstparty = qw(sessionid my_app_session cart);

my $cookie = join '; ', map { "$_=v" }
    $firstparty[0], @trackers[0 .. 3], $firstparty[1], @trackers[4 .. 7],
    $firstparty[2];

# FR: opt_in, every tracker stripped, first-party cookies kept
{
    my $r = $t->get('/fr', headers => [[Cookie => $cookie], ['X-Country' => 'FR']]);
    my %got = map { /^([^=]+)/; $1 => 1 } split_cookies(($r->raw_cookie_lines)[0]);
    for my $c (@trackers) {
        ok(!$got{$c}, "FR: $c stripped");
    }
    for my $c (@firstparty) {
        ok($got{$c}, "FR: $c kept");
    }
    my %stripped = map { $_ => 1 } split /,/, $r->var('stripped');
    ok($stripped{$_}, "FR: $_ in \$consent_stripped") for @trackers;
}

# JP: notice, analytics kept, advertising stripped
{
    my $r = $t->get('/jp', headers => [[Cookie => $cookie], ['X-Country' => 'JP']]);
    my %got = map { /^([^=]+)/; $1 => 1 } split_cookies(($r->raw_cookie_lines)[0]);
    ok($got{$_}, "JP: analytics cookie $_ kept") for qw(_ga _gid);
    ok(!$got{$_}, "JP: advertising cookie $_ stripped")
        for qw(_fbp _gcl_au IDE);
    ok($got{$_}, "JP: $_ kept") for @firstparty;
}

# US: opt_out, nothing stripped
{
    my $r = $t->get('/us', headers => [[Cookie => $cookie], ['X-Country' => 'US']]);
    is_deeply([$r->raw_cookie_lines], [$cookie], 'US: cookie header untouched');
}

$t->stop;

done_testing;
