#!/usr/bin/perl
# Configuration of consent_api, consent_policy_version and consent_receipts:
# mistakes fail `nginx -t` with the reason; good forms pass.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use ConsentTest qw(keys_line config_test std_rules);

my %files = (keys => keys_line('k1', 'k' x 32));
my $base = std_rules() . "consent_keys %%DIR%%/keys;\n";
my $redis = "consent_redis 127.0.0.1:6399;\n";

sub check {
    my ($what, $ok, $re, %a) = @_;
    my ($rc, $out) = config_test(files => \%files, %a);
    if ($ok) {
        is($rc, 0, "$what: nginx -t passes") or diag $out;
    } else {
        isnt($rc, 0, "$what: nginx -t fails");
        like($out, $re, "$what: says why") or diag $out;
    }
}

my $api = "location = /consent { consent_api; }\n";

check('api with redis and keys', 1, undef,
    http => $base . $redis, extra => $api);
check('api without redis', 0,
    qr/"consent_api" needs "consent_redis" and "consent_keys"/,
    http => $base, extra => $api);
check('api without keys', 0,
    qr/"consent_api" needs "consent_redis" and "consent_keys"/,
    http => std_rules() . $redis, extra => $api);
check('api twice', 0, qr/"consent_api" directive is duplicate/,
    http => $base . $redis,
    extra => "location = /consent { consent_api; consent_api; }\n");
check('api with arguments', 0, qr/invalid number of arguments/,
    http => $base . $redis,
    extra => "location = /consent { consent_api on; }\n");
check('api at server level', 0, qr/"consent_api" directive is not allowed/,
    http => $base . $redis, extra => "consent_api;\n");
check('api in a location with consent off', 1, undef,
    http => $base . $redis,
    extra => "location = /consent { consent off; consent_api; }\n");

check('policy version', 1, undef,
    http => $base . "consent_policy_version 7 reconsent_below=5;\n");
check('policy version per location', 1, undef,
    http => $base . "consent_policy_version 7;\n",
    extra => "location /b { consent_policy_version 8 reconsent_below=8; }\n");
check('policy version not a number', 0, qr/invalid policy version "v7"/,
    http => $base . "consent_policy_version v7;\n");
check('policy version too large', 0, qr/invalid policy version/,
    http => $base . "consent_policy_version 4294967296;\n");
check('floor above the version', 0, qr/no greater than the policy version/,
    http => $base . "consent_policy_version 3 reconsent_below=4;\n");
check('floor not a number', 0, qr/no greater than the policy version/,
    http => $base . "consent_policy_version 3 reconsent_below=x;\n");
check('unknown parameter', 0, qr/invalid parameter "below=2"/,
    http => $base . "consent_policy_version 3 below=2;\n");
check('policy version twice', 0, qr/is duplicate/,
    http => $base . "consent_policy_version 3;\nconsent_policy_version 4;\n");

check('receipts', 1, undef,
    http => $base . $redis . "consent_receipts retain=400d ip=hash;\n");
check('receipts kept', 1, undef,
    http => $base . $redis . "consent_receipts retain=off ip=off;\n");
check('receipts bad time', 0, qr/invalid parameter "retain=forever"/,
    http => $base . "consent_receipts retain=forever;\n");
check('receipts zero', 0, qr/invalid parameter "retain=0"/,
    http => $base . "consent_receipts retain=0;\n");
check('receipts ip=clear', 0, qr/invalid parameter "ip=clear".*ip=hash\|off/,
    http => $base . "consent_receipts ip=clear;\n");
check('receipts twice', 0, qr/is duplicate/,
    http => $base . "consent_receipts retain=1d;\nconsent_receipts ip=hash;\n");
check('receipts in server', 0, qr/"consent_receipts" directive is not allowed/,
    http => $base, extra => "consent_receipts retain=1d;\n");

done_testing();
