# error_log ... debug answers "why did this happen": which source decided,
# which cookie was stripped and why, which Set-Cookie was dropped, why a
# consent cookie was refused, where a subject's record came from.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256);
use ConsentTest qw(std_rules mint_token keys_line);

plan skip_all => 'nginx built without --with-debug'
    unless `${\ ConsentTest::nginx_bin()} -V 2>&1` =~ /--with-debug/;

my $K1 = sha256('debug-log-key');

my $t = ConsentTest->new(
    name   => 'debug-log',
    redis  => 1,
    files  => { keys => keys_line('k1', $K1) },
    http   => std_rules() . <<'EOF',
    consent_keys %%DIR%%/keys;
    consent_redis 127.0.0.1:%%REDIS_PORT%% timeout=2s;
    consent_zone zone=consent:1m ttl=60s;
EOF
    server => <<'EOF',
        error_log %%DIR%%/debug.log debug;
        consent on;
        consent_region $http_x_country;
        consent_subject $http_x_subject;

        location /sc/ {
            consent off;
            add_header Set-Cookie "_fbp=fb.1; Path=/";
            return 200 "sc\n";
        }

        location / {
            proxy_pass http://127.0.0.1:%%PORT%%/sc/;
        }
EOF
);

sub debug_lines {
    my ($re) = @_;
    return grep { /$re/ } split /\n/, $t->read_file('debug.log');
}

$t->redis_cmd(HSET => 'consent:s:dbg1', p => 'analytics', v => 1,
    t => time);

my $r = $t->get('/x', headers => [[Cookie => 'sid=1; _ga=2; _fbp=3'],
    ['X-Country' => 'FR'], ['X-Subject' => 'dbg1']]);
is($r->status, 200, 'answered');

ok(scalar(debug_lines(qr/consent record of "dbg1" asked of redis/)),
    'debug: the record was asked of Redis');
ok(scalar(debug_lines(qr/consent record of "dbg1" from redis: found/)),
    'debug: and found there');
ok(scalar(debug_lines(
    qr/consent decided by redis: purposes 0x5, regime opt_in/)),
    'debug: which source decided, the purposes and the regime');
ok(scalar(debug_lines(qr/consent stripped cookie "_fbp"/)),
    'debug: which cookie was stripped');
ok(!scalar(debug_lines(qr/consent stripped cookie "_ga"/)),
    'debug: a granted one is not');
ok(scalar(debug_lines(qr/consent dropped Set-Cookie "_fbp"/)),
    'debug: which Set-Cookie was dropped');

$r = $t->get('/x', headers => [[Cookie => 'sid=1'],
    ['X-Country' => 'FR'], ['X-Subject' => 'dbg1']]);
ok(scalar(debug_lines(qr/consent record of "dbg1" from the cache: found/)),
    'debug: the next time, from the cache');

my $tok = mint_token('k1', $K1, 'other', 0x3f, 1, time);
$r = $t->get('/x', headers => [[Cookie => "consent=${tok}x"],
    ['X-Country' => 'FR']]);
ok(scalar(debug_lines(qr/consent cookie rejected: \w/)),
    'info: why a consent cookie was refused');

$r = $t->get('/x', headers => [[Cookie => "consent=$tok"],
    ['X-Country' => 'FR'], ['X-Subject' => 'dbg1']]);
ok(scalar(debug_lines(
    qr/consent cookie of subject "other" ignored: consent_subject differs/)),
    'debug: a cookie of another subject ignored, and why');

$t->stop;

done_testing;
