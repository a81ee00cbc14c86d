#!/usr/bin/perl
# The harness itself: a port it picked that someone else binds first
# (another test file under prove -j, a benchmark) makes the first start
# pick new ports and try again, for redis-server (the port answers, but
# not as this redis-server: an HTTP server took it) and for nginx (bind()
# fails), and leaves no trace of the failed attempt in error.log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use POSIX ();
use ConsentTest qw(std_rules);
my %l = (LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5,
    ReuseAddr => 1);
my $http = IO::Socket::INET->new(%l) or die "listen: $!";
my $idle = IO::Socket::INET->new(%l) or die "listen: $!";

# an HTTP server on the port the harness will give redis-server
my $kid = fork;
die "fork: $!" unless defined $kid;
if ($kid == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    while (my $c = $http->accept) {
        <$c>;
        print $c "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        close $c;
    }
    POSIX::_exit(0);
}

# the first pick gives redis-server a taken port, the second nginx one
my $picks = 0;
{
    no warnings 'redefine';
    my $pick = \&ConsentTest::_alloc_ports;
    *ConsentTest::_alloc_ports = sub {
        my @p = $pick->(@_);
        $picks++;
        $p[3] = $http->sockport if $picks == 1;
        $p[0] = $idle->sockport if $picks == 2;
        return @p;
    };
}

my $t = eval {
    ConsentTest->new(name => 'ports', redis => 1,
        http => std_rules() . "    consent_redis 127.0.0.1:%%REDIS_PORT%%;\n",
        server => "        consent on;\n        consent_region FR;\n"
            . "        location / { proxy_pass %%ORIGIN%%; }\n");
};
is($@, '', 'started although two of the ports it picked were taken');
is($picks, 3, 'by picking ports twice more');

SKIP: {
    skip 'not started', 4 unless $t;
    isnt($t->redis_port, $http->sockport, 'redis-server on a port of its own');
    isnt($t->port, $idle->sockport, 'nginx on a port of its own');
    is($t->redis_cmd('PING'), 'PONG', 'the test talks to its redis-server');
    is($t->get('/')->status, 200, 'and to its nginx');
    $t->stop;
}

kill 'KILL', $kid;
waitpid $kid, 0;

done_testing;
