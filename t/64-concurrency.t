# Many requests in flight at once, with different decisions, on two
# workers: each must reach the origin with its own Consent header and its
# own cookies.
#
# Decisions come from the region (consent_region $http_x_country; FR
# opt_in, US opt_out, JP notice), Sec-GPC: 1, and subject records in Redis
# (consent_subject $http_x_subject).  Requests are held in flight two
# ways:
#   - slow bodies: POST with Expect: 100-continue and proxy_request_buffering
#     on; nginx answers "100 Continue" only once the access phase (the
#     decision, the stripped cookies, the Consent header) is done and it
#     starts reading the body, so the test knows each one is suspended
#     there; the body then comes in pieces while other requests run;
#   - Redis lookups: nginx talks to Redis through a gate in this test that
#     holds every command until it is opened; the test polls the gate
#     until it holds every lookup it expects.
# Each connection is pinned to a worker first (a keep-alive GET /whoami
# answers the worker's pid; the second listener is reuseport, so both
# workers get connections), so that requests with decisions that collide
# run on the same worker:
#
#   1. lookups held at the gate (some of them with slow bodies after);
#   2. slow-body requests of every decision, all suspended at once;
#   3. quick requests with the same decisions complete meanwhile;
#   4. the gate opens: lookups complete, their slow bodies suspend;
#   5. more quick requests; the bodies finish in pieces.
#
# A worker-wide cache of built Consent values that is rewritten in place
# (slot (purposes ^ policy_version ^ (gpc << 7)) % 16: JP and US+GPC share
# slot 7, FR and FR+GPC slot 1, a record "analytics" v=2 slot 7 too) gives
# a suspended request another request's value: the slow-body checks fail.
#
# Deterministic given a seed (the order requests are sent in, cookie
# values): CONSENT_SEED=n, printed on every run.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use Time::HiRes qw(time);
use ConsentTest qw(std_rules time_scale);

my $T0 = time;

my $SEED = $ENV{CONSENT_SEED};
$SEED = (int(time * 1000) ^ ($$ << 8)) % 2_000_000_000
    unless defined $SEED && $SEED =~ /\A[0-9]+\z/;
diag("seed $SEED (rerun with CONSENT_SEED=$SEED)");
srand($SEED);

sub shuffle {
    my @a = @_;
    for (my $i = $#a; $i > 0; $i--) {
        my $j = int rand($i + 1);
        @a[$i, $j] = @a[$j, $i];
    }
    return @a;
}

# ---------------------------------------------------------------- decisions

my @PURPOSES = qw(necessary functional analytics advertising personalization
    sharing);
my %BIT = map { $PURPOSES[$_] => 1 << $_ } 0 .. $#PURPOSES;
my %REGIME = (FR => 0x01, DE => 0x01, '' => 0x01, US => 0x3f, JP => 0x17);

# subject records: purposes, policy version
my %RECORD = (
    'an-2'   => [['analytics'], 2],                      # slot 7, like JP
    'fa-6'   => [['functional', 'analytics'], 6],        # slot 1, like FR
    'all-1'  => [[@PURPOSES[1 .. 5]], 1],
    'none-9' => [[], 9],
    'ad-4'   => [['advertising'], 4],
    'warm'   => [['functional'], 3],
);

sub expect_decision {
    my ($d) = @_;
    my ($mask, $v);
    if (defined $d->{subject}) {
        my ($p, $pv) = @{ $RECORD{ $d->{subject} } };
        $mask = 0x01;
        $mask |= $BIT{$_} for @$p;
        $v = $pv;
    } else {
        $mask = $REGIME{ $d->{region} // '' };
        $v = 0;
    }
    $mask &= ~($BIT{advertising} | $BIT{sharing}) if $d->{gpc};
    $d->{mask} = $mask | 0x01;
    $d->{v} = $v;
    $d->{consent} = join ', ',
        (map { "$_=?" . ($d->{mask} & $BIT{$_} ? 1 : 0) } @PURPOSES[1 .. 5]),
        'gpc=?' . ($d->{gpc} ? 1 : 0), "v=$v";
    # the slot of the worker-wide cache this decision used to share
    $d->{slot} = ($d->{mask} ^ $v ^ (($d->{gpc} ? 1 : 0) << 7)) % 16;
    return $d;
}

# the cookies every request sends: one per purpose and two of its own
my %COOKIE_PURPOSE = (_ga => 'analytics', _fbp => 'advertising',
    pref => 'functional', perso => 'personalization', share_id => 'sharing');

sub cookies_for {
    my ($d) = @_;
    my $n = int rand 1000;
    my @pairs = ("rid=$d->{id}", "_ga=GA1.$n", "_fbp=fb.$n", "pref=p$n",
        "perso=x$n", "share_id=s$n", "sid=$d->{id}-$n");
    @pairs = (@pairs[0, 1], shuffle(@pairs[2 .. $#pairs]));
    $d->{cookie} = join '; ', @pairs;
    $d->{want_cookie} = join '; ', grep {
        my ($name) = /\A([^=]+)=/;
        my $p = $COOKIE_PURPOSE{$name};
        !defined $p || ($d->{mask} & $BIT{$p});
    } @pairs;
}

my %DECISION = (
    FR      => { region => 'FR' },
    FR_gpc  => { region => 'FR', gpc => 1 },
    DE      => { region => 'DE' },
    none    => { },
    US      => { region => 'US' },
    US_gpc  => { region => 'US', gpc => 1 },
    JP      => { region => 'JP' },
    JP_gpc  => { region => 'JP', gpc => 1 },
    (map { ("r_$_" => { region => 'US', subject => $_ },
            "r_${_}_gpc" => { region => 'FR', subject => $_, gpc => 1 }) }
        grep { $_ ne 'warm' } sort keys %RECORD),
);

# per worker: what is held where
my %PLAN = (
    # suspended on their bodies from the start
    slow       => [qw(JP US_gpc FR FR_gpc US DE none JP_gpc)],
    # held at the gate, then suspended on their bodies
    redis_slow => [qw(r_an-2 r_fa-6 r_an-2_gpc r_none-9)],
    # held at the gate, no body
    redis      => [qw(r_an-2 r_fa-6_gpc r_ad-4 r_all-1_gpc r_all-1)],
    # quick ones: while the slow bodies are suspended...
    quick1     => [qw(US_gpc JP FR_gpc FR US JP_gpc)],
    # ...after the gate opened, while every body still is...
    quick2     => [qw(JP US_gpc FR FR_gpc)],
    # ...and between two pieces of the bodies
    quick3     => [qw(FR_gpc US_gpc JP FR)],
);
my @KINDS = qw(slow redis_slow redis quick1 quick2 quick3);
my $PER_WORKER = 1;                                   # the warm-up
$PER_WORKER += @{ $PLAN{$_} } for @KINDS;

{
    # the collisions this plan sets up in the old cache, for the record:
    # decisions with the same value are joined by '='
    my %by_slot;
    for my $name (sort keys %DECISION) {
        my $d = expect_decision({ %{ $DECISION{$name} } });
        push @{ $by_slot{ $d->{slot} }{ $d->{consent} } }, $name;
    }
    note('decisions with different values in one slot of a 16-slot cache: '
        . join('; ', map {
            my $v = $by_slot{$_};
            "slot $_: " . join(' | ', sort map { join '=', @$_ } values %$v)
        } grep { keys %{ $by_slot{$_} } > 1 }
            sort { $a <=> $b } keys %by_slot));
}

# ---------------------------------------------------------------- the gate

# A TCP proxy to Redis in a child process.  Commands on its control
# socket: "hold" (keep whatever nginx sends), "release" (send what was
# kept, and pass everything on from now), "count" (how many HGETALL
# commands are being kept).  Each answers one line.
sub start_gate {
    my ($listen, $redis_port) = @_;
    socketpair(my $mine, my $its, AF_UNIX, SOCK_STREAM, PF_UNSPEC)
        or die "socketpair: $!";
    my $parent = $$;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) {
        close $its;
        close $listen;
        $mine->autoflush(1);
        return { pid => $pid, ctl => $mine };
    }

    # child: never returns, runs no END blocks
    close $mine;
    $SIG{TERM} = sub { POSIX::_exit(0) };
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    $its->autoflush(1);
    my $sel = IO::Select->new($listen, $its);
    my (%peer, %held);
    my $hold = 0;
    my $ctl_buf = '';
    my $close = sub {
        my ($s) = @_;
        my $p = delete $peer{$s};
        for my $x (grep { defined } $s, $p) {
            delete $peer{$x};
            delete $held{$x};
            $sel->remove($x);
            close $x;
        }
    };
    my $send = sub {
        my ($s, $data) = @_;
        my $off = 0;
        while ($off < length $data) {
            my $n = syswrite $s, $data, length($data) - $off, $off;
            return unless defined $n;
            $off += $n;
        }
    };
    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        for my $s ($sel->can_read(1)) {
            if ($s == $listen) {
                my $c = $listen->accept or next;
                my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                    PeerPort => $redis_port, Proto => 'tcp');
                unless ($u) { close $c; next }
                $peer{$c} = $u;
                $peer{$u} = $c;
                $held{$c} = '';           # only nginx's side is held
                $sel->add($c, $u);
            } elsif ($s == $its) {
                my $n = sysread $its, $ctl_buf, 4096, length $ctl_buf;
                POSIX::_exit(0) unless $n;
                while ($ctl_buf =~ s/\A([^\n]*)\n//) {
                    my $cmd = $1;
                    if ($cmd eq 'hold') {
                        $hold = 1;
                    } elsif ($cmd eq 'release') {
                        $hold = 0;
                        for my $c (grep { exists $held{$_} } $sel->handles) {
                            $send->($peer{$c}, $held{$c}) if length $held{$c};
                            $held{$c} = '';
                        }
                    }
                    my $count = 0;
                    $count += () = $held{$_} =~ /\bHGETALL\r\n/g
                        for keys %held;
                    print $its $cmd eq 'count' ? "$count\n" : "ok\n";
                }
            } else {
                my $buf = '';
                my $n = sysread $s, $buf, 65536;
                unless ($n) { $close->($s); next }
                my $p = $peer{$s} or next;
                if (exists $held{$s} && $hold) {
                    $held{$s} .= $buf;
                } else {
                    $send->($p, $buf);
                }
            }
        }
    }
}

sub gate {
    my ($g, $cmd) = @_;
    my $fh = $g->{ctl};
    print $fh "$cmd\n";
    my $line = <$fh>;
    die "gate: no answer to $cmd" unless defined $line;
    chomp $line;
    return $line;
}

# ---------------------------------------------------------------- instance

my $gate_listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => 0, Proto => 'tcp', Listen => 16, ReuseAddr => 1)
    or die "gate: $!";
my $gate_port = $gate_listen->sockport;

my $t = ConsentTest->new(
    name    => 'concurrency',
    workers => 2,
    redis   => 1,
    start   => 0,
    http    => std_rules() . <<"EOF",
    consent_regime opt_in FR;
    consent_regime opt_out US;
    consent_regime notice JP;
    consent_redis 127.0.0.1:$gate_port timeout=30s connect_timeout=5s;
EOF
    server => <<'EOF',
        # one socket a worker: connections spread over both
        listen 127.0.0.1:%%H2_PORT%% reuseport;
        keepalive_timeout 60s;
        client_body_timeout 60s;
        proxy_request_buffering on;
        consent on;
        consent_region $http_x_country;
        consent_subject $http_x_subject;
        location = /whoami {
            consent off;
            return 200 "$pid";
        }
        location / {
            proxy_pass %%ORIGIN%%;
            add_header X-Worker $pid always;
            %%VARS_HEADERS%%
        }
EOF
);
$t->start_redis;
for my $s (sort keys %RECORD) {
    my ($p, $v) = @{ $RECORD{$s} };
    $t->redis_cmd(HSET => "consent:s:$s", p => join(',', @$p), v => $v,
        t => int time);
}
my $g = start_gate($gate_listen, $t->redis_port);
$t->start;

my @workers;
{
    my $deadline = time + 10 * time_scale();
    @workers = $t->worker_pids;
    while (@workers < 2 && time < $deadline) {
        select undef, undef, undef, 0.02;
        @workers = $t->worker_pids;
    }
    is(scalar @workers, 2, 'two workers');
}

# ---------------------------------------------------------------- clients

my $SEQ = 0;

# to the reuseport listener (H2_PORT, unused for HTTP/2 here)
sub connect_front {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->h2_port, Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    return $s;
}

sub send_all {
    my ($s, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $s, $data, length($data) - $off, $off;
        die "write: $!" unless defined $n;
        $off += $n;
    }
}

# reads into each connection's buffer until done->() or the timeout
# (scaled); 1 if done.  With a timeout of 0: reads what is there now.
sub pump {
    my ($conns, $done, $timeout) = @_;
    my $deadline = time + $timeout * time_scale();
    while (1) {
        return 1 if $done->() && $timeout;
        my $left = $deadline - time;
        $left = 0 if $left < 0;
        my %by = map { fileno($_->{sock}) => $_ }
            grep { !$_->{eof} } @$conns;
        return $done->() ? 1 : 0 unless %by;
        my $sel = IO::Select->new(map { $_->{sock} } values %by);
        for my $s ($sel->can_read($left > 0.5 ? 0.5 : $left)) {
            my $c = $by{ fileno $s };
            my $n = sysread $s, $c->{buf}, 65536, length $c->{buf};
            $c->{eof} = 1 unless $n;
        }
        return $done->() ? 1 : 0 if $left <= 0;
    }
}

# one keep-alive GET /whoami: the worker's pid
sub whoami {
    my ($c) = @_;
    send_all($c->{sock}, "GET /whoami HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $whole = sub {
        $c->{buf} =~ /\A(.*?\r\n\r\n)/s or return 0;
        my $head = $1;
        my ($len) = $head =~ /^Content-Length: *(\d+)/mi;
        return defined $len && length($c->{buf}) >= length($head) + $len;
    };
    pump([$c], $whole, 5) or return undef;
    my $r = ConsentTest::Response->parse($c->{buf});
    $c->{buf} = '';
    return $r->status == 200 ? $r->body : undef;
}

# $PER_WORKER connections pinned to each worker: worker pid => [conn]
my %pool;
{
    my $deadline = time + 20 * time_scale();
    my $opened = 0;
    my %want = map { $_ => 1 } @workers;
    while (grep { @{ $pool{$_} || [] } < $PER_WORKER } @workers) {
        last if time > $deadline || $opened > 40 * $PER_WORKER;
        my $c = { sock => connect_front(), buf => '' };
        $opened++;
        my $pid = whoami($c);
        if (defined $pid && $want{$pid} && @{ $pool{$pid} ||= [] } < $PER_WORKER) {
            $c->{worker} = $pid;
            push @{ $pool{$pid} }, $c;
        } else {
            close $c->{sock};
        }
    }
    my $ok = is(join(' ', map { scalar @{ $pool{$_} || [] } } @workers),
        join(' ', ($PER_WORKER) x 2),
        "$PER_WORKER connections pinned to each worker ($opened opened)");
    unless ($ok) {
        $t->stop;
        kill 'TERM', $g->{pid};
        waitpid $g->{pid}, 0;
        done_testing;
        exit;
    }
}

# a request on a pinned connection
sub request {
    my ($worker, $kind, $name) = @_;
    my $c = shift @{ $pool{$worker} } or die "no connection left on $worker";
    my $d = expect_decision({ %{ $DECISION{$name} } });
    $d->{name} = $name;
    $d->{kind} = $kind;
    $d->{id} = sprintf 'c64-%d-%s-%s-%d', ++$SEQ, $kind, $name, $SEED;
    cookies_for($d);
    $c->{d} = $d;
    my $slow = $kind =~ /slow/;
    my $body = $slow ? join('', map { "piece$_-" . ('x' x 50) . "\n" } 1 .. 3)
        : '';
    $c->{pieces} = [unpack '(a58)*', $body];
    my $req = ($slow ? 'POST' : 'GET') . " /c64/$kind/$name HTTP/1.1\r\n"
        . "Host: localhost\r\nX-Req: $d->{id}\r\n"
        . (defined $d->{region} ? "X-Country: $d->{region}\r\n" : '')
        . ($d->{gpc} ? "Sec-GPC: 1\r\n" : '')
        . (defined $d->{subject} ? "X-Subject: $d->{subject}\r\n" : '')
        . "Cookie: $d->{cookie}\r\n"
        . ($slow ? "Content-Type: text/plain\r\nContent-Length: "
            . length($body) . "\r\nExpect: 100-continue\r\n" : '')
        . "Connection: close\r\n\r\n";
    send_all($c->{sock}, $req);
    return $c;
}

my $CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
sub continued { index($_[0]{buf}, $CONTINUE) == 0 }
sub next_piece {
    my ($c) = @_;
    my $p = shift @{ $c->{pieces} };
    send_all($c->{sock}, $p) if defined $p;
}
sub finished { $_[0]{eof} }

my @all;

# 0. every worker's Redis connection is up (through the open gate)
{
    my @warm = map {
        my $c = shift @{ $pool{$_} };
        send_all($c->{sock}, "GET /c64/warm HTTP/1.1\r\nHost: localhost\r\n"
            . "X-Subject: warm\r\nConnection: close\r\n\r\n");
        $c;
    } @workers;
    pump(\@warm, sub { !grep { !finished($_) } @warm }, 10);
    is(join(' ', map { ConsentTest::Response->parse($_->{buf})->var('source') }
            @warm), join(' ', ('redis') x @warm),
        'warm-up: each worker has its decision from Redis');
}

# 1. lookups held at the gate
is(gate($g, 'hold'), 'ok', 'gate: holding Redis commands');
my (@redis, @redis_slow, @slow);
for my $w (shuffle(@workers)) {
    push @redis, map { request($w, 'redis', $_) } shuffle(@{ $PLAN{redis} });
    push @redis_slow, map { request($w, 'redis_slow', $_) }
        shuffle(@{ $PLAN{redis_slow} });
}
push @all, @redis, @redis_slow;
{
    my $want = @redis + @redis_slow;
    my $deadline = time + 10 * time_scale();
    my $held = 0;
    while (($held = gate($g, 'count')) < $want && time < $deadline) {
        select undef, undef, undef, 0.02;
    }
    is($held, $want, "gate: all $want lookups held");
}

# 2. slow bodies: every decision suspended at once, on both workers
for my $w (shuffle(@workers)) {
    push @slow, map { request($w, 'slow', $_) } shuffle(@{ $PLAN{slow} });
}
push @all, @slow;
ok(pump(\@slow, sub { !grep { !continued($_) } @slow }, 10),
    'slow bodies: every one got 100 Continue (decided, suspended on its body)')
    or diag(join ', ', map { $_->{d}{id} } grep { !continued($_) } @slow);
next_piece($_) for @slow;
pump(\@redis_slow, sub { 1 }, 0);
ok(!grep({ length $_->{buf} || finished($_) } @redis_slow),
    'lookups held: no slow body behind them has been asked for yet');

# 3. quick requests with the same decisions complete meanwhile
sub quick_round {
    my ($kind) = @_;
    my @q;
    for my $w (shuffle(@workers)) {
        for my $name (shuffle(@{ $PLAN{$kind} })) {
            my $c = request($w, $kind, $name);
            pump([$c], sub { finished($c) }, 10);
            push @q, $c;
        }
    }
    push @all, @q;
    return @q;
}
quick_round('quick1');

# 4. the gate opens: lookups complete, the slow bodies behind them start
is(gate($g, 'release'), 'ok', 'gate: released');
ok(pump([@redis, @redis_slow], sub {
        !grep({ !finished($_) } @redis) && !grep({ !continued($_) } @redis_slow)
    }, 10), 'lookups answered: GETs done, slow bodies got 100 Continue');
next_piece($_) for @redis_slow;

# 5. more quick requests, then the bodies' other pieces
quick_round('quick2');
my @bodies = (@slow, @redis_slow);
next_piece($_) for shuffle(@bodies);
quick_round('quick3');
next_piece($_) for shuffle(@bodies);
ok(pump(\@bodies, sub { !grep { !finished($_) } @bodies }, 15),
    'every slow body answered');

# ---------------------------------------------------------------- checks

my %fail;
my @props = qw(answered itself consent cookies worker source);
for my $c (@all) {
    my $d = $c->{d};
    (my $buf = $c->{buf}) =~ s/\A\Q$CONTINUE\E//;
    my $r = ConsentTest::Response->parse($buf);
    my $o = $r->origin;
    my $tag = "$d->{kind} $d->{name} on $c->{worker} ($d->{id})";
    my %bad;
    $bad{answered} = 'status ' . $r->status unless $r->status == 200;
    $bad{itself} = "origin saw request [" . ($o->{req} // '') . ']'
        unless ($o->{req} // '') eq $d->{id};
    $bad{consent} = "Consent [" . ($o->{consent} // '') . "], want "
        . "[$d->{consent}]" unless ($o->{consent} // '') eq $d->{consent};
    $bad{cookies} = "Cookie [" . ($o->{cookie} // '') . "], want "
        . "[$d->{want_cookie}]"
        unless ($o->{cookie} // '') eq $d->{want_cookie};
    $bad{worker} = 'served by ' . ($r->header('X-Worker') // '-')
        unless ($r->header('X-Worker') // '') eq $c->{worker};
    my $src = defined $d->{subject} ? 'redis' : 'default';
    $bad{source} = "\$consent_source " . $r->var('source') . ", want $src"
        unless $r->var('source') eq $src;
    push @{ $fail{ $d->{kind} }{$_} }, "$tag: $bad{$_}" for keys %bad;
}

my %label = (
    slow       => 'suspended on their bodies from the start',
    redis_slow => 'held on Redis, then on their bodies',
    redis      => 'held on Redis',
    quick1     => 'quick, while the bodies were suspended',
    quick2     => 'quick, after the lookups',
    quick3     => 'quick, between pieces of the bodies',
);
my %what = (
    answered => 'answered 200',
    itself   => 'reached the origin as itself (its X-Req)',
    consent  => 'reached the origin with its own Consent header',
    cookies  => 'reached the origin with its own cookies, stripped for '
        . 'its own decision',
    worker   => 'served by the worker its connection was pinned to',
    source   => 'decided from its own source ($consent_source)',
);
for my $kind (@KINDS) {
    my $n = grep { $_->{d}{kind} eq $kind } @all;
    for my $p (@props) {
        my $f = $fail{$kind}{$p} || [];
        is(scalar @$f, 0, "$n requests $label{$kind}: $what{$p}")
            or diag(join "\n", @$f > 6 ? (@$f[0 .. 5], '...') : @$f);
    }
}

$t->stop;
kill 'TERM', $g->{pid};
waitpid $g->{pid}, 0;

note(sprintf 'took %.1fs', time - $T0);

done_testing;
