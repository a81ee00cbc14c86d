# consent_vendors: the rules' vendors grouped by purpose, with what their
# "@vendor" lines say (name, controller, country, policy and opt-out
# pages, GVL id, domains), as one JSON document a banner shows: the exact
# body for a small rules file (a Japanese name kept as UTF-8, a vendor
# without metadata named by its id, a vendor
# under each of its purposes, necessary never listed); HEAD, 405 for
# other methods; the shipped rules give a document JSON::PP reads, every
# vendor with an opt-out page listed with it; configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP ();
use ConsentTest qw(config_test repo_root);

# quotes and backslashes cannot be in a vendor's text (the rules parser
# refuses them), so the document has nothing to escape in practice: the
# core's unit tests check the escaping itself
my $RULES = <<'EOF';
@vendor criteo name="Criteo" controller="Criteo SA" purposes=advertising country=FR policy=https://www.criteo.com/privacy/ optout=https://www.criteo.com/privacy/disable-criteo-services-on-internet-browsers/ gvl=91 domains=criteo.com,criteo.net
@vendor yahoo_jp name="ヤフー株式会社" country=JP policy=https://privacy.lycorp.co.jp/ja/
@vendor slash name="F@N Communications"
crto_*          advertising     criteo
cto_bundle      advertising     criteo
_yjsu_yjad      advertising     yahoo_jp
_yjsu_an        analytics       yahoo_jp
slash_id        personalization slash
plain_id        sharing         plain
site_sess       necessary       site
EOF

my $BODY = '{"purposes":['
    . '{"purpose":"analytics","vendors":['
    . '{"id":"yahoo_jp","name":"ヤフー株式会社","country":"JP",'
    . '"policy":"https://privacy.lycorp.co.jp/ja/"}]},'
    . '{"purpose":"advertising","vendors":['
    . '{"id":"criteo","name":"Criteo","controller":"Criteo SA",'
    . '"country":"FR","policy":"https://www.criteo.com/privacy/",'
    . '"optout":"https://www.criteo.com/privacy/disable-criteo-services-'
    . 'on-internet-browsers/","gvl":91,"domains":["criteo.com",'
    . '"criteo.net"]},'
    . '{"id":"yahoo_jp","name":"ヤフー株式会社","country":"JP",'
    . '"policy":"https://privacy.lycorp.co.jp/ja/"}]},'
    . '{"purpose":"personalization","vendors":['
    . '{"id":"slash","name":"F@N Communications"}]},'
    . '{"purpose":"sharing","vendors":[{"id":"plain","name":"plain"}]}'
    . "]}\n";

# --- configuration errors

{
    my ($rc, $out) = config_test(extra => '        consent_vendors;');
    isnt($rc, 0, 'nginx -t fails: consent_vendors at server level');
    like($out, qr/not allowed here/, '  "not allowed here"') or diag $out;

    ($rc, $out) = config_test(
        extra => '        location = /v { consent_vendors x; }');
    isnt($rc, 0, 'nginx -t fails: consent_vendors takes no argument');
    like($out, qr/invalid number of arguments/, '  names the arguments')
        or diag $out;
}

# --- a small rules file: the exact document

my $t = ConsentTest->new(
    name   => 'vendors',
    h2     => 1,
    files  => { 'vendors.rules' => $RULES },
    http   => "    consent_rules %%DIR%%/vendors.rules;\n",
    server => <<'EOF',
        consent on;

        location = /consent/vendors {
            consent_vendors;
        }

        location / {
            proxy_pass %%ORIGIN%%;
        }
EOF
);

{
    my $r = $t->get('/consent/vendors');
    is($r->status, 200, 'GET: 200');
    is($r->header('Content-Type'), 'application/json',
        'GET: application/json');
    is($r->body, $BODY, 'GET: the exact document');
    is($r->header('Content-Length'), length $BODY,
        'GET: Content-Length of the bytes');

    my $doc = eval { JSON::PP->new->utf8->decode($r->body) };
    ok($doc, 'GET: JSON::PP reads it') or diag $@;
    is($doc->{purposes}[1]{vendors}[1]{name}, "\x{30e4}\x{30d5}\x{30fc}"
        . "\x{682a}\x{5f0f}\x{4f1a}\x{793e}",
        'the Japanese name decodes to its characters');
    ok(!grep({ $_->{purpose} eq 'necessary' } @{ $doc->{purposes} }),
        'necessary is not listed');

    $r = $t->get('/consent/vendors', method => 'HEAD');
    is($r->status, 200, 'HEAD: 200');
    is($r->body, '', 'HEAD: no body');

    for my $m (qw(POST PUT DELETE)) {
        $r = $t->get('/consent/vendors', method => $m, body => '{}',
            headers => [['Content-Type' => 'application/json']]);
        is($r->status, 405, "$m: 405");
    }

    SKIP: {
        skip 'nghttp not installed', 2
            unless grep { -x "$_/nghttp" } split /:/, $ENV{PATH};
        my $h = $t->h2_get('/consent/vendors');
        is($h->status, 200, 'HTTP/2 GET: 200');
        is($h->body, $BODY, 'HTTP/2 GET: the exact document');
    }
}

$t->stop;

# --- the shipped rules: a document a banner can read

{
    my $dir = repo_root() . '/ngx_consent_module/rules';
    my $rules = join '', map { "    consent_rules $dir/$_;\n" }
        qw(ocd.rules default.rules japan.rules keep.rules);

    my $s = ConsentTest->new(
        name   => 'vendors-shipped',
        http   => $rules,
        server => <<'EOF',
        consent on;
        location = /consent/vendors { consent_vendors; }
        location / { proxy_pass %%ORIGIN%%; }
EOF
    );

    my $r = $s->get('/consent/vendors');
    is($r->status, 200, 'shipped rules: 200');

    my $doc = eval { JSON::PP->new->utf8->decode($r->body) };
    ok($doc, 'shipped rules: JSON::PP reads the document') or diag $@;

    my (%seen, $optout, $bad);
    for my $p (@{ $doc->{purposes} || [] }) {
        for my $v (@{ $p->{vendors} }) {
            $seen{ $v->{id} }++;
            $optout++ if $v->{optout};
            $bad++ if ($v->{optout} // 'https://') !~ m{^https?://}
                || ($v->{policy} // 'https://') !~ m{^https?://};
        }
    }

    cmp_ok(scalar keys %seen, '>', 200, 'shipped rules: over 200 vendors')
        or diag scalar keys %seen;
    cmp_ok($optout // 0, '>', 0, 'shipped rules: opt-out pages listed');
    ok(!$bad, 'shipped rules: every link is http(s)');
    is_deeply([map { $_->{purpose} } @{ $doc->{purposes} }],
        [grep { my $p = $_; grep { $_->{purpose} eq $p }
                @{ $doc->{purposes} } }
            qw(functional analytics advertising personalization sharing)],
        'shipped rules: purposes in their order');

    $s->stop;
}

done_testing();
