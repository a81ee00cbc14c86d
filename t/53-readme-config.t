#!/usr/bin/perl
# README's "A first configuration" must work as written: the nginx block
# between its "first-config" markers, with only the install paths moved
# to a temporary directory, passes `nginx -t` with the module, and the
# keys file comes from the command the README gives for it.  Any other
# change to the README's text is tested as it stands, so the example
# cannot rot again.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Open3;

use ConsentTest qw(repo_root module_path nginx_bin keys_line);

my $root = repo_root();
my $module = module_path();
plan skip_all => "$module not built (make)" unless -f $module;

my $ctl = $ENV{CONSENTCTL_BIN} || "$root/build/consentctl";

open my $fh, '<', "$root/README.md" or die "README.md: $!";
my $readme = do { local $/; <$fh> };
close $fh;

my ($begin, $end) = map { "<!-- first-config: $_ -->" } qw(begin end);
my ($part) = $readme =~ /^\Q$begin\E\n(.*?)^\Q$end\E$/ms;
ok(defined $part, 'README has the first-config markers')
    or BAIL_OUT('no markers');

my @nginx = $part =~ /^```nginx\n(.*?)^```$/msg;
my @sh = $part =~ /^```sh\n(.*?)^```$/msg;
is(scalar @nginx, 1, 'one nginx block between the markers');
is(scalar @sh, 1, 'and one shell block, the keys file');

my $conf = $nginx[0] // '';
my $dir = tempdir('consent-readme-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{CONSENT_KEEP});
chmod 0755, $dir;
mkdir "$dir/logs" or die $!;

# the keys file, made the way the README says
like($sh[0] // '', qr{consentctl keys generate > /etc/nginx/consent/keys},
    'the README makes the keys file with consentctl keys generate');
SKIP: {
    skip "$ctl not built", 1 unless -x $ctl;
    my $line = `$ctl keys generate`;
    is($?, 0, 'consentctl keys generate: exit 0');
    open my $k, '>', "$dir/keys" or die $!;
    print $k $line;
    close $k;
}
unless (-s "$dir/keys") {
    open my $k, '>', "$dir/keys" or die $!;
    print $k keys_line('k1', 'k' x 32);
    close $k;
}

# a free port in place of 80: the test may not be root, and nginx -t
# binds what it listens on
my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 1, ReuseAddr => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    $p;
};

# exactly these install paths move, each must be there
my @moves = (
    ['/usr/lib/nginx/modules/ngx_http_consent_module.so', $module],
    (map { ["/etc/nginx/consent/$_.rules",
             "$root/ngx_consent_module/rules/$_.rules"] }
         qw(ocd default japan keep)),
    ['/etc/nginx/consent/keys', "$dir/keys"],
    ['/var/log/nginx/', "$dir/logs/"],
);
for my $m (@moves) {
    my ($from, $to) = @$m;
    my $n = () = $conf =~ /\Q$from\E/g;
    ok($n > 0, "the configuration names $from");
    $conf =~ s/\Q$from\E/$to/g;
}
ok($conf =~ s/^(\s*)listen\s+80;/${1}listen 127.0.0.1:$port;/m,
    'the configuration listens on port 80');
unlike($conf, qr{/etc/nginx|/var/log|/usr/lib/nginx},
    'no other system path left to depend on');

open my $c, '>', "$dir/nginx.conf" or die $!;
print $c $conf;
close $c;

my $pid = open3(my $in, my $out, undef, nginx_bin(), '-t', '-p', "$dir/",
    '-c', "$dir/nginx.conf");
close $in;
my $output = do { local $/; <$out> } // '';
waitpid $pid, 0;
is($? >> 8, 0, 'README\'s first configuration passes nginx -t')
    or diag("$output\n--- as tested:\n$conf");
like($output, qr/test is successful/, 'nginx says so');
unlike($output, qr/\[(?:emerg|alert|crit|warn)\]/, 'and warns about nothing')
    or diag($output);

done_testing();
