package ConsentCluster;

# Redis replication and Sentinel for the tests, core Perl only: a primary,
# its replicas and the Sentinels that monitor it, each a redis-server of
# its own on a free port of 127.0.0.1, configured and logging in a
# temporary directory (kept with CONSENT_KEEP=1, as ConsentTest's).
#
#   use lib 't/lib';
#   use ConsentCluster;
#
#   my $c = ConsentCluster->new(
#       replicas  => 2,                 # default 1
#       sentinels => 3,                 # default 3
#       password  => 'x',               # requirepass and masterauth on the
#                                       # data nodes, auth-pass for Sentinel
#       sentinel_password => 'y',       # requirepass and sentinel-pass on
#                                       # the Sentinels
#       down_after => 1000,             # ms, failover_timeout => 5000,
#       quorum     => 2,                # master_name => 'consent'
#   );
#   $c->redis_ports;         # the data nodes; [0] is the first primary
#   $c->sentinel_ports;  $c->sentinel_list;   # "127.0.0.1:P1,127.0.0.1:P2"
#   $c->master_name;         # "consent"
#   $c->cmd($port, @args);   # one command, one reply (AUTH first when the
#                            # node or Sentinel has a password)
#   $c->primary_port;        # as the first Sentinel that answers says
#   $c->failover;            # SENTINEL FAILOVER (forced, at once)
#   $c->kill_primary;        # SIGKILL the primary
#   my ($port, $secs) = $c->wait_failover($timeout);
#   $c->wait_role($port, 'slave');
#   my $t = $c->edge(name => 'a', extra => 'consent_redis_read ...;');
#                            # an nginx edge node (ConsentTest) on this
#                            # cluster, see edge()
#   $c->consentctl(@args);   # consentctl through the Sentinels: { rc, out,
#                            # err }, as ConsentTest's (one test)
#   my $p = $c->fake_server(SENTINEL => \":1\r\n");   # a server that
#                            # answers what it is told to (see fake_server)
#   $c->stop;                # everything; also when the object goes away
#                            # and at END
#
# new() returns once every replica reports master_link_status:up and every
# Sentinel knows the master, sees every replica connected and every other
# Sentinel: a failover can start at once.  Each process logs to DIR
# (redis-N.log, sentinel-N.log; their configurations redis-N.conf and
# sentinel-N.conf, which Sentinel rewrites).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Test::More ();
use Time::HiRes qw(time sleep);

use ConsentTest ();

my @CLUSTERS;

# a test killed by a signal still stops what it started (END runs on
# exit, not on a signal's default action; PIPE: its output piped into a
# reader that went away); a handler of the test's own is left alone
my %SIGNO = (HUP => 1, INT => 2, PIPE => 13, TERM => 15);
for my $sig (sort keys %SIGNO) {
    next if defined $SIG{$sig} && $SIG{$sig} ne 'DEFAULT';
    $SIG{$sig} = sub { exit 128 + $SIGNO{$sig} };
}

sub new {
    my ($class, %a) = @_;
    my $sentinels = $a{sentinels} // 3;
    my $self = bless {
        replicas    => $a{replicas} // 1,
        sentinels   => $sentinels,
        master_name => $a{master_name} // 'consent',
        quorum      => $a{quorum} // ($sentinels < 2 ? 1 : 2),
        down_after  => $a{down_after} // 1000,
        failover_timeout => $a{failover_timeout} // 5000,
        password    => $a{password},
        sentinel_password => $a{sentinel_password},
        dir         => tempdir('consent-cluster-XXXXXX', TMPDIR => 1,
                           CLEANUP => !$ENV{CONSENT_KEEP}),
        pids        => {},
        owner       => $$,
    }, $class;

    for my $k (qw(password sentinel_password master_name)) {
        die "ConsentCluster: $k must be [A-Za-z0-9._-]+\n"
            if defined $self->{$k} && $self->{$k} !~ /\A[A-Za-z0-9._-]+\z/;
    }
    die "ConsentCluster: at least one Sentinel\n" if $sentinels < 1;

    chmod 0755, $self->{dir};
    push @CLUSTERS, $self;
    weaken($CLUSTERS[-1]);

    $self->_write_password('password', 'password');
    $self->_write_password('sentinel_password', 'sentinel-password');

    $self->_first_start;
    return $self;
}

sub dir            { $_[0]{dir} }
sub master_name    { $_[0]{master_name} }
sub redis_ports    { @{ $_[0]{redis_ports} } }
sub sentinel_ports { @{ $_[0]{sentinel_ports} } }
sub sentinel_list  { join ',', map { "127.0.0.1:$_" } $_[0]->sentinel_ports }
sub replica_count  { $_[0]{replicas} }
# password files in consentctl's form ("password" on one line), or undef
sub password_file          { $_[0]{password_file} }
sub sentinel_password_file { $_[0]{sentinel_password_file} }
# the primary as of the last start or wait_failover
sub known_primary  { $_[0]{primary} }

sub read_file { ConsentTest::read_file(@_) }

sub _write_password {
    my ($self, $key, $name) = @_;
    return unless defined $self->{$key};
    my $path = "$self->{dir}/$name";
    open my $fh, '>', $path or die "write $path: $!";
    print $fh "$self->{$key}\n";
    close $fh;
    $self->{"${key}_file"} = $path;
}

sub _deadline { time + ($_[0] // 30) * ConsentTest::time_scale() }

# a whole number of seconds a command may take
sub _cmd_timeout { int(10 * ConsentTest::time_scale()) + 1 }

# ---------------------------------------------------------------- start

# Ports are picked free and bound a little later: another process may
# take one in between.  Then everything stops and starts again on new
# ports, as ConsentTest's first start does.
sub _first_start {
    my ($self) = @_;
    for my $try (1 .. 5) {
        my $n = $self->{replicas} + 1 + $self->{sentinels};
        my @p = ConsentTest::_alloc_ports($n);
        $self->{redis_ports} = [splice @p, 0, $self->{replicas} + 1];
        $self->{sentinel_ports} = \@p;
        $self->{primary} = $self->{redis_ports}[0];
        my $ok = eval { $self->_start_all; 1 };
        return if $ok;
        my $err = $@;
        $self->stop;
        die $err if $try == 5 || $err !~ /Address already in use|not ours/;
        unlink glob "$self->{dir}/*.log";
    }
}

sub _start_all {
    my ($self) = @_;
    my @ports = $self->redis_ports;

    for my $i (0 .. $#ports) {
        $self->_start_node($i);
    }
    $self->_wait_until(sub { $self->_replicas_linked }, 'every replica '
        . 'reports master_link_status:up');

    for my $i (0 .. $self->{sentinels} - 1) {
        $self->_start_sentinel($i);
    }
    $self->_wait_until(sub { $self->_sentinels_ready },
        'every Sentinel knows the master, its replicas and the other '
        . 'Sentinels');
    $self->{started} = 1;
}

sub _node_conf {
    my ($self, $i) = @_;
    my $port = $self->{redis_ports}[$i];
    my $d = "$self->{dir}/redis-$i";
    make_path($d);
    my $conf = <<"EOF";
port $port
bind 127.0.0.1
daemonize no
dir $d
logfile $self->{dir}/redis-$i.log
save ""
appendonly no
repl-diskless-sync yes
repl-diskless-sync-delay 0
EOF
    if (defined $self->{password}) {
        $conf .= "requirepass $self->{password}\n"
            . "masterauth $self->{password}\n";
    }
    $conf .= "replicaof 127.0.0.1 $self->{redis_ports}[0]\n" if $i;
    return $conf;
}

sub _sentinel_conf {
    my ($self, $i) = @_;
    my $port = $self->{sentinel_ports}[$i];
    my $name = $self->{master_name};
    my $d = "$self->{dir}/sentinel-$i";
    make_path($d);
    my $conf = <<"EOF";
port $port
bind 127.0.0.1
daemonize no
dir $d
logfile $self->{dir}/sentinel-$i.log
sentinel resolve-hostnames no
sentinel monitor $name 127.0.0.1 $self->{redis_ports}[0] $self->{quorum}
sentinel down-after-milliseconds $name $self->{down_after}
sentinel failover-timeout $name $self->{failover_timeout}
sentinel parallel-syncs $name 1
EOF
    $conf .= "sentinel auth-pass $name $self->{password}\n"
        if defined $self->{password};
    if (defined $self->{sentinel_password}) {
        $conf .= "requirepass $self->{sentinel_password}\n"
            . "sentinel sentinel-pass $self->{sentinel_password}\n";
    }
    return $conf;
}

sub _write {
    my ($self, $name, $text) = @_;
    my $path = "$self->{dir}/$name";
    open my $fh, '>', $path or die "write $path: $!";
    print $fh $text;
    close $fh;
    return $path;
}

# a redis-server (the node, or with --sentinel a Sentinel) on its port,
# checked to be the one answering there
sub _spawn_server {
    my ($self, $key, $port, $log, @cmd) = @_;
    my $pid = ConsentTest::_spawn($self, "$self->{dir}/$key.stdout",
        'redis-server', @cmd);
    my $err = ConsentTest::_wait_ports($self, $pid, $port);
    die "$key on port $port did not start: $err\n"
        . $self->read_file($log) . $self->read_file("$key.stdout")
        if defined $err;
    $self->{pids}{$key} = $pid;
    $self->{port_of}{$key} = $port;
    my $info = eval { $self->cmd($port, 'INFO', 'server') } // '';
    if ($info !~ /^process_id:$pid\r?$/m) {
        die "$key: port $port is not ours: "
            . ($@ || $self->read_file($log));
    }
}

sub _start_node {
    my ($self, $i) = @_;
    my $conf = $self->_write("redis-$i.conf", $self->_node_conf($i));
    $self->_spawn_server("redis-$i", $self->{redis_ports}[$i],
        "redis-$i.log", $conf);
}

sub _start_sentinel {
    my ($self, $i) = @_;
    my $conf = $self->_write("sentinel-$i.conf", $self->_sentinel_conf($i));
    $self->_spawn_server("sentinel-$i", $self->{sentinel_ports}[$i],
        "sentinel-$i.log", $conf, '--sentinel');
}

# poll $check (true when done) until the deadline; dies naming what was
# waited for, with the logs' tails
sub _wait_until {
    my ($self, $check, $what, $secs) = @_;
    my $deadline = _deadline($secs);
    while (1) {
        my $ok = eval { $check->() };
        return 1 if $ok;
        if (time > $deadline) {
            die "ConsentCluster: timed out waiting until $what"
                . ($@ ? ": $@" : "\n") . $self->log_tails;
        }
        sleep 0.05;
    }
}

# the last lines of every log, for a message
sub log_tails {
    my ($self, $lines) = @_;
    $lines //= 15;
    my $out = '';
    for my $f (sort glob "$self->{dir}/*.log") {
        my @l = split /^/, $self->read_file($f);
        @l = @l[-$lines .. -1] if @l > $lines;
        $out .= "--- $f\n" . join '', @l;
    }
    return $out;
}

sub _info {
    my ($self, $port, $section) = @_;
    my $info = $self->cmd($port, 'INFO', $section);
    my %h;
    $h{$1} = $2 while defined $info && !ref $info
        && $info =~ /^([a-z_0-9]+):(.*?)\r?$/mg;
    return \%h;
}

sub _replicas_linked {
    my ($self) = @_;
    my @ports = $self->redis_ports;
    for my $p (@ports[1 .. $#ports]) {
        return 0 unless ($self->_info($p, 'replication')->{master_link_status}
            // '') eq 'up';
    }
    return 1;
}

# SENTINEL replicas / sentinels: a list of { field => value }
sub _sentinel_list {
    my ($self, $port, $what) = @_;
    my $r = $self->cmd($port, 'SENTINEL', $what, $self->{master_name});
    return () unless ref $r eq 'ARRAY';
    return map { ref $_ eq 'ARRAY' ? { @$_ } : {} } @$r;
}

sub _sentinels_ready {
    my ($self) = @_;
    my $primary = $self->{primary};
    for my $p ($self->sentinel_ports) {
        my $a = $self->cmd($p, 'SENTINEL', 'get-master-addr-by-name',
            $self->{master_name});
        return 0 unless ref $a eq 'ARRAY' && ($a->[1] // '') eq $primary;
        my @r = grep { ($_->{flags} // '') eq 'slave'
                && ($_->{'master-link-status'} // '') eq 'ok' }
            $self->_sentinel_list($p, 'replicas');
        return 0 unless @r == $self->{replicas};
        my @s = grep { ($_->{flags} // '') eq 'sentinel' }
            $self->_sentinel_list($p, 'sentinels');
        return 0 unless @s == $self->{sentinels} - 1;
    }
    return 1;
}

# ---------------------------------------------------------------- commands

sub _is_sentinel_port {
    my ($self, $port) = @_;
    return scalar grep { $_ == $port } $self->sentinel_ports;
}

# one command, one reply (ConsentTest's RESP client: strings, "ERR:..."
# for an error, numbers, undef, array refs); AUTH first when the server
# has a password.  Dies when the server does not answer in time.
sub cmd {
    my ($self, $port, @args) = @_;
    my $pw = $self->_is_sentinel_port($port) ? $self->{sentinel_password}
        : $self->{password};
    my @auth = defined $pw ? (['AUTH', $pw]) : ();
    my @r = ConsentTest::resp_cmds(
        { port => $port, timeout => _cmd_timeout() }, @auth, \@args);
    die "AUTH on $port: $r[0]\n" if @auth && ($r[0] // '') ne 'OK';
    return $r[-1];
}

# the primary's port as the first Sentinel that answers says, or undef
sub primary_port {
    my ($self) = @_;
    for my $p ($self->sentinel_ports) {
        my $a = eval { $self->cmd($p, 'SENTINEL', 'get-master-addr-by-name',
            $self->{master_name}) };
        return $a->[1] if ref $a eq 'ARRAY' && @$a == 2;
    }
    return undef;
}

# ROLE's first word on a data node ("master", "slave"), or undef when it
# does not answer
sub role {
    my ($self, $port) = @_;
    my $r = eval { $self->cmd($port, 'ROLE') };
    return ref $r eq 'ARRAY' ? $r->[0] : undef;
}

# until ROLE on $port says $role (a replica also linked up): 1, or 0
# after the deadline
sub wait_role {
    my ($self, $port, $role, $secs) = @_;
    my $deadline = _deadline($secs);
    while (1) {
        my $r = $self->role($port) // '';
        return 1 if $r eq $role && ($role ne 'slave'
            || ($self->_info($port, 'replication')->{master_link_status}
                // '') eq 'up');
        return 0 if time > $deadline;
        sleep 0.05;
    }
}

# SENTINEL FAILOVER on the first Sentinel: its answer ("OK")
sub failover {
    my ($self) = @_;
    $self->{failover_started} = time;
    return $self->cmd($self->{sentinel_ports}[0], 'SENTINEL', 'FAILOVER',
        $self->{master_name});
}

# SIGKILL to the primary (the known one); its port
sub kill_primary {
    my ($self) = @_;
    my $port = $self->{primary};
    my ($key) = grep { $self->{port_of}{$_} == $port }
        grep { /\Aredis-/ } keys %{ $self->{pids} };
    die "ConsentCluster: no process for the primary on $port\n"
        unless $key;
    $self->{failover_started} = time;
    $self->stop_node($key, 'KILL');
    return $port;
}

# stop one process ("redis-1", "sentinel-0") with a signal (TERM)
sub stop_node {
    my ($self, $key, $sig) = @_;
    my $pid = delete $self->{pids}{$key} or return;
    ConsentTest::_kill_wait($pid, $sig || 'TERM');
}

# the processes still running, by name
sub running { sort keys %{ $_[0]{pids} } }

# Until every Sentinel names the same primary, another than the known
# one, and ROLE on it says master: (its port, the seconds since failover
# or kill_primary, else since the call), and it is the known primary from
# then on.  (undef, seconds) after the timeout (default 30 s), with what
# each Sentinel said as a diagnostic.
sub wait_failover {
    my ($self, $secs) = @_;
    my $start = $self->{failover_started} // time;
    my $deadline = _deadline($secs);
    my %said;
    while (1) {
        %said = ();
        for my $p ($self->sentinel_ports) {
            my $a = eval { $self->cmd($p, 'SENTINEL',
                'get-master-addr-by-name', $self->{master_name}) };
            $said{$p} = ref $a eq 'ARRAY' ? $a->[1] // '?' : $@ || 'nil';
        }
        my %ports = map { $_ => 1 } values %said;
        my ($new) = keys %ports;
        if (keys %ports == 1 && $new =~ /\A\d+\z/
            && $new != $self->{primary}
            && ($self->role($new) // '') eq 'master')
        {
            $self->{primary} = $new;
            delete $self->{failover_started};
            return ($new, time - $start);
        }
        last if time > $deadline;
        sleep 0.05;
    }
    Test::More::diag("ConsentCluster: no failover from $self->{primary}: "
        . join(', ', map { "sentinel $_ says $said{$_}" } sort keys %said)
        . "\n" . $self->log_tails);
    return (undef, time - $start);
}

# ---------------------------------------------------------------- edges

# An nginx edge node in front of this cluster, a ConsentTest instance:
# the consent API at /consent, consent_metrics at /metrics, pages at /
# that show the decision (X-C-Purposes, X-C-Source), the subject from
# X-Account (trusted), a consent_zone.  redis: consent_redis's address part (default: these
# Sentinels); timeout (default 200ms); extra: more http lines.  Returns
# once every worker listens to the invalidations (unless listen => 0: its
# replica is down) and, through Sentinel, knows the primary (edge_ready).
sub edge {
    my ($self, %o) = @_;
    my $redis = $o{redis}
        // "sentinel=" . $self->sentinel_list . " master=$self->{master_name}";
    my $timeout = $o{timeout} // '200ms';
    my $extra = $o{extra} // '';
    my $t = ConsentTest->new(
        name    => $o{name} // 'edge',
        workers => $o{workers} // 2,
        files   => { keys => ConsentTest::keys_line('k1', 'k' x 32) },
        http    => <<"EOF",
    consent_rule _ga analytics google;
    consent_rule _fbp advertising meta;
    consent_keys %%DIR%%/keys;
    consent_redis $redis timeout=$timeout;
    consent_zone zone=consent:1m ttl=60s;
    $extra
EOF
        server  => <<'EOF',
    consent on;
    consent_subject $http_x_account trusted;
    location = /consent { consent_api; }
    location = /metrics { consent_metrics; }
    location / {
        add_header X-C-Purposes "$consent_purposes" always;
        add_header X-C-Source "$consent_source" always;
        return 200 "ok\n";
    }
EOF
    );
    Test::More::diag("edge $t->{name} not ready:\n"
        . $t->read_file('error.log'))
        unless edge_ready($t, $redis =~ /\Asentinel=/, $o{listen} // 1);
    return $t;
}

# every worker of $t listens to the invalidations (unless $listen is 0)
# and, with Sentinel, logged the primary: 1, or 0 after the deadline
sub edge_ready {
    my ($t, $sentinel, $listen) = @_;
    $listen //= 1;
    my %want = map { $_ => 1 } $t->worker_pids;
    my $deadline = _deadline(20);
    while (time < $deadline) {
        my $log = $t->read_file('error.log');
        my (%listen, %primary);
        $listen{$1} = 1
            while $log =~ /\[info\] (\d+)#\d+: consent redis: listening to /g;
        $primary{$1} = 1 while $log
            =~ /\[notice\] (\d+)#\d+: consent redis Sentinel \S+: the primary of /g;
        return 1 unless grep {
            ($listen && !$listen{$_}) || ($sentinel && !$primary{$_})
        } keys %want;
        sleep 0.02;
    }
    return 0;
}

# consentctl through the Sentinels (--sentinel, --master, and the
# password files when there are passwords), or with the connection
# options of a hash ref first ({ conn => [...], env => {...} }, as
# ConsentTest::consentctl): { rc, out, err }, and one test (no crash)
sub consentctl {
    my ($self, @args) = @_;
    my %o = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    $o{conn} //= [$self->sentinel_args];
    return ConsentTest::consentctl($self, \%o, @args);
}

# the consentctl options that go through this cluster's Sentinels
sub sentinel_args {
    my ($self) = @_;
    return ('--sentinel', $self->sentinel_list,
        '--master', $self->{master_name},
        (defined $self->{password_file}
            ? ('-a', $self->{password_file}) : ()),
        (defined $self->{sentinel_password_file}
            ? ('--sentinel-password-file', $self->{sentinel_password_file})
            : ()));
}

# ---------------------------------------------------------------- fakes

# resp_encode($v): a Perl value as a RESP reply: a string as a bulk
# string, undef as nil, an array ref as an array of encoded values, a
# scalar ref as its bytes as they are (\":1\r\n", \"-ERR x\r\n")
sub resp_encode {
    my ($v) = @_;
    return "\$-1\r\n" unless defined $v;
    return ${$v} if ref $v eq 'SCALAR';
    return '*' . @$v . "\r\n" . join('', map { resp_encode($_) } @$v)
        if ref $v eq 'ARRAY';
    return '$' . length($v) . "\r\n$v\r\n";
}

# fake_server(NAME => REPLY, ...): a TCP server on a free port, in a child
# process, that reads RESP commands (on any number of connections) and
# answers each with the reply given for its name (upper case: "SENTINEL",
# "AUTH", "ROLE"), else the one for '*', else an error.  A reply is a
# Perl value as resp_encode() takes it, or a code ref called with the
# command's words and the server's port that returns one, or one of
#   \'CLOSE'    close the connection without an answer
#   \'SILENT'   never answer (the client's timeout)
# Every command is logged to DIR/fake-PORT.log.  Returns the port; stops
# with the cluster.
sub fake_server {
    my ($self, %replies) = @_;
    my $lsn = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => 0, Proto => 'tcp', Listen => 16, ReuseAddr => 1)
        or die "fake server: $!";
    my $port = $lsn->sockport;
    my $parent = $$;
    my $pid = ConsentTest::fork_server("$self->{dir}/fake-$port.log",
        'fake server', sub { _fake_loop($lsn, $port, $parent, \%replies) });
    close $lsn;
    $self->{pids}{"fake-$port"} = $pid;
    return $port;
}

sub _fake_loop {
    my ($lsn, $port, $parent, $replies) = @_;
    my $sel = IO::Select->new($lsn);
    my %buf;
    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        for my $fh ($sel->can_read(0.2)) {
            if ($fh == $lsn) {
                my $c = $lsn->accept or next;
                $sel->add($c);
                $buf{ fileno $c } = '';
                next;
            }
            my $n = sysread $fh, my $data, 65536;
            my $k = fileno $fh;
            if (!$n) {
                $sel->remove($fh);
                delete $buf{$k};
                close $fh;
                next;
            }
            $buf{$k} .= $data;
            while (defined(my $cmd = _fake_parse(\$buf{$k}))) {
                print "@$cmd\n";
                my $name = uc($cmd->[0] // '');
                my $r = exists $replies->{$name} ? $replies->{$name}
                    : exists $replies->{'*'} ? $replies->{'*'}
                    : \"-ERR unknown command '$name'\r\n";
                $r = $r->($cmd, $port) if ref $r eq 'CODE';
                if (ref $r eq 'SCALAR' && $$r eq 'SILENT') {
                    next;
                }
                if (ref $r eq 'SCALAR' && $$r eq 'CLOSE') {
                    $sel->remove($fh);
                    delete $buf{$k};
                    close $fh;
                    last;
                }
                ConsentTest::_proxy_send($fh, resp_encode($r));
            }
        }
    }
}

# one RESP array of bulk strings off the front of $$buf, or undef while
# it is incomplete; anything else is dropped
sub _fake_parse {
    my ($buf) = @_;
    return undef unless $$buf =~ /\A\*(-?\d+)\r\n/;
    my ($n, $off) = ($1, length $&);
    my @w;
    for (1 .. $n) {
        return undef unless substr($$buf, $off) =~ /\A\$(\d+)\r\n/;
        my ($len, $h) = ($1, length $&);
        return undef if length($$buf) < $off + $h + $len + 2;
        push @w, substr($$buf, $off + $h, $len);
        $off += $h + $len + 2;
    }
    substr($$buf, 0, $off) = '';
    return \@w;
}

# a port nothing listens on (bound, then closed)
sub closed_port { (ConsentTest::_alloc_ports(1))[0] }

# ---------------------------------------------------------------- stop

# TERM to every process (Sentinels first, so that none fails over while
# the nodes go), waiting for each
sub stop {
    my ($self) = @_;
    return unless $self->{owner} && $self->{owner} == $$;
    my @keys = sort { ($b =~ /\Asentinel/) <=> ($a =~ /\Asentinel/)
        || $a cmp $b } keys %{ $self->{pids} || {} };
    for my $k (@keys) {
        my $pid = delete $self->{pids}{$k} or next;
        ConsentTest::_kill_wait($pid, 'TERM');
    }
}

sub DESTROY {
    my ($self) = @_;
    local ($@, $!, $?);
    $self->stop;
}

END {
    local $?;
    for my $c (grep { defined } @CLUSTERS) {
        $c->stop;
    }
}

1;
