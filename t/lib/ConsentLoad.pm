package ConsentLoad;

# Continuous HTTP/1.1 keep-alive load against a ConsentTest instance, from
# forked client processes, for tests that change things under load
# (reloads, Redis failures).  Core Perl only.
#
#   my $load = ConsentLoad->start($t,
#       clients => 4,                 # processes, one connection each
#       min     => 500,               # requests each before stop() ends it
#       request => sub { my ($client, $seq) = @_; return ($path, @headers) },
#                     # or ({ method => 'POST', path => $p, body => $b,
#                     #      headers => [[Name => $value], ...] })
#       fields  => ['X-Pid', 'X-C-Source'],   # response headers to record
#   );
#   $load->wait_count(400);           # until 400 responses in all
#   ... break something ...
#   my @r = $load->stop;              # every request's record, in order
#
# A record is a hash: client, seq, t0, t1 (send and answer times), status
# (0: no answer), complete (a whole response: status line, headers, a body
# of Content-Length bytes or all its chunks), retried (see below), error,
# cookie (what the nginx origin echoed as cookie=[...], undef if absent),
# and each of fields by name (undef when the header is absent).
#
# Keep-alive: a request on a reused connection that the server closed
# before sending one byte of the answer is sent again once on a new
# connection, as HTTP clients do (RFC 9112 9.3.1): that is how a graceful
# worker shutdown closes idle keep-alive connections, not a failure.  Such
# records have retried = 1.  Everything else that is not a complete answer
# is recorded as a failure.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

use ConsentTest qw(time_scale);

sub start {
    my ($class, $t, %a) = @_;
    my $self = bless {
        t       => $t,
        clients => $a{clients} || 4,
        min     => $a{min} // 100,
        max     => $a{max} // 1_000_000,
        request => $a{request} || sub { ('/') },
        fields  => $a{fields} || [],
        port    => $a{port} || $t->port,
        stop    => $t->dir . "/load-stop.$$." . int(rand 1e9),
        files   => [],
        pids    => [],
    }, $class;
    unlink $self->{stop};

    for my $c (1 .. $self->{clients}) {
        my $file = $t->dir . "/load-$$-$c-" . int(rand 1e9) . '.tsv';
        open my $touch, '>', $file or die "$file: $!";
        close $touch;
        push @{ $self->{files} }, $file;
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            # never returns: no END blocks (they would stop nginx), no TAP
            my $ok = eval { $self->_client($c, $file); 1 };
            POSIX::_exit($ok ? 0 : 1);
        }
        push @{ $self->{pids} }, $pid;
    }
    return $self;
}

# responses recorded so far, all clients; count(200): those with that
# status
sub count {
    my ($self, $status) = @_;
    my $n = 0;
    for my $f (@{ $self->{files} }) {
        open my $fh, '<', $f or next;
        # not "while <$fh>": that assigns $_, which a caller's
        # "for values %loads" aliases to a load object
        while (defined(my $l = <$fh>)) {
            $n++ if !defined $status || (split /\t/, $l)[4] eq $status;
        }
        close $fh;
    }
    return $n;
}

# until n responses in all (or the deadline); returns the count;
# wait_count(n, secs, status): n responses with that status
sub wait_count {
    my ($self, $n, $secs, $status) = @_;
    my $deadline = time + ($secs // 60) * time_scale();
    my $c;
    while (($c = $self->count($status)) < $n && time < $deadline) {
        sleep 0.05;
    }
    return $c;
}

# tell the clients to finish (each does at least min requests), wait for
# them, return all records sorted by send time
sub stop {
    my ($self) = @_;
    open my $fh, '>', $self->{stop} or die "$self->{stop}: $!";
    close $fh;
    my $deadline = time + 120 * time_scale();
    my %left = map { $_ => 1 } @{ $self->{pids} };
    while (%left && time < $deadline) {
        for my $pid (keys %left) {
            delete $left{$pid} if waitpid($pid, POSIX::WNOHANG()) == $pid;
        }
        sleep 0.02 if %left;
    }
    for my $pid (keys %left) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    $self->{killed} = scalar keys %left;
    unlink $self->{stop};

    my @fields = @{ $self->{fields} };
    my @r;
    for my $f (@{ $self->{files} }) {
        open my $in, '<', $f or next;
        while (my $l = <$in>) {
            chomp $l;
            my @v = map { $_ eq '\N' ? undef : _unesc($_) } split /\t/, $l, -1;
            my %rec;
            @rec{qw(client seq t0 t1 status complete retried error cookie)}
                = splice @v, 0, 9;
            @rec{@fields} = @v;
            push @r, \%rec;
        }
        close $in;
        unlink $f;
    }
    return sort { $a->{t0} <=> $b->{t0} } @r;
}

# clients that did not finish by themselves and had to be killed
sub killed { $_[0]{killed} // 0 }

sub _esc {
    my ($v) = @_;
    return '\N' unless defined $v;
    $v =~ s/([\\\t\n\r\x00])/sprintf '\\x%02x', ord $1/ge;
    return $v;
}

sub _unesc {
    my ($v) = @_;
    $v =~ s/\\x([0-9a-f]{2})/chr hex $1/ge;
    return $v;
}

sub _connect {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $self->{port},
        Proto    => 'tcp',
        Timeout  => 5 * time_scale(),
    ) or return undef;
    binmode $s;
    return $s;
}

# one exchange on $s: (record fields, keep the connection?)
sub _exchange {
    my ($self, $s, $req) = @_;
    my %r = (status => 0, complete => 0, got => 0);

    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite $s, $req, length($req) - $off, $off;
        unless ($n) {
            $r{error} = "write: $!";
            return (\%r, 0);
        }
        $off += $n;
    }

    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + 10 * time_scale();
    my ($head_len, $need, $chunked, $close);

    while (1) {
        if (!defined $head_len && (my $i = index $buf, "\r\n\r\n") >= 0) {
            $head_len = $i + 4;
            my $head = substr $buf, 0, $i;
            ($r{status}) = $head =~ m{\AHTTP/1\.[01] (\d{3}) };
            $r{status} //= 0;
            $r{head} = $head;
            $close = $head =~ /^Connection:[ \t]*close/mi;
            if ($head =~ /^Transfer-Encoding:[ \t]*chunked/mi) {
                $chunked = 1;
            } elsif ($head =~ /^Content-Length:[ \t]*(\d+)/mi) {
                $need = $1;
            } else {
                $need = 0;    # no body expected from our servers
            }
        }
        if (defined $head_len) {
            my $body = substr $buf, $head_len;
            if ($chunked) {
                my ($ok, $decoded) = _dechunk($body);
                if ($ok) {
                    $r{body} = $decoded;
                    $r{complete} = 1;
                    last;
                }
            } elsif (length $body >= $need) {
                $r{body} = substr $body, 0, $need;
                $r{complete} = length $body == $need ? 1 : 0;
                $r{error} = 'extra bytes after the body' unless $r{complete};
                last;
            }
        }
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $r{error} = 'timeout';
            return (\%r, 0);
        }
        my $n = sysread $s, $buf, 65536, length $buf;
        if (!$n) {
            $r{error} = defined $n ? 'closed' : "read: $!";
            $r{got} = length $buf;
            return (\%r, 0);
        }
        $r{got} = length $buf;
    }
    return (\%r, !$close);
}

sub _dechunk {
    my ($b) = @_;
    my $out = '';
    while (1) {
        return (0) unless $b =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//;
        my $n = hex $1;
        if ($n == 0) {
            return (0) unless $b =~ /\A\r\n/;
            return (1, $out);
        }
        return (0) if length $b < $n + 2;
        $out .= substr $b, 0, $n;
        substr($b, 0, $n + 2) = '';
    }
}

sub _client {
    my ($self, $c, $file) = @_;
    $SIG{PIPE} = 'IGNORE';
    open my $out, '>>', $file or die "$file: $!";
    $out->autoflush(1);
    my @fields = @{ $self->{fields} };
    my ($s, $used);
    my $seq = 0;
    my $deadline = time + 300 * time_scale();

    while ($seq < $self->{max} && time < $deadline) {
        last if $seq >= $self->{min} && -e $self->{stop};
        $seq++;
        my ($path, @h) = $self->{request}->($c, $seq);
        my ($method, $body) = ('GET', '');
        if (ref $path eq 'HASH') {
            ($method, $body, @h) = ($path->{method} // 'GET',
                $path->{body} // '', @{ $path->{headers} || [] });
            $path = $path->{path};
        }
        push @h, ['Content-Length' => length $body] if length $body;
        my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
            . "X-Req: load-$c-$seq\r\n"
            . join('', map { ref $_ ? "$_->[0]: $_->[1]\r\n" : "$_\r\n" } @h)
            . "\r\n$body";

        my $t0 = time;
        my ($r, $keep, $retried) = (undef, 0, 0);
        for my $try (1, 2) {
            unless ($s) {
                $s = $self->_connect;
                $used = 0;
                unless ($s) {
                    $r = { status => 0, complete => 0, error => "connect: $!" };
                    last;
                }
            }
            my $reused = $used;
            ($r, $keep) = $self->_exchange($s, $req);
            $used = 1;
            if (!$keep) {
                close $s;
                undef $s;
            }
            last if $r->{complete} || !$reused || $r->{got} || $try == 2;
            $retried = 1;
        }
        my $t1 = time;

        my %h;
        for my $l (split /\r\n/, $r->{head} // '') {
            my ($k, $v) = $l =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
            $h{ lc $k } //= $v;
        }
        my ($cookie) = ($r->{body} // '') =~ /^cookie=\[(.*)\]$/m;
        print $out join("\t", map { _esc($_) } $c, $seq,
            sprintf('%.6f', $t0), sprintf('%.6f', $t1), $r->{status},
            $r->{complete} ? 1 : 0, $retried, $r->{error}, $cookie,
            map { $h{ lc $_ } } @fields), "\n";
    }
    close $out;
}

1;
