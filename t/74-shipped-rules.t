# The shipped rules, all four files in the documented order (ocd.rules,
# default.rules, japan.rules, keep.rules), through a real nginx:
#   - first-party tracker names of the database are stripped under opt-in;
#   - domain-only rules act on their vendor's domain only, request and
#     Set-Cookie alike, and leave the same name alone on other sites;
#   - every keep.rules name survives any decision;
#   - the evidence-backed Japanese rules, icase rules, and vendor lines.
# The names come from the shipped files themselves, so the test follows
# the data.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use ConsentTest qw(split_cookies config_test);

my $dir = ConsentTest::repo_root() . '/ngx_consent_module/rules';
my @files = map { "$dir/$_.rules" } qw(ocd default japan keep);

for my $f (@files) {
    ok(-f $f, "shipped rules file exists: $f") or do { done_testing; exit };
}

# --- what the files say

sub rule_lines {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my @r;
    while (my $l = <$fh>) {
        next if $l =~ /^\s*(?:#|$|\@vendor\s)/;
        my ($pat, $purpose, $vendor, @opt) = split ' ', $l;
        my %o = map { /^domain=(.*)/ ? (domain => $1) : ($_ => 1) } @opt;
        push @r, { pat => $pat, purpose => $purpose, vendor => $vendor, %o };
    }
    return @r;
}

my %rules = map { $_ => [rule_lines("$dir/$_.rules")] }
    qw(ocd default japan keep);

# every name some rule matches anywhere (exact or prefix), to keep the
# samples below unambiguous
my (%global_exact, @global_prefix);
for my $f (qw(ocd default japan keep)) {
    for my $r (@{ $rules{$f} }) {
        next if $r->{'domain-only'} || $r->{pat} =~ /^~/;
        if ($r->{pat} =~ /^(.*)\*$/) { push @global_prefix, $1 }
        else { $global_exact{$r->{pat}} = $r }
    }
}

sub global_match {
    my ($name) = @_;
    return 1 if $global_exact{$name};
    for my $p (@global_prefix) { return 1 if index($name, $p) == 0 }
    return 0;
}

my %keep_exact = map { $_->{pat} => 1 }
    grep { $_->{pat} !~ /\*$/ } @{ $rules{keep} };

# first-party database names that only ocd.rules covers, and that are
# cookie names a browser sends as such
my @ocd_global = grep {
    my $n = $_;
    !grep { $_->{pat} eq $n } @{ $rules{default} }, @{ $rules{japan} },
        @{ $rules{keep} }
} map { $_->{pat} } grep {
    !$_->{'domain-only'} && $_->{pat} !~ /[*~]/
    && $_->{purpose} ne 'necessary'
} @{ $rules{ocd} };

cmp_ok(scalar @ocd_global, '>', 100,
    'ocd.rules has first-party rules of its own: ' . scalar @ocd_global);

# domain-only exact names whose name no rule matches on other sites
my @scoped = grep { !global_match($_->{pat}) && $_->{pat} !~ /[*~]/ }
    grep { $_->{'domain-only'} } @{ $rules{ocd} };
cmp_ok(scalar @scoped, '>', 100,
    'ocd.rules has domain-only names: ' . scalar @scoped);

# --- the server

my $http = join '', map { "    consent_rules $_;\n" } @files;
$http .= "    consent_rule _jpvc_* advertising Test_Icase icase;\n";

my $t = ConsentTest->new(
    name   => 'shipped-rules',
    http   => $http,
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }
        location /sc-origin/ {
            consent off;
            add_header Set-Cookie "uid=1; Path=/";
            add_header Set-Cookie "A3=2; Path=/";
            add_header Set-Cookie "sid=3; Path=/";
            add_header Set-Cookie "uid=4; Domain=.adform.net; Path=/";
            return 200 "ok\n";
        }
        location /sc/ {
            proxy_pass http://127.0.0.1:%%PORT%%/sc-origin/;
        }
EOF
);

# nginx -t with every shipped rule: the time it takes (README's figure)
{
    my $start = time;
    my ($rc, $out) = $t->nginx_t;
    my $took = time - $start;
    is($rc, 0, 'nginx -t with all shipped rules') or diag $out;
    diag(sprintf 'nginx -t with all shipped rules: %.0f ms', $took * 1000);
}

# the names a request kept, from what the origin got
sub kept {
    my ($r) = @_;
    my %got;
    for my $line ($r->raw_cookie_lines) {
        for (split_cookies($line)) { /^([^=]+)/ and $got{$1} = 1 }
    }
    return \%got;
}

# many names at once, in chunks the header limits take
sub ask {
    my (%o) = @_;
    my %kept;
    my @names = @{ $o{names} };
    while (my @chunk = splice @names, 0, 60) {
        my $r = $t->get('/x', host => $o{host} || 'www.example.com',
            headers => [
                [Cookie => join '; ', map { "$_=v" } 'mine', @chunk],
                ['X-Country' => $o{region} || 'FR'],
            ]);
        is($r->status, 200, "request through the module ($o{what})");
        my $k = kept($r);
        ok($k->{mine}, "the site's own cookie kept ($o{what})");
        $kept{$_} = $k->{$_} for @chunk;
    }
    return \%kept;
}

# --- first-party database names: stripped under opt-in

{
    my $k = ask(names => \@ocd_global, what => 'ocd first-party');
    my @left = grep { $k->{$_} } @ocd_global;
    is_deeply(\@left, [], 'FR: every first-party ocd.rules name stripped ('
        . scalar @ocd_global . ')');
}

# --- domain-only: on the vendor's domain, and only there

{
    my @sample = @scoped[0 .. 39];
    my $fails = 0;
    for my $r (@sample) {
        my $host = "www.$r->{domain}";
        my $k = ask(names => [$r->{pat}], host => $host,
                    what => "$r->{pat} on $host");
        $fails++, diag("$r->{pat} kept on $host") if $k->{$r->{pat}};
    }
    is($fails, 0, 'FR: 40 domain-only names stripped on their own domain');

    my $k = ask(names => [map { $_->{pat} } @sample],
                what => 'domain-only names elsewhere');
    my @gone = grep { !$k->{$_->{pat}} } @sample;
    is_deeply([map { $_->{pat} } @gone], [],
        'FR: the same names kept on a site that is not the vendor\'s');
}

# Set-Cookie: a domain-only name is dropped where it would live on the
# vendor's domain (this Host, or its Domain), kept elsewhere
{
    my $sc = sub {
        my ($host) = @_;
        my $r = $t->get('/sc/', host => $host,
                        headers => [['X-Country' => 'FR']]);
        return join ' | ', $r->header_all('Set-Cookie');
    };
    my $own = $sc->('www.example.com');
    like($own, qr/(?:^| )uid=1;/, 'Set-Cookie uid kept on another site');
    like($own, qr/A3=2;/, 'Set-Cookie A3 kept on another site');
    like($own, qr/sid=3;/, 'Set-Cookie sid kept');
    unlike($own, qr/uid=4;/,
        'Set-Cookie uid with Domain=.adform.net dropped (domain-only rule)');

    my $ads = $sc->('track.adform.net');
    unlike($ads, qr/uid=1;/, 'Set-Cookie uid dropped on adform.net');
    like($ads, qr/sid=3;/, 'Set-Cookie sid kept on adform.net');

    my $yahoo = $sc->('www.yahoo.com');
    unlike($yahoo, qr/A3=2;/, 'Set-Cookie A3 dropped on yahoo.com');
    like($yahoo, qr/uid=1;/, 'Set-Cookie uid kept on yahoo.com');
}

# --- keep.rules: never stripped, whatever was refused

{
    my @keep = sort keys %keep_exact;
    push @keep, map { (my $p = $_->{pat}) =~ s/\*$/1a2B/; $p }
        grep { $_->{pat} =~ /\*$/ } @{ $rules{keep} };
    for my $region (qw(FR JP)) {
        my $k = ask(names => \@keep, region => $region,
                    what => "keep list $region");
        my @lost = grep { !$k->{$_} } @keep;
        is_deeply(\@lost, [], "$region: every keep.rules name kept ("
            . scalar @keep . ')');
    }
}

# --- the Japanese rules, and icase

{
    my @ads = qw(_ycl_yjad _yjsu_yjad _ycl_abc_aw _VC_PTB_ __lt__cid
                 __lt__sid.c83939be _im_uid.3929 _a8_s00000018752001 _atnct
                 rmStore);
    my @analytics = qw(_ebtd _ebcv_uYnsk4N4);
    my @personal = qw(krt.vis deqwasMark _rt.uid _td);
    my @all = (@ads, @analytics, @personal);

    my $fr = ask(names => \@all, what => 'japan FR');
    is_deeply([grep { $fr->{$_} } @all], [],
        'FR: every Japanese tracker name stripped');

    # JP (notice): advertising off, analytics and personalization on
    my $jp = ask(names => \@all, region => 'JP', what => 'japan JP');
    is_deeply([grep { $jp->{$_} } @ads], [],
        'JP: advertising names stripped');
    is_deeply([grep { !$jp->{$_} } @analytics, @personal], [],
        'JP: AD EBiS (analytics), KARTE, deqwas, Rtoaster, Treasure Data '
        . '(personalization) kept');

    # names the review found wrong are no longer rules
    my @gone = qw(FOUT_UID imobile_x gssprt_x aigent_x omnibus_x _fan_x
                  _vc_x _krt_x _ebis_x);
    my $k = ask(names => [@gone, '_rcmdjp_user_id'], what => 'removed');
    is_deeply([grep { !$k->{$_} } @gone], [],
        'FR: names without evidence are no longer stripped');
    ok(!$k->{_rcmdjp_user_id},
        '_rcmdjp_user_id stripped, as Submit_Recommend\'s');

    my $ic = ask(names => [qw(_jpvc_a _JPVC_B _JpVc_C)], what => 'icase');
    is_deeply([grep { $ic->{$_} } qw(_jpvc_a _JPVC_B _JpVc_C)], [],
        'an icase rule strips the name in any case');
}

$t->stop;

done_testing;
