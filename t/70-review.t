# The security review's findings, each with the request that showed it:
# memory corruption a client can trigger, expiry amplification, bypasses of
# stripping (cached cookie variables, subrequests, answers nginx makes
# itself, odd names) and wrong answers (provisional variables, another
# subject's cookie, comma names, paths).  The numbers are the review's.
#
# Points 4 (another request's Consent value), 10 and 15 (invalidations)
# have tests of their own: t/64-concurrency.t, t/25 and t/26.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(std_rules mint_token keys_line purpose_bit config_test
    expiries);

my $K1 = sha256('review-key');

# ------------------------------------------------------------ nginx -t

# 5. a __Host-/__Secure- consent cookie needs Secure whatever the scheme
{
    my %files = (keys => keys_line('k1', $K1));
    for my $c (['consent_cookie __Host-consent;', 1],
               ['consent_cookie __Secure-consent secure=auto;', 1],
               ['consent_cookie __Host-consent secure=off;', 1],
               ['consent_cookie __Host-consent secure=on;', 0],
               ['consent_cookie __Secure-consent max_age=1d secure=on;', 0],
               ['consent_cookie consent secure=maybe;', 1],
               ['consent_cookie consent secure=off;', 0]) {
        my ($rc, $out) = config_test(files => \%files,
            http => std_rules() . "    consent_keys %%DIR%%/keys;\n"
                . "    $c->[0]\n");
        if ($c->[1]) {
            isnt($rc, 0, "5. nginx -t refuses: $c->[0]");
            like($out, qr/secure=on|invalid parameter/, '   and says why')
                or diag $out;
        } else {
            is($rc, 0, "5. nginx -t accepts: $c->[0]") or diag $out;
        }
    }
}

# 18. the Permissions-Policy feature list, and 3. consent_cookie_domain
for my $bad ('consent_permissions_policy browsing-topics Bad;',
             'consent_permissions_policy browsing-topics browsing-topics;',
             'consent_permissions_policy on off;',
             'consent_cookie_domain EXAMPLE.com;',
             'consent_cookie_domain com;',
             'consent_cookie_domain example..com;',
             'consent_cookie_domain "exa mple.com";') {
    my ($rc, $out) = config_test(extra => "        $bad");
    isnt($rc, 0, "nginx -t refuses: $bad");
}

for my $good ('consent_permissions_policy on;',
              'consent_permissions_policy off;',
              'consent_permissions_policy browsing-topics;',
              'consent_cookie_domain example.com .example.org;',
              'consent_cookie_domain off;') {
    my ($rc, $out) = config_test(extra => "        $good");
    is($rc, 0, "nginx -t accepts: $good") or diag $out;
}

# ------------------------------------------------------------ the instance

my $t = ConsentTest->new(
    name   => 'review',
    redis  => 1,
    files  => {
        keys => keys_line('k1', $K1),
        'html/ssi/page.html' =>
            "[<!--# include virtual=\"/inc/x\" -->]"
            . "[<!--# include virtual=\"/inc-req/x\" -->]\n",
        'html/ssi/two.html' =>
            "[<!--# include virtual=\"/inc/a\" -->]"
            . "[<!--# include virtual=\"/inc/b\" -->]\n",
        'html/index.html' => "hello\n",
    },
    http   => std_rules() . <<'EOF',
    consent_rule ~_pk_id\..* analytics matomo;
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    consent_zone zone=consent:1m ttl=60s;

    # a server whose own "return" answers before any location
    server {
        listen 127.0.0.1:%%H2_PORT%%;
        server_name early.example;
        consent on;
        consent_region $http_x_country;
        add_header Set-Cookie "_ga=GA1.early; Path=/" always;
        add_header Set-Cookie "sid=early; Path=/" always;
        return 200 "early\n";
    }
EOF
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        consent_subject $cookie_uid;
        large_client_header_buffers 4 64k;

        # 9. add_header Set-Cookie on answers nginx makes itself
        add_header Set-Cookie "_ga=GA1.added; Path=/" always;
        add_header Set-Cookie "sid=added; Path=/" always;

        # 7. a variable of the Cookie header read before stripping
        if ($http_cookie ~ "never-matches-anything") { }
        set $early_ga "$cookie__ga";

        # 11. a variable read by "set" in the server's rewrite phase
        set $srv_analytics "$consent_analytics|$consent_source";

        location / {
            proxy_pass %%RAW%%;
            %%VARS_HEADERS%%
        }

        location /varcookie/ {
            proxy_set_header Cookie $http_cookie;
            proxy_set_header X-Cookie-Ga $cookie__ga;
            proxy_pass %%RAW%%;
        }

        # a stand-in origin whose answer heads the tests choose
        location /pp-origin/ {
            consent off;
            add_header Permissions-Policy $http_x_pp;
            return 200 "pp\n";
        }

        location /pp/ {
            proxy_buffer_size 64k;
            proxy_buffers 4 64k;
            proxy_busy_buffers_size 64k;
            proxy_pass http://127.0.0.1:%%PORT%%/pp-origin/;
        }

        location /expire/ {
            consent_expire_rejected on;
            proxy_pass %%ORIGIN%%;
        }

        location /expire-dom/ {
            consent_expire_rejected on;
            consent_cookie_domain example.com;
            proxy_pass %%ORIGIN%%;
        }

        location /args/ {
            consent_strip_args advertising gclid fbclid;
            proxy_pass %%RAW%%;
        }

        location = /ret {
            return 200 "ret\n";
        }

        location = /redir {
            rewrite ^ /elsewhere permanent;
        }

        location = /pixel {
            consent_require analytics;
            proxy_pass %%ORIGIN%%;
        }

        location = /consent {
            consent_api;
        }

        location /srv/ {
            add_header X-Srv $srv_analytics always;
            return 200 "srv\n";
        }

        # 11. variables read by "set" in the rewrite phase
        location /rw/ {
            set $rw_analytics $consent_analytics;
            set $rw_ad $consent_advertising;
            set $rw_source $consent_source;
            set $rw_gpc $consent_gpc;
            add_header X-Rw "$rw_analytics|$rw_ad|$rw_source|$rw_gpc" always;
            return 200 "rw\n";
        }

        # 8. subrequests: mirror and SSI
        location /mirror-main/ {
            mirror /_mirror;
            proxy_pass %%ORIGIN%%;
        }

        location /mirror-off/ {
            consent off;
            mirror /_mirror;
            proxy_pass %%ORIGIN%%;
        }

        location /mirror-req/ {
            consent off;
            mirror /_mirror_req;
            proxy_pass %%ORIGIN%%;
        }

        location = /_mirror {
            internal;
            proxy_pass %%ORIGIN%%/mirrored$request_uri;
        }

        location = /_mirror_req {
            internal;
            consent_require analytics;
            proxy_pass %%ORIGIN%%/mirrored-req$request_uri;
        }

        location /ssi/ {
            consent off;
            ssi on;
            root %%DIR%%/html;
        }

        location /inc/ {
            proxy_pass %%ORIGIN%%;
        }

        location /inc-req/ {
            consent_require analytics;
            proxy_pass %%ORIGIN%%;
        }
EOF
);

sub fr {
    my ($path, %o) = @_;
    return $t->get($path, host => $o{host}, method => $o{method},
        body => $o{body}, headers => [['X-Country' => $o{country} // 'FR'],
            (defined $o{cookie} ? [Cookie => $o{cookie}] : ()),
            @{ $o{headers} || [] }]);
}

# the answer's Set-Cookie headers but the server's own add_header one
sub sc {
    my ($r) = @_;
    return grep { !/^sid=added/ } $r->header_all('Set-Cookie');
}

sub head_size {
    my ($r) = @_;
    my ($head) = split /\r\n\r\n/, $r->{raw} // '', 2;
    return length($head // '');
}

# the worker that answers now; the same pid later means no crash between
my ($worker) = $t->worker_pids;

# ------------------------------------------------------------ 1

# The list of request headers grows in parts of 20 elements.  Cookie lines
# that fill the last part, with nothing after them, once made the removal
# leave the previous (full) part last with a stale allocation size, so the
# Consent header was written past its block: only a raw request can end
# the list with its Cookie lines (get() adds Connection last).
{
    my $raw_one = sub {
        my ($k, @cookies) = @_;
        my @h = (['Host', 'localhost'], ['Connection', 'close'],
            ['X-Country', 'FR'],
            map { [sprintf('X-Ordinary-%02d', $_), "value-$_"] } 1 .. $k - 3);
        my $req = "GET /one HTTP/1.1\r\n"
            . join('', map { "$_->[0]: $_->[1]\r\n" } @h)
            . join('', map { "Cookie: $_\r\n" } @cookies) . "\r\n";
        return ($t->raw($req), [map { "$_->[0]: $_->[1]" } @h[3 .. $#h]]);
    };

    for my $k (20, 40) {
        my ($r, $want) = $raw_one->($k, '_ga=1', '_ga=1');
        is($r->status, 200,
            "1. $k headers, then two Cookie: _ga=1 ending the list: proxied");
        my @lines = grep { /^x-ordinary-/i } split /\r\n/, $r->raw_head;
        is_deeply(\@lines, $want,
            "1. $k: every ordinary header arrived, byte for byte, in order");
        is_deeply([$r->raw_cookie_lines], [],
            "1. $k: both Cookie lines removed");
        my @consent = grep { /^consent:/i } split /\r\n/, $r->raw_head;
        is_deeply(\@consent, ['Consent: functional=?0, analytics=?0, '
            . 'advertising=?0, personalization=?0, sharing=?0, gpc=?0, v=0'],
            "1. $k: the Consent header pushed after the removal, once");
    }

    # the Cookie lines spread over parts, first, last and in the middle
    for my $k (18 .. 23, 39, 40, 41) {
        my ($r, $want) = $raw_one->($k, '_ga=1', '_fbp=2; sid=3', '_gid=4');
        my @got = grep { /^x-ordinary-/i } split /\r\n/, $r->raw_head;
        is_deeply(\@got, $want,
            "1. $k headers then three Cookie lines: the others intact");
        is_deeply([$r->raw_cookie_lines], ['sid=3'],
            "1. $k headers: only sid kept");
    }

    for my $n (18 .. 23, 39, 40, 41) {
        my @hh = map { ["X-O-$_", "v$_"] } 1 .. $n;
        my $r = fr('/one', headers => [@hh, [Cookie => '_ga=1'],
            ['X-Mid', 'm'], [Cookie => '_fbp=2; sid=3'], [Cookie => '_gid=4']]);
        my @got = grep { /^x-(?:o-|mid)/i } split /\r\n/, $r->raw_head;
        is_deeply(\@got, [(map { "X-O-$_: v$_" } 1 .. $n), 'X-Mid: m'],
            "1. $n headers, Cookie lines around another: the others intact");
        is_deeply([$r->raw_cookie_lines], ['sid=3'],
            "1. $n headers, Cookie lines around another: only sid kept");
    }
}

# ------------------------------------------------------------ 2

{
    my $ours = 'browsing-topics=(), interest-cohort=()';
    for my $n (8, 200, 2000) {
        my $pp = join ',', map { "f$_=()" } 1 .. $n;
        my $r = fr('/pp/x', headers => [['X-PP' => $pp]]);
        is($r->status, 200, "2. $n bare-comma members: answered");
        my @pp = $r->header_all('Permissions-Policy');
        is(scalar @pp, 1, "2. $n members: one Permissions-Policy");
        is($pp[0], join(', ', map { "f$_=()" } 1 .. $n) . ", $ours",
            "2. $n members: theirs in order, then ours");
        is($r->body, "pp\n", "2. $n members: the body intact");
    }
    is(join(',', $t->worker_pids), $worker, '2. the worker never died');
}

# ------------------------------------------------------------ 3

{
    my $host = join('.', ('a') x 2000) . '.example.com';
    my @cookies = map { "_ga_$_=1" } 1 .. 10;
    my $r = fr('/expire/x', host => $host, cookie => join('; ', @cookies));
    is($r->status, 200, '3. a 4 KB Host of single letters: answered');
    my @sc = sc($r);
    ok(@sc <= 128, '3. at most 128 expiry headers (' . scalar(@sc) . ')');
    ok(head_size($r) < 16_384, '3. the answer head stays small ('
        . head_size($r) . ' bytes)');
    is_deeply(\@sc, [expiries(host => $host, path => '/expire/x',
        names => [map { "_ga_$_" } 1 .. 10])],
        '3. only the registrable domain, the host and two parents');

    # with the operator's names, a foreign Host gets host-only expiries
    $r = fr('/expire-dom/x', host => 'www.attacker.test', cookie => '_ga=1');
    is_deeply([sc($r)],
        [expiries(host => 'localhost', path => '/expire-dom/x',
            names => ['_ga'])],
        '3. consent_cookie_domain: a foreign Host gets no Domain=');
    $r = fr('/expire-dom/x', host => 'a.b.c.www.example.com',
        cookie => '_ga=1');
    is_deeply([sc($r)],
        [expiries(host => 'a.b.c.www.example.com', path => '/expire-dom/x',
            names => ['_ga'], domains => ['example.com'])],
        '3. consent_cookie_domain: its domain and the host, nothing else');

    # many names: capped, and the likeliest places come first
    my @many = map { "_ga_n$_=1" } 1 .. 60;
    $r = fr('/expire/a/b/c/d', host => 'w.shop.example.com',
        cookie => join('; ', @many));
    @sc = sc($r);
    is(scalar @sc, 128, '3. 60 names: capped at 128 headers');
    is($sc[0], '_ga_n1=; Max-Age=0; Path=/', '3. Path=/ host-only first');
    is(scalar(grep { /; Path=\/; Domain=example\.com\z/ } @sc), 32,
        '3. 32 names, each expired on the registrable domain');
    is(join(',', $t->worker_pids), $worker, '3. the worker never died');
}

# ------------------------------------------------------------ 7

{
    my $r = fr('/varcookie/x', cookie => 'sid=1; _ga=2; _fbp=3');
    is_deeply([$r->raw_cookie_lines], ['sid=1'],
        '7. proxy_set_header Cookie $http_cookie read in the server: '
        . 'stripped');
    unlike($r->raw_head, qr/^X-Cookie-Ga:/mi,
        '7. $cookie__ga read in the server, then again: gone');
    $r = fr('/varcookie/x', country => 'US', cookie => 'sid=1; _ga=2');
    like($r->raw_head, qr/^X-Cookie-Ga: 2\r?$/mi,
        '7. $cookie__ga where _ga is granted: there');

    $r = fr('/varcookie/x', country => 'US', cookie => 'sid=1; _ga=2');
    is_deeply([$r->raw_cookie_lines], ['sid=1; _ga=2'],
        '7. US (everything granted): $http_cookie whole');
}

# ------------------------------------------------------------ 8

# the origin's log line for the mirror of $r: once a request sent later
# has its own line, a mirror that went out would have one too
sub mirrored {
    my ($prefix, $r) = @_;
    my $deadline = time + 5 * ConsentTest::time_scale();
    while (time < $deadline) {
        my ($e) = grep { ($_->{req} // '') eq $r->req
                         && ($_->{uri} // '') =~ m{^\Q$prefix\E} }
            $t->log_entries('origin.log');
        return $e if $e;
        my $s = fr('/inc/sentinel');
        $t->origin_log($s);
        ($e) = grep { ($_->{req} // '') eq $r->req
                      && ($_->{uri} // '') =~ m{^\Q$prefix\E} }
            $t->log_entries('origin.log');
        return $e;
    }
    return undef;
}

{
    my $r = fr('/mirror-main/x', cookie => 'sid=1; _ga=2');
    is($r->status, 200, '8. mirror from a consent-on page: 200');
    my $m = mirrored('/mirrored', $r);
    is($m && $m->{cookie}, 'sid=1', '8. the mirror got the stripped cookies');

    $r = fr('/mirror-off/x', cookie => 'sid=1; _ga=2');
    is($r->origin->{cookie}, 'sid=1; _ga=2',
        '8. consent off page: its own request untouched');
    $m = mirrored('/mirrored', $r);
    is($m && $m->{cookie}, 'sid=1',
        '8. its mirror into a consent-on location: stripped');
    like($m && $m->{consent} // '', qr/analytics=\?0/,
        '8. and told the decision');
    my $again = fr('/mirror-off/y', cookie => 'sid=1; _ga=2');
    is($again->origin->{cookie}, 'sid=1; _ga=2',
        '8. the main request\'s headers stay whole');

    $r = fr('/mirror-req/x', cookie => 'sid=1; _ga=2');
    is($r->status, 200, '8. mirror into consent_require: main 200');
    ok(!mirrored('/mirrored-req', $r),
        '8. the refused mirror never reached the origin');

    # subrequests that wait for Redis: the mirror, and two includes at
    # once for the one lookup
    $t->redis_cmd(HSET => 'consent:s:sub1', p => 'analytics', v => 1,
        t => time);
    $r = fr('/mirror-off/w', cookie => 'uid=sub1; sid=1; _ga=2; _fbp=3');
    is($r->origin->{cookie}, 'uid=sub1; sid=1; _ga=2; _fbp=3',
        '8. consent off page with a subject: untouched');
    $m = mirrored('/mirrored', $r);
    is($m && $m->{cookie}, 'uid=sub1; sid=1; _ga=2',
        '8. its mirror waited for the record: _ga granted, _fbp not');

    $t->redis_cmd(HSET => 'consent:s:sub2', p => 'analytics', v => 1,
        t => time);
    $r = fr('/ssi/two.html', cookie => 'uid=sub2; _ga=2; _fbp=3');
    is($r->status, 200, '8. two includes waiting on one lookup: 200');
    my @c = $r->body =~ /cookie=\[([^\]]*)\]/g;
    is_deeply(\@c, ['uid=sub2; _ga=2', 'uid=sub2; _ga=2'],
        '8. both includes got the record\'s answer');

    $r = fr('/ssi/page.html', cookie => 'sid=1; _ga=2');
    is($r->status, 200, '8. SSI page (consent off): 200');
    like($r->body, qr/\[req=.*?cookie=\[sid=1\]/s,
        '8. its include into a consent-on location: stripped');
    like($r->body, qr/\]\[\]\n\z/,
        '8. its include into consent_require: refused (empty)');
}

# ------------------------------------------------------------ 9

{
    for my $case (['/ret', 200, 'return'], ['/redir', 301, 'rewrite '
        . 'permanent'], ['/pixel', 204, 'consent_require\'s 204'],
        ['/consent', 200, 'the consent API']) {
        my ($path, $status, $what) = @$case;
        my $r = fr($path, cookie => 'sid=1');
        is($r->status, $status, "9. $what: $status");
        my @sc = $r->header_all('Set-Cookie');
        ok(!(grep { /^_ga=/ } @sc), "9. $what: add_header _ga dropped");
        ok((grep { /^sid=added/ } @sc), "9. $what: add_header sid kept");
    }

    my $r = $t->get('/x', port => $t->h2_port, host => 'early.example',
        headers => [[Cookie => '_ga=1; sid=2'], ['X-Country' => 'FR']]);
    is($r->status, 200, '9. a server-level return: 200');
    is_deeply([$r->header_all('Set-Cookie')], ['sid=early; Path=/'],
        '9. a server-level return: _ga dropped, sid kept, nothing added');
    ok(!defined $r->header('Permissions-Policy'),
        '9. a server-level return: no header of ours');

    $r = $t->get('/x', port => $t->h2_port, host => 'early.example',
        headers => [[Cookie => 'x=1'], ['X-Country' => 'US']]);
    is(scalar(grep { /^_ga=/ } $r->header_all('Set-Cookie')), 1,
        '9. granted: the same _ga passes');
}

# ------------------------------------------------------------ 11

{
    # a record in Redis that only a lookup finds (a cache miss)
    $t->redis_cmd(HSET => 'consent:s:rw1', p => 'analytics,advertising',
        v => 1, t => time);
    my $r = fr('/rw/x', country => 'FR', cookie => 'uid=rw1');
    is($r->header('X-Rw'), '1|1|redis|0',
        '11. set in the rewrite phase, cache miss: the Redis record');

    $t->redis_cmd(HSET => 'consent:s:rw2', p => 'analytics,advertising',
        v => 1, t => time);
    $r = fr('/rw/x', country => 'FR', cookie => 'uid=rw2',
        headers => [['Sec-GPC' => '1']]);
    is($r->header('X-Rw'), '1|0|redis|1',
        '11. and GPC applied to it');

    $r = fr('/rw/x', country => 'US', headers => [['Sec-GPC' => '1']]);
    is($r->header('X-Rw'), '1|0|default|1', '11. without a record too');

    # in the server block: the record is looked up ahead
    $t->redis_cmd(HSET => 'consent:s:srv1', p => 'analytics', v => 1,
        t => time);
    $r = fr('/srv/x', country => 'FR', cookie => 'uid=srv1');
    is($r->header('X-Srv'), '1|redis',
        '11. set in the server block, cache miss: the Redis record');
}

# ------------------------------------------------------------ 13, 14

{
    my $r = fr('/expire/x', cookie => '_ga_x,sessionid=1; sessionid=abc');
    my @sc = sc($r);
    ok(!(grep { /^sessionid=/ } @sc),
        '13. a tracker named "_ga_x,sessionid": sessionid never expired');
    ok(!(grep { /,/ } map { /\A([^=]*)=/ } @sc),
        '13. no expiry for a name that is not a token');

    $r = fr('/shop/cart/item', cookie => '_ga=1');
    $r = fr('/expire/shop/cart', cookie => '_ga=1');
    @sc = sc($r);
    for my $p ('/', '/expire', '/expire/', '/expire/shop', '/expire/shop/') {
        ok((grep { $_ eq "_ga=; Max-Age=0; Path=$p" } @sc),
            "14. expired for Path=$p");
    }
}

# ------------------------------------------------------------ 16

{
    my $r = $t->raw("GET /args/a%2Fb//c/./d/../e?gclid=1&x=%2F&fbclid=2 "
        . "HTTP/1.1\r\nHost: localhost\r\nX-Country: FR\r\n"
        . "Connection: close\r\n\r\n");
    like($r->raw_head, qr{\AGET /args/a%2Fb//c/\./d/\.\./e\?x=%2F HTTP/1\.[01]\r\n},
        '16. strip_args: only the query changed, the path as sent');

    $r = $t->raw("GET /args/a%2Fb?x=1 HTTP/1.1\r\nHost: localhost\r\n"
        . "X-Country: FR\r\nConnection: close\r\n\r\n");
    like($r->raw_head, qr{\AGET /args/a%2Fb\?x=1 HTTP/1\.[01]\r\n},
        '16. nothing stripped: untouched');

    $r = $t->raw("GET /args/p?gclid=1 HTTP/1.1\r\nHost: localhost\r\n"
        . "X-Country: FR\r\nConnection: close\r\n\r\n");
    like($r->raw_head, qr{\AGET /args/p HTTP/1\.[01]\r\n},
        '16. every argument stripped: no "?" left');
}

# ------------------------------------------------------------ 18

{
    my $long = '_pk_id.' . ('x' x 300);
    my $r = fr('/x', cookie => "$long=1; sid=2");
    is_deeply([$r->raw_cookie_lines], ['sid=2'],
        '18. a regex rule strips a name of 307 bytes');

    $r = $t->raw("GET /x HTTP/1.1\r\nHost: localhost\r\nX-Country: US\r\n"
        . "Sec-GPC:\t1\r\nConnection: close\r\n\r\n");
    is($r->var('gpc'), '1', '18. Sec-GPC:<TAB>1 honoured');
    is($r->var('advertising'), '0', '18. and advertising off');
}

is(join(',', $t->worker_pids), $worker, 'the same worker answered it all');

$t->stop;

# ------------------------------------------------------------ 5 (running)

# a __Host- consent cookie behind a TLS load balancer: nginx itself speaks
# plain HTTP, the cookie must still say Secure or browsers drop it
{
    my $s = ConsentTest->new(
        name   => 'review-secure',
        redis  => 1,
        files  => { keys => keys_line('k1', $K1) },
        http   => std_rules() . <<'EOF',
    consent_keys %%DIR%%/keys;
    consent_cookie __Host-consent secure=on;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
EOF
        server => <<'EOF',
        consent on;
        consent_region FR;
        location = /consent { consent_api; }
        location / {
            proxy_pass %%ORIGIN%%;
            %%VARS_HEADERS%%
        }
EOF
    );
    my $r = $s->get('/consent', method => 'POST',
        body => '{"purposes":["analytics"]}', headers => [
            [Origin => 'http://localhost'],
            ['Content-Type' => 'application/json']]);
    is($r->status, 200, '5. API POST over plain HTTP: 200');
    my ($c) = grep { /^__Host-consent=/ } $r->header_all('Set-Cookie');
    like($c // '', qr/; Path=\/;.*; Secure\z/,
        '5. the __Host- cookie says Secure and Path=/');
    unlike($c // '', qr/Domain=/i, '5. and has no Domain');
    my ($v) = ($c // '') =~ /\A(__Host-consent=[^;]+)/;
    $r = $s->get('/x', headers => [[Cookie => ($v // '') . '; _ga=1']]);
    like($r->var('id'), qr/\A[A-Za-z0-9_-]{22}\z/,
        '5. the next visit is known by the cookie\'s id');
    is($r->origin->{cookie}, ($v // '') . '; _ga=1',
        '5. and analytics is granted');
    $s->stop;
}

done_testing;
