# Regime defaults by region: opt_in (EU/EEA/UK/CH), opt_out (US), notice
# (JP), the default regime, custom mappings, case folding and the
# subdivision fallback (US-CA -> US).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(std_rules);

my $COOKIE = 'sid=s1; _ga=GA1.1; _fbp=fb.1; pref=dark; foo=bar; perso=p; '
    . 'share_id=9; _gcl_au=x; _ga_ABC=1';

my %EXPECT = (
    opt_in => {
        purposes => 'necessary',
        kept     => 'sid=s1; foo=bar',
        stripped => '_ga,_fbp,pref,perso,share_id,_gcl_au,_ga_ABC',
        flags    => { necessary => 1, functional => 0, analytics => 0,
                      advertising => 0, personalization => 0, sharing => 0 },
    },
    opt_out => {
        purposes => 'necessary,functional,analytics,advertising,'
                  . 'personalization,sharing',
        kept     => $COOKIE,
        stripped => '',
        flags    => { necessary => 1, functional => 1, analytics => 1,
                      advertising => 1, personalization => 1, sharing => 1 },
    },
    notice => {
        purposes => 'necessary,functional,analytics,personalization',
        kept     => 'sid=s1; _ga=GA1.1; pref=dark; foo=bar; perso=p; _ga_ABC=1',
        stripped => '_fbp,share_id,_gcl_au',
        flags    => { necessary => 1, functional => 1, analytics => 1,
                      advertising => 0, personalization => 1, sharing => 0 },
    },
);

sub check {
    my ($t, $region, $regime, %o) = @_;
    my $path = $o{path} || '/r';
    my @h = ([Cookie => $COOKIE]);
    push @h, ['X-Country' => $region] if defined $region;
    my $r = $t->get($path, headers => \@h);
    my $e = $EXPECT{$regime};
    my $what = "$t->{name} " . (defined $region ? "region '$region'" : 'no region')
        . " $path";

    is($r->status, 200, "$what: 200");
    is($r->var('regime'), $regime, "$what: \$consent_regime $regime");
    is($r->var('region'), $o{region_var} // $region // '',
        "$what: \$consent_region");
    is($r->var('purposes'), $e->{purposes}, "$what: \$consent_purposes");
    is($r->var('source'), 'default', "$what: \$consent_source default");
    is($r->var('stripped'), $e->{stripped}, "$what: \$consent_stripped");
    is_deeply([$r->raw_cookie_lines], [$e->{kept}],
        "$what: origin Cookie header");
    my %flags = map { $_ => $r->var($_) } keys %{ $e->{flags} };
    is_deeply(\%flags, $e->{flags}, "$what: \$consent_<purpose> flags");
    return $r;
}

my $server = <<'EOF';
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /fixed/ {
            consent_region JP;
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
EOF

# default regime: opt_in (built in)
my $t = ConsentTest->new(
    name   => 'default-opt_in',
    http   => std_rules() . "    consent_regime notice XX;\n"
        . "    consent_regime opt_out xy;\n",
    server => $server,
);

check($t, $_, 'opt_in')
    for qw(FR fr DE IT IE PL SE IS LI NO GB UK CH ch);
check($t, $_, 'opt_out') for qw(US us US-CA us-ca US-NY);
check($t, $_, 'notice')  for qw(JP jp);
check($t, 'XX', 'notice');       # custom mapping
check($t, 'xx', 'notice');       # case-insensitive
check($t, 'XY', 'opt_out');      # mapping declared in lower case
check($t, undef, 'opt_in');      # no region: default regime
check($t, 'ZZ', 'opt_in');       # unknown region: default regime
check($t, 'CN', 'opt_in');
check($t, 'US', 'notice', path => '/fixed/x', region_var => 'JP');

# a request without any cookie is fine
{
    my $r = $t->get('/nocookie', headers => [['X-Country' => 'FR']]);
    is($r->status, 200, 'no cookie: 200');
    is_deeply([$r->raw_cookie_lines], [], 'no cookie: none sent upstream');
    is($r->var('stripped'), '', 'no cookie: nothing stripped');
}

$t->stop;

# consent_default_regime opt_out
my $t2 = ConsentTest->new(
    name   => 'default-opt_out',
    http   => std_rules() . "    consent_default_regime opt_out;\n",
    server => $server,
);

check($t2, undef, 'opt_out');
check($t2, 'ZZ', 'opt_out');
check($t2, 'FR', 'opt_in');
check($t2, 'DE-BY', 'opt_in');   # subdivision falls back to the country
check($t2, 'JP-13', 'notice');
check($t2, 'US-CA', 'opt_out');

$t2->stop;

# consent_default_regime notice
my $t3 = ConsentTest->new(
    name   => 'default-notice',
    http   => std_rules() . "    consent_default_regime notice;\n",
    server => $server,
);

check($t3, undef, 'notice');
check($t3, 'BR', 'notice');
check($t3, 'US', 'opt_out');
check($t3, 'NL', 'opt_in');

$t3->stop;

done_testing;
