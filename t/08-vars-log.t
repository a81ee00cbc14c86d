# Every $consent_* variable in an access_log line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(std_rules mint_token keys_line);

my $K1 = sha256('vars-key');

my @VARS = qw(purposes id source region regime gpc stripped necessary
    functional analytics advertising personalization sharing research);

my $fmt = join '|', '$http_x_req', map { "\$consent_$_" } @VARS;

my $t = ConsentTest->new(
    name  => 'vars',
    files => { keys => keys_line('k1', $K1) },
    http  => "    consent_purpose research;\n" . std_rules()
        . "    consent_rule lab_* research uni;\n"
        . "    consent_keys %%DIR%%/keys;\n"
        . "    log_format allvars escape=none '$fmt';\n",
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        consent_subject $cookie_uid;
        access_log %%DIR%%/vars.log allvars;
        location / {
            proxy_pass %%ORIGIN%%;
        }
EOF
);

sub logline {
    my ($r) = @_;
    my $deadline = time + 5;
    while (1) {
        for my $l (split /\n/, $t->read_file('vars.log')) {
            my ($req, @v) = split /\|/, $l, -1;
            next unless $req eq $r->req;
            my %h;
            @h{@VARS} = map { $_ eq '-' ? '' : $_ } @v;   # '-': not found
            return \%h;
        }
        return {} if time > $deadline;
        select undef, undef, undef, 0.02;
    }
}

{
    my $r = $t->get('/fr', headers => [['X-Country' => 'FR'],
        [Cookie => '_ga=1; pref=2; a=3; _fbp=4']]);
    is($r->status, 200, 'FR: 200');
    is_deeply(logline($r), {
        purposes => 'necessary', id => '', source => 'default',
        region => 'FR', regime => 'opt_in', gpc => '0',
        stripped => '_ga,pref,_fbp', necessary => '1', functional => '0',
        analytics => '0', advertising => '0', personalization => '0',
        sharing => '0', research => '0',
    }, 'FR: log line');
}

{
    my $r = $t->get('/us', headers => [['X-Country' => 'US-CA'],
        ['Sec-GPC' => '1'], [Cookie => 'uid=acct-9; _ga=1; _fbp=2; lab_1=3']]);
    is_deeply(logline($r), {
        purposes => 'necessary,functional,analytics,personalization,research',
        id => 'acct-9', source => 'default', region => 'US-CA',
        regime => 'opt_out', gpc => '1', stripped => '_fbp',
        necessary => '1', functional => '1', analytics => '1',
        advertising => '0', personalization => '1', sharing => '0',
        research => '1',
    }, 'US-CA + GPC + consent_subject: log line');
}

{
    my $tok = mint_token('k1', $K1, 'S-42', 0x45, 7, time - 60);
    my $r = $t->get('/tok', headers => [['X-Country' => 'JP'],
        [Cookie => "consent=$tok; _ga=1; _fbp=2; lab_1=3; pref=4"]]);
    is_deeply(logline($r), {
        purposes => 'necessary,analytics,research', id => 'S-42',
        source => 'cookie', region => 'JP', regime => 'notice', gpc => '0',
        stripped => '_fbp,pref', necessary => '1', functional => '0',
        analytics => '1', advertising => '0', personalization => '0',
        sharing => '0', research => '1',
    }, 'JP + token: log line');
}

{
    my $r = $t->get('/none', headers => [[Cookie => 'a=1']]);
    is_deeply(logline($r), {
        purposes => 'necessary', id => '', source => 'default', region => '',
        regime => 'opt_in', gpc => '0', stripped => '', necessary => '1',
        functional => '0', analytics => '0', advertising => '0',
        personalization => '0', sharing => '0', research => '0',
    }, 'no region, nothing to strip: log line');
}

$t->stop;

done_testing;
