#!/usr/bin/perl
# What a PHP application reads as cookie names ($_COOKIE) from a Cookie
# header (driver for t/71-origin-parsers.t).  Starts one php-cgi as a
# FastCGI server (the php-fpm code path: HTTP_COOKIE arrives as a FastCGI
# parameter, PHP's treat_data makes $_COOKIE) on a private Unix socket,
# sends it one request per input line, with php_cookies.php as the script.
#
#   perl php_cookies.pl < input > output      (PHP_CGI=/path/to/php-cgi)
#
# Input: one line per request: the HTTP_COOKIE value as hex, or several
# hex values separated by ',' for several HTTP_COOKIE parameters, as
# nginx before 1.23 sends one per Cookie line (PHP keeps the last).
# Output: one line per input line, "ok<TAB>hexname hexname ..." or
# "err<TAB>hexnames<TAB>message" (what PHP wrote to stderr).
# Exit status 3 when php-cgi (Debian php-cgi) is not there.
#
# Core Perl only.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);

my $CGI = $ENV{PHP_CGI} || 'php-cgi';
my $SCRIPT = dirname(__FILE__) . '/php_cookies.php';
$SCRIPT = "$ENV{PWD}/$SCRIPT" if $SCRIPT !~ m{\A/};

unless ($CGI =~ m{/} ? -x $CGI : grep { -x "$_/$CGI" } split /:/, $ENV{PATH}) {
    print STDERR "$CGI is not installed (Debian php-cgi)\n";
    exit 3;
}

my ($version) = `$CGI -v 2>/dev/null` =~ /\A(PHP \S+)/;
print STDERR ($version // 'PHP ?') . " $CGI, FastCGI\n";

my $dir = tempdir('php-cookies-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $sock = "$dir/fcgi.sock";

my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    $ENV{PHP_FCGI_CHILDREN} = 0;             # this process serves
    $ENV{PHP_FCGI_MAX_REQUESTS} = 1000000;   # and does not stop at 500
    exec $CGI, '-b', $sock, '-d', 'display_errors=stderr',
        '-d', 'log_errors=0' or POSIX::_exit(127);
}

END {
    local $?;
    if ($pid) {
        kill 'TERM', $pid;
        my $deadline = time + 5;
        while (waitpid($pid, WNOHANG) == 0 && time < $deadline) {
            sleep 0.01;
        }
        kill 'KILL', $pid if waitpid($pid, WNOHANG) == 0;
    }
}

sub connect_php {
    my $deadline = time + 10;
    while (1) {
        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock);
        return $s if $s;
        die "php-cgi -b $sock: no socket after 10s\n" if time > $deadline;
        die "php-cgi exited (status " . ($? >> 8) . ")\n"
            if waitpid($pid, WNOHANG) == $pid;
        sleep 0.01;
    }
}

sub record {
    my ($type, $content) = @_;
    my $pad = (8 - length($content) % 8) % 8;
    return pack('CCnnCC', 1, $type, 1, length $content, $pad, 0)
        . $content . ("\0" x $pad);
}

sub nv {
    my ($n, $v) = @_;
    my $len = sub { $_[0] < 128 ? pack('C', $_[0]) : pack('N', $_[0] | 0x80000000) };
    return $len->(length $n) . $len->(length $v) . $n . $v;
}

# one FastCGI request; (stdout, stderr) of the script
sub request {
    my (@cookies) = @_;
    my $params = join '',
        nv(SCRIPT_FILENAME => $SCRIPT), nv(SCRIPT_NAME => '/c.php'),
        nv(REQUEST_URI => '/c.php'), nv(REQUEST_METHOD => 'GET'),
        nv(QUERY_STRING => ''), nv(SERVER_PROTOCOL => 'HTTP/1.1'),
        nv(GATEWAY_INTERFACE => 'CGI/1.1'), nv(REDIRECT_STATUS => '200'),
        nv(SERVER_NAME => 'origin'), nv(SERVER_PORT => '80'),
        map { nv(HTTP_COOKIE => $_) } @cookies;
    my $req = record(1, pack('nCx5', 1, 0));    # BEGIN_REQUEST, responder
    while (length $params) {
        $req .= record(4, substr($params, 0, 65535, ''));
    }
    $req .= record(4, '') . record(5, '');

    my $s = connect_php();
    binmode $s;
    print {$s} $req or die "write to php-cgi: $!\n";
    my ($buf, $out, $err) = ('', '', '');
    while (1) {
        while (length $buf >= 8) {
            my ($ver, $type, $id, $clen, $plen) = unpack 'CCnnC', $buf;
            last if length $buf < 8 + $clen + $plen;
            my $c = substr $buf, 8, $clen;
            substr($buf, 0, 8 + $clen + $plen) = '';
            if ($type == 6) { $out .= $c }
            elsif ($type == 7) { $err .= $c }
            elsif ($type == 3) { close $s; return ($out, $err) }
        }
        my $n = sysread $s, $buf, 65536, length $buf;
        die "php-cgi closed the connection mid-answer\n" unless $n;
    }
}

binmode STDOUT;
my @out;
binmode STDIN;
while (my $line = <STDIN>) {
    $line =~ s/\s+\z//;
    my @cookies = map { pack 'H*', $_ } split /,/, $line, -1;
    @cookies = ('') unless @cookies;
    my ($o, $e) = request(@cookies);
    $o =~ s/\A.*?\r\n\r\n//s;      # the CGI head
    $o =~ s/\s+\z//;
    if (length $e) {
        $e =~ s/[\t\r\n]+/ /g;
        push @out, "err\t$o\t$e\n";
    } else {
        push @out, "ok\t$o\n";
    }
}
print @out;
