#!/usr/bin/perl
# A Redis that answers garbage: protocol errors, oversized and wrongly
# typed replies, silence, a dropped connection.  Every request is answered
# with the fail policy, the worker survives, the errors are logged, and
# lookups come back once the server answers properly again.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use IO::Select;
use POSIX ();

use ConsentTest;

# the fake server: speaks enough RESP for the handshake and HGETALL

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 16, ReuseAddr => 1) or die "listen: $!";
my $fake_port = $srv->sockport;

my %answer = (
    'consent:s:ok'      => "*2\r\n\$1\r\np\r\n\$9\r\nanalytics\r\n",
    'consent:s:garbage' => "%%%not resp at all\r\n",
    'consent:s:huge'    => "\$2000000\r\n" . ('x' x 2000000) . "\r\n",
    'consent:s:int'     => ":42\r\n",
    'consent:s:odd'     => "*3\r\n\$1\r\np\r\n\$1\r\nx\r\n\$1\r\ny\r\n",
    'consent:s:nested'  => "*2\r\n\$1\r\np\r\n*1\r\n\$1\r\nx\r\n",
    'consent:s:deep'    => ("*1\r\n" x 20) . ":1\r\n",
    'consent:s:nul'     => "*2\r\n\$1\r\np\r\n\$10\r\nanal\0ytics\r\n",
);

my $parent = $$;
my $fake = fork;
die "fork: $!" unless defined $fake;

if ($fake == 0) {
    $SIG{TERM} = sub { POSIX::_exit(0) };
    $SIG{PIPE} = "IGNORE";
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    my $sel = IO::Select->new($srv);
    my %buf;
    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        for my $fh ($sel->can_read(0.5)) {
            if ($fh == $srv) {
                my $c = $srv->accept or next;
                $sel->add($c);
                $buf{$c} = '';
                next;
            }
            my $n = sysread $fh, $buf{$fh}, 65536, length $buf{$fh};
            if (!$n) {
                $sel->remove($fh);
                delete $buf{$fh};
                close $fh;
                next;
            }
            # whole commands only: *N\r\n ($len\r\narg\r\n)xN
            while ($buf{$fh} =~ /\A\*(\d+)\r\n/) {
                my $argc = $1;
                my $pos = length("*$argc\r\n");
                my @argv;
                for (1 .. $argc) {
                    last unless substr($buf{$fh}, $pos) =~ /\A\$(\d+)\r\n/;
                    my $len = $1;
                    $pos += length("\$$len\r\n");
                    last if length($buf{$fh}) < $pos + $len + 2;
                    push @argv, substr($buf{$fh}, $pos, $len);
                    $pos += $len + 2;
                }
                last if @argv < $argc;
                substr($buf{$fh}, 0, $pos) = '';
                my $cmd = uc $argv[0];
                my $out;
                if ($cmd eq 'PING') {
                    $out = "+PONG\r\n";
                } elsif ($cmd eq 'SUBSCRIBE') {
                    $out = "*3\r\n\$9\r\nsubscribe\r\n\$"
                        . length($argv[1]) . "\r\n$argv[1]\r\n:1\r\n";
                } elsif ($cmd eq 'HGETALL' && $argv[1] eq 'consent:s:close') {
                    $sel->remove($fh);
                    close $fh;
                    last;
                } elsif ($cmd eq 'HGETALL' && $argv[1] eq 'consent:s:silent') {
                    next;
                } elsif ($cmd eq 'HGETALL') {
                    $out = $answer{$argv[1]} // "*0\r\n";
                } else {
                    $out = "+OK\r\n";
                }
                my $off = 0;
                while ($off < length $out) {
                    my $w = syswrite $fh, $out, length($out) - $off, $off;
                    last unless defined $w;
                    $off += $w;
                }
            }
        }
    }
}
close $srv;

my $t = ConsentTest->new(
    name  => 'redis-garbage',
    http  => <<"EOF",
    consent_rule _ga analytics google-analytics;
    consent_rule _fbp advertising meta;
    consent_redis 127.0.0.1:$fake_port timeout=300ms;
EOF
    server => <<'EOF',
    consent on;
    consent_region $http_x_country;
    consent_subject $cookie_uid;
    %%VARS_HEADERS%%
    location / { proxy_pass %%ORIGIN%%; }
EOF
);

sub visit {
    my ($uid) = @_;
    my $t0 = time;
    my $r = $t->get('/', headers => [[Cookie => "uid=$uid; _ga=1; _fbp=2"],
        ['X-Country' => 'US']]);
    return ($r, time - $t0);
}

sub recovered {
    my $deadline = time + 8;
    my $r;
    while (1) {
        ($r) = visit('ok');
        return 1 if $r->var('source') eq 'redis';
        return 0 if time > $deadline;
        sleep 0.05;
    }
}

my ($r, $dt) = visit('ok');
is($r->var('source'), 'redis', 'the fake server answers a good record');
is($r->origin->{cookie}, 'uid=ok; _ga=1', 'and it applies');

for my $case (
    [garbage => qr/protocol error/],
    [huge    => qr/reply too large/],
    [deep    => qr/protocol error/],
    [close   => qr/connection closed/],
    [silent  => qr/timed out/],
) {
    my ($uid, $log) = @$case;
    ($r, $dt) = visit($uid);
    is($r->status, 200, "$uid: answered");
    is($r->var('source'), 'fail', "$uid: fail policy");
    is($r->origin->{cookie}, "uid=$uid", "$uid: fail closed strips all");
    cmp_ok($dt, '<', 0.3 + 0.7, "$uid: within timeout + margin");
    ok(scalar $t->error_log_grep($log), "$uid: logged");
    ok(recovered(), "$uid: lookups recover by themselves");
}

# wrong shapes that are still valid RESP: the connection stays, the record
# is refused
for my $uid (qw(int odd nested)) {
    ($r) = visit($uid);
    is($r->var('source'), 'fail', "$uid: malformed record refused");
    ($r) = visit('ok');
    is($r->var('source'), 'redis', "$uid: the connection was kept");
}

($r) = visit('nul');
is($r->var('source'), 'redis', 'NUL inside a purpose name: record used');
is($r->var('purposes'), 'necessary', 'the mangled name grants nothing');

ok(kill(0, $t->{pids}{nginx}), 'nginx still running');
$t->stop;

kill 'TERM', $fake;
waitpid $fake, 0;

done_testing();
