#!/usr/bin/perl
# Reaching Redis: AUTH with a password and with an ACL user (from
# password_file), a refused password, a unix socket, and db=.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::UNIX;

use ConsentTest;

my $pass = 'pa55-w0rd';

# one redis-server for all cases: a password, an ACL user, a unix socket
my $r0 = ConsentTest->new(name => 'redis-auth-server', start => 0);
my $dir = $r0->dir;
my $sock = "$dir/redis.sock";

my $pid = $r0->_spawn("$dir/redis.stdout", 'redis-server',
    '--port', $r0->redis_port, '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', $dir, '--requirepass', $pass,
    '--unixsocket', $sock, '--unixsocketperm', '777',
    '--logfile', "$dir/redis.log");
my $err = $r0->_wait_ports($pid, $r0->redis_port);
die "redis-server: $err" if defined $err;
$r0->{pids}{redis} = $pid;

sub rcli {
    my @out = `redis-cli -p @{[ $r0->redis_port ]} -a '$pass' --no-auth-warning @_ 2>&1`;
    chomp @out;
    return join "\n", @out;
}

is(rcli('PING'), 'PONG', 'redis-server with requirepass is up');
rcli('ACL SETUSER consent on ">acl-secret" "~consent:*" "&consent:*" '
    . '+hgetall +ping +subscribe +select');
rcli('HSET consent:s:u1 p analytics');
rcli('-n 3 HSET consent:s:u1 p advertising');

my %common = (
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

sub instance {
    my ($name, $redis, $secret) = @_;
    my $rules = "consent_rule _ga analytics google-analytics;\n"
        . "consent_rule _fbp advertising meta;\n";
    return ConsentTest->new(
        name  => $name,
        files => { secret => $secret // '' },
        http  => $rules . "consent_redis $redis timeout=300ms;\n",
        %common,
    );
}

sub visit {
    my ($t) = @_;
    return $t->get('/', headers => [[Cookie => 'uid=u1; _ga=1; _fbp=2'],
        ['X-Country' => 'FR']]);
}

my $port = $r0->redis_port;

my $t = instance('redis-password',
    "127.0.0.1:$port password_file=%%DIR%%/secret", "$pass\n");
my $r = visit($t);
is($r->var('source'), 'redis', 'AUTH with a password: lookup works');
is($r->origin->{cookie}, 'uid=u1; _ga=1', 'record from db 0');
$t->stop;

$t = instance('redis-acl',
    "127.0.0.1:$port password_file=%%DIR%%/secret", "consent acl-secret\n");
$r = visit($t);
is($r->var('source'), 'redis', 'AUTH as an ACL user: lookup works');
$t->stop;

$t = instance('redis-bad-password',
    "127.0.0.1:$port password_file=%%DIR%%/secret", "wrong\n");
$r = visit($t);
is($r->status, 200, 'refused password: still answered');
is($r->var('source'), 'fail', 'refused password: fail policy');
ok(scalar $t->error_log_grep(qr/handshake refused: .*(WRONGPASS|invalid)/),
    'the refusal is logged with what Redis said');
$t->stop;

$t = instance('redis-noauth', "127.0.0.1:$port");
$r = visit($t);
is($r->var('source'), 'fail', 'no password given: fail policy');
ok(scalar $t->error_log_grep(qr/NOAUTH/), 'NOAUTH logged');
$t->stop;

$t = instance('redis-unix', "unix:$sock password_file=%%DIR%%/secret",
    "$pass\n");
$r = visit($t);
is($r->var('source'), 'redis', 'unix socket: lookup works');
is($r->origin->{cookie}, 'uid=u1; _ga=1', 'unix socket: record applies');
$t->stop;

$t = instance('redis-db', "unix:$sock db=3 password_file=%%DIR%%/secret",
    "$pass\n");
$r = visit($t);
is($r->var('source'), 'redis', 'db=3: lookup works');
is($r->origin->{cookie}, 'uid=u1; _fbp=2', 'db=3: the record of db 3');
$t->stop;

# configuration errors are caught by nginx -t

my $c = ConsentTest->new(name => 'redis-conf', start => 0,
    http => "consent_redis 127.0.0.1:$port password_file=%%DIR%%/none;\n",
    %common);
my ($rc, $out) = $c->nginx_t;
isnt($rc, 0, 'missing password file fails nginx -t');
like($out, qr/none.*failed|No such file/, 'and names the file');

$c->{http} = "consent_redis 127.0.0.1:$port timeout=abc;\n";
$c->write_config;
($rc, $out) = $c->nginx_t;
isnt($rc, 0, 'bad timeout fails nginx -t');
like($out, qr/invalid parameter "timeout=abc"/, 'and names the parameter');

$r0->stop;
done_testing();
