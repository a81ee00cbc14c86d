package ConsentTest;

# End-to-end test harness for ngx_consent_module, core Perl only.
#
#   use lib 't/lib';
#   use ConsentTest qw(mint_token);
#
#   my $t = ConsentTest->new(
#       name   => 'regimes',             # used in test names
#       http   => 'consent_rule _ga analytics google;',   # http{} snippet
#       server => 'consent on; location / { proxy_pass %%ORIGIN%%; }',
#       files  => { 'keys' => "k1 ...\n" },   # written into DIR first
#       h2     => 1,                     # front also listens h2c on H2_PORT
#       redis  => 1,                     # private redis-server on REDIS_PORT
#   );
#   my $r = $t->get('/path', headers => [ [ Cookie => 'a=1; _ga=2' ] ]);
#   $r->status; $r->header('X-Foo'); $r->var('stripped'); $r->origin->{cookie};
#   $t->stop;     # TERM nginx, wait, and assert error.log is clean (1 test)
#
# Placeholders, replaced in http/server/main snippets and in files:
#   %%PORT%% %%H2_PORT%% %%ORIGIN_PORT%% %%RAW_PORT%% %%REDIS_PORT%%
#   %%DIR%% %%MODULE%% %%REPO%% %%ORIGIN%% (http://127.0.0.1:ORIGIN_PORT)
#   %%RAW%% (http://127.0.0.1:RAW_PORT) %%VARS_HEADERS%% (add_header lines
#   that expose every standard $consent_* variable as X-C-* response headers)
#
# Two origins are always there:
#   - an nginx server block on ORIGIN_PORT (consent off) whose body is
#       req=[X-Req] uri=[...] cookie=[$http_cookie] consent=[...] echo=[X-Echo]
#     one per line, and which logs to DIR/origin.log ("cookie=-" in the log
#     means the request had no Cookie header at all);
#   - a raw Perl TCP echo server on RAW_PORT that answers with the exact
#     request head it received (so tests can see every Cookie line).
#
# Every request made with get()/h2_get() carries a unique X-Req header so
# that log lines (front: DIR/access.log, origin: DIR/origin.log) can be
# matched to it: $t->front_log($r), $t->origin_log($r).

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(hmac_sha256);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IPC::Open3;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(mint_token sign_payload b64url repo_root module_path
    nginx_bin keys_line purpose_bit std_rules split_cookies config_test
    PURPOSES time_scale);

use constant PURPOSES => [qw(necessary functional analytics advertising
    personalization sharing)];

my $REPO = abs_path(dirname(abs_path(__FILE__)) . '/../..');

my @INSTANCES;
my $REQ_SEQ = 0;

sub repo_root   { $REPO }
sub module_path { $ENV{CONSENT_MODULE} || "$REPO/build/ngx_http_consent_module.so" }
sub nginx_bin   { $ENV{NGINX_BIN} || '/usr/sbin/nginx' }

# CONSENT_TIME_SCALE (default 1): how much slower than usual nginx runs
# (e.g. 4 under valgrind, see make test-valgrind).  The harness's own
# deadlines are multiplied by it, and so should a test's upper bounds on
# latency ("answers within timeout + margin"): time_scale() * margin.
sub time_scale {
    my $s = $ENV{CONSENT_TIME_SCALE};
    return defined $s && $s =~ /\A[0-9]*\.?[0-9]+\z/ && $s > 0 ? $s : 1;
}

sub purpose_bit {
    my ($name) = @_;
    my $p = PURPOSES;
    for my $i (0 .. $#$p) {
        return 1 << $i if $p->[$i] eq $name;
    }
    die "unknown purpose $name";
}

# ---------------------------------------------------------------- tokens

sub b64url {
    my $s = encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

# signature of an arbitrary payload (to build structurally bad tokens whose
# signature is nevertheless right)
sub sign_payload {
    my ($payload, $key) = @_;
    return "$payload." . b64url(hmac_sha256($payload, $key));
}

# mint_token(kid, key_bytes, subject, mask, pv, iat)
sub mint_token {
    my ($kid, $key, $subject, $mask, $pv, $iat) = @_;
    $pv  //= 1;
    $iat //= time();
    my $payload = sprintf('1.%s.%s.%08x.%d.%d', $kid, $subject, $mask, $pv,
        int($iat));
    return sign_payload($payload, $key);
}

# "kid base64key" line of a keys file
sub keys_line {
    my ($kid, $key) = @_;
    return "$kid " . encode_base64($key, '') . "\n";
}

# a small rule set most tests share
sub std_rules {
    return <<'RULES';
    consent_rule _ga       analytics       google;
    consent_rule _gid      analytics       google;
    consent_rule _ga_*     analytics       google;
    consent_rule _fbp      advertising     meta;
    consent_rule _gcl_au   advertising     google;
    consent_rule pref      functional      site;
    consent_rule perso     personalization site;
    consent_rule share_id  sharing         databroker;
RULES
}

# `nginx -t` on a configuration that is never started: (rc, output,
# instance).  http defaults to std_rules(); server to "consent on", the
# snippet in extra, and a location proxying to the origin.
sub config_test {
    my (%a) = @_;
    my $t = ConsentTest->new(
        name   => 'conf',
        start  => 0,
        files  => $a{files} || {},
        http   => $a{http} // std_rules(),
        server => $a{server} // "        consent on;\n"
            . ($a{extra} // '') . "\n"
            . "        location / { proxy_pass %%ORIGIN%%; }\n",
    );
    my ($rc, $out) = $t->nginx_t;
    $t->stop;
    return ($rc, $out, $t);
}

# a Cookie header value split the way browsers and the module do: on ';'
# only, pairs trimmed of spaces and tabs, empty pieces dropped
sub split_cookies {
    my ($line) = @_;
    return () unless defined $line;
    return grep { length } map { s/\A[ \t]+//r =~ s/[ \t]+\z//r }
        split /;/, $line, -1;
}

# ---------------------------------------------------------------- ports

sub _free_port {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    ) or die "cannot bind a free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub _alloc_ports {
    my ($n) = @_;
    my (%seen, @ports);
    while (@ports < $n) {
        my $p = _free_port();
        next if $seen{$p}++;
        push @ports, $p;
    }
    return @ports;
}

# ---------------------------------------------------------------- instance

sub new {
    my ($class, %a) = @_;

    my $self = bless {
        name    => $a{name} || 'nginx',
        dir     => tempdir('consent-t-XXXXXX', TMPDIR => 1,
                               CLEANUP => !$ENV{CONSENT_KEEP}),
        http    => $a{http} // '',
        server  => $a{server},
        main    => $a{main} // '',
        files   => $a{files} || {},
        h2      => $a{h2} ? 1 : 0,
        want_redis => $a{redis} ? 1 : 0,
        module  => $a{module} // module_path(),
        pids    => {},
    }, $class;

    chmod 0755, $self->{dir};

    my ($port, $h2, $origin, $redis) = _alloc_ports(4);
    $self->{port}        = $port;
    $self->{h2_port}     = $h2;
    $self->{origin_port} = $origin;
    $self->{redis_port}  = $redis;

    make_path("$self->{dir}/tmp", "$self->{dir}/html", "$self->{dir}/logs");

    push @INSTANCES, $self;

    $self->_start_raw_origin;
    $self->write_config;

    if ($a{start} // 1) {
        $self->start_redis if $self->{want_redis};
        $self->start;
    }

    return $self;
}

sub dir         { $_[0]{dir} }
sub port        { $_[0]{port} }
sub h2_port     { $_[0]{h2_port} }
sub origin_port { $_[0]{origin_port} }
sub raw_port    { $_[0]{raw_port} }
sub redis_port  { $_[0]{redis_port} }
sub conf_path   { "$_[0]{dir}/nginx.conf" }

sub vars_headers {
    my @h = (
        [Purposes => 'consent_purposes'],
        [Id       => 'consent_id'],
        [Source   => 'consent_source'],
        [Region   => 'consent_region'],
        [Regime   => 'consent_regime'],
        [Gpc      => 'consent_gpc'],
        [Stripped => 'consent_stripped'],
        map { [ucfirst($_) => "consent_$_"] } @{+PURPOSES},
    );
    return join "\n", map { "add_header X-C-$_->[0] \"\$$_->[1]\" always;" } @h;
}

sub subst {
    my ($self, $text) = @_;
    my %v = (
        PORT         => $self->{port},
        H2_PORT      => $self->{h2_port},
        ORIGIN_PORT  => $self->{origin_port},
        RAW_PORT     => $self->{raw_port},
        REDIS_PORT   => $self->{redis_port},
        DIR          => $self->{dir},
        MODULE       => $self->{module},
        REPO         => $REPO,
        ORIGIN       => "http://127.0.0.1:$self->{origin_port}",
        RAW          => "http://127.0.0.1:$self->{raw_port}",
        VARS_HEADERS => $self->vars_headers,
    );
    $text =~ s/%%([A-Z0-9_]+)%%/exists $v{$1} ? $v{$1} : die "unknown placeholder %%$1%%"/ge;
    return $text;
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    make_path(dirname($path));
    open my $fh, '>', $path or die "write $path: $!";
    print $fh $content;
    close $fh;
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '<', $path or return '';
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c // '';
}

sub config_text {
    my ($self) = @_;

    my $user = $> == 0 ? 'user root;' : '';

    my $front = '';
    if (defined $self->{server}) {
        my $h2 = $self->{h2}
            ? "listen 127.0.0.1:%%H2_PORT%% http2;" : '';
        $front = <<"EOF";
    server {
        listen 127.0.0.1:%%PORT%%;
        $h2
        server_name localhost;
$self->{server}
    }
EOF
    }

    my $logfmt = join '\t',
        'req=$http_x_req', 'uri=$request_uri', 'status=$status',
        'purposes=$consent_purposes', 'id=$consent_id',
        'source=$consent_source', 'region=$consent_region',
        'regime=$consent_regime', 'gpc=$consent_gpc',
        'stripped=$consent_stripped', 'dropped=$consent_dropped',
        (map { "$_=\$consent_$_" } @{+PURPOSES}),
        'cookie=$http_cookie';

    my $conf = <<"EOF";
$user
load_module %%MODULE%%;
daemon off;
master_process on;
worker_processes 1;
error_log %%DIR%%/error.log info;
pid %%DIR%%/nginx.pid;
$self->{main}

events {
    worker_connections 256;
}

http {
    client_body_temp_path %%DIR%%/tmp/client_body;
    proxy_temp_path       %%DIR%%/tmp/proxy;
    fastcgi_temp_path     %%DIR%%/tmp/fastcgi;
    uwsgi_temp_path       %%DIR%%/tmp/uwsgi;
    scgi_temp_path        %%DIR%%/tmp/scgi;

    default_type text/plain;
    keepalive_timeout 5s;

    log_format consent_test '$logfmt';
    log_format origin 'req=\$http_x_req\\turi=\$request_uri\\tcookie=\$http_cookie\\tconsent=\$http_consent\\techo=\$http_x_echo';

    access_log %%DIR%%/access.log consent_test;

    # the origin: echoes what it received
    server {
        listen 127.0.0.1:%%ORIGIN_PORT%%;
        server_name origin;
        consent off;
        access_log %%DIR%%/origin.log origin;

        location / {
            return 200 "req=[\$http_x_req]\\nuri=[\$request_uri]\\ncookie=[\$http_cookie]\\nconsent=[\$http_consent]\\necho=[\$http_x_echo]\\n";
        }

        location /auth/ {
            return 204;
        }

        location /404/ {
            return 404 "not found\\n";
        }
    }

$self->{http}

$front
}
EOF
    return $self->subst($conf);
}

sub write_config {
    my ($self) = @_;
    for my $name (sort keys %{ $self->{files} }) {
        $self->write_file($name, $self->subst($self->{files}{$name}));
    }
    $self->write_file('nginx.conf', $self->config_text);
}

# `nginx -t`: (exit status, combined output)
sub nginx_t {
    my ($self) = @_;
    my $pid = open3(my $in, my $out, undef, nginx_bin(), '-t',
        '-p', "$self->{dir}/", '-c', $self->conf_path);
    close $in;
    local $/;
    my $output = <$out> // '';
    waitpid $pid, 0;
    my $rc = $? >> 8;
    return ($rc, $output);
}

sub _listen_ports {
    my ($self) = @_;
    my $conf = $self->read_file('nginx.conf');
    my %p;
    $p{$1} = 1 while $conf =~ /^\s*listen\s+(?:127\.0\.0\.1:)?(\d+)\b/mg;
    return sort keys %p;
}

sub _can_connect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => 1,
    );
    return 0 unless $s;
    close $s;
    return 1;
}

sub _wait_ports {
    my ($self, $pid, @ports) = @_;
    my $limit = 10 * time_scale();
    my $deadline = time + $limit;
    my %left = map { $_ => 1 } @ports;
    while (%left) {
        if ($pid && waitpid($pid, WNOHANG) == $pid) {
            return "exited with status " . ($? >> 8);
        }
        for my $p (keys %left) {
            delete $left{$p} if _can_connect($p);
        }
        last unless %left;
        return "ports " . join(',', sort keys %left)
            . " not ready after ${limit}s" if time > $deadline;
        sleep 0.02;
    }
    return undef;
}

sub _spawn {
    my ($self, $log, @cmd) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    return $pid;
}

sub start {
    my ($self) = @_;
    die "nginx already running" if $self->{pids}{nginx};
    die "module not built: $self->{module} (run make at the repo root)\n"
        unless -f $self->{module};

    my $pid = $self->_spawn("$self->{dir}/stderr.log", nginx_bin(),
        '-p', "$self->{dir}/", '-c', $self->conf_path);
    my $err = $self->_wait_ports($pid, $self->_listen_ports);
    if (defined $err) {
        kill 'KILL', $pid if kill 0, $pid;
        waitpid $pid, 0;
        die "nginx ($self->{name}) did not start: $err\n"
            . $self->read_file('stderr.log') . $self->read_file('error.log');
    }
    $self->{pids}{nginx} = $pid;
    $self->{started} = 1;

    # the master listens before it forks its worker (a while under
    # valgrind): started means a worker is there too
    my $deadline = time + 10 * time_scale();
    until ($self->worker_pids) {
        die "nginx ($self->{name}) started no worker\n"
            . $self->read_file('error.log') if time > $deadline;
        sleep 0.02;
    }
    return $self;
}

sub _kill_wait {
    my ($pid, $sig) = @_;
    kill $sig, $pid;
    my $deadline = time + 10 * time_scale();
    while (time < $deadline) {
        my $r = waitpid $pid, WNOHANG;
        return 1 if $r == $pid || $r == -1;
        sleep 0.02;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return 0;
}

sub stop_nginx {
    my ($self) = @_;
    my $pid = delete $self->{pids}{nginx} or return;
    _kill_wait($pid, 'TERM');
}

# reload with a changed http/server snippet: stop, rewrite, start
sub restart {
    my ($self, %a) = @_;
    $self->stop_nginx;
    $self->{$_} = $a{$_} for grep { exists $a{$_} } qw(http server main files);
    $self->write_config;
    $self->start;
}

sub master_pid { $_[0]{pids}{nginx} }

# pids of the master's children (the workers, and cache helpers if any),
# read from /proc
sub worker_pids {
    my ($self) = @_;
    my $master = $self->{pids}{nginx} or return ();
    my @w;
    opendir my $d, '/proc' or return ();
    for my $pid (grep { /\A\d+\z/ } readdir $d) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh> // '';
        close $fh;
        # pid (comm) state ppid ...: comm may hold spaces and parens
        push @w, $pid + 0 if $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $master;
    }
    closedir $d;
    # an array, so that scalar context gets a count (a sort's is undefined)
    @w = sort { $a <=> $b } @w;
    return @w;
}

# `nginx -s reload` with an optionally changed http/server/main/files,
# then waits until the workers are all new ones and the old ones are gone.
# Returns (exit status of nginx -s, its output, [new worker pids]).
sub reload {
    my ($self, %a) = @_;
    my %old = map { $_ => 1 } $self->worker_pids;
    if (grep { exists $a{$_} } qw(http server main files)) {
        $self->{$_} = $a{$_} for grep { exists $a{$_} } qw(http server main files);
        $self->write_config;
    }
    my $pid = open3(my $in, my $out, undef, nginx_bin(), '-s', 'reload',
        '-p', "$self->{dir}/", '-c', $self->conf_path);
    close $in;
    my $output = do { local $/; <$out> } // '';
    waitpid $pid, 0;
    my $rc = $? >> 8;
    return ($rc, $output, []) if $rc;
    my $deadline = time + 15 * time_scale();
    my @new;
    while (time < $deadline) {
        my @now = $self->worker_pids;
        @new = grep { !$old{$_} } @now;
        last if @new && @new == @now;
        sleep 0.02;
    }
    return ($rc, $output, \@new);
}

sub stop {
    my ($self, %a) = @_;
    $self->stop_nginx;
    for my $k (qw(raw redis)) {
        my $pid = delete $self->{pids}{$k} or next;
        _kill_wait($pid, 'TERM');
    }
    if ($self->{started} && !$self->{checked}++) {
        $self->check_error_log;
    }
}

sub error_log_problems {
    my ($self) = @_;
    my $log = $self->read_file('error.log') . $self->read_file('stderr.log');
    return grep {
        /\[(?:alert|crit|emerg)\]/ || /signal 11/ || /exited on signal/
            || /core dumped/ || /AddressSanitizer|LeakSanitizer/
    } split /^/, $log;
}

sub check_error_log {
    my ($self) = @_;
    my @bad = $self->error_log_problems;
    Test::More::ok(!@bad,
        "$self->{name}: error.log has no alert/crit/emerg or crash")
        or Test::More::diag(join '', @bad[0 .. ($#bad > 20 ? 20 : $#bad)]);
}

END {
    for my $t (@INSTANCES) {
        for my $k (keys %{ $t->{pids} || {} }) {
            my $pid = delete $t->{pids}{$k};
            _kill_wait($pid, 'TERM') if $pid;
        }
    }
}

# ---------------------------------------------------------------- raw origin

sub _start_raw_origin {
    my ($self) = @_;
    my $srv = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 64,
        ReuseAddr => 1,
    ) or die "raw origin: $!";
    $self->{raw_port} = $srv->sockport;

    my $parent = $$;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) {
        close $srv;
        $self->{pids}{raw} = $pid;
        return;
    }

    # child: never returns, never runs END blocks or Test::More, and does
    # not hold the TAP pipe open
    $SIG{TERM} = sub { POSIX::_exit(0) };
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    my $sel = IO::Select->new($srv);
    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        next unless $sel->can_read(1);
        my $c = $srv->accept or next;
        my $buf = '';
        my $cs = IO::Select->new($c);
        my $deadline = time + 5;
        while ($buf !~ /\r?\n\r?\n/ && time < $deadline) {
            last unless $cs->can_read(1);
            my $n = sysread $c, $buf, 65536, length $buf;
            last unless $n;
        }
        my ($head) = $buf =~ /\A(.*?\r?\n\r?\n)/s;
        $head //= $buf;
        my $resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            . "Content-Length: " . length($head) . "\r\n"
            . "Connection: close\r\n\r\n" . $head;
        syswrite $c, $resp;
        close $c;
    }
}

# ---------------------------------------------------------------- redis

sub start_redis {
    my ($self) = @_;
    my $pid = $self->_spawn("$self->{dir}/redis.stdout", 'redis-server',
        '--port', $self->{redis_port}, '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
        '--daemonize', 'no', '--logfile', "$self->{dir}/redis.log");
    my $err = $self->_wait_ports($pid, $self->{redis_port});
    die "redis-server did not start: $err\n" . $self->read_file('redis.log')
        if defined $err;
    $self->{pids}{redis} = $pid;
    my $pong = $self->redis_cmd('PING');
    die "redis PING: $pong" unless defined $pong && $pong eq 'PONG';
    return $self;
}

# stop_redis(signal => 'KILL') for a crash rather than a shutdown
sub stop_redis {
    my ($self, %a) = @_;
    my $pid = delete $self->{pids}{redis} or return;
    _kill_wait($pid, $a{signal} || 'TERM');
}

# one command, one reply (simple RESP client); arrays as array refs
sub redis_cmd {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $self->{redis_port},
        Proto    => 'tcp',
        Timeout  => 5,
    ) or die "redis connect: $!";
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print $s $req;
    my $r = _resp_read($s);
    close $s;
    return $r;
}

sub _resp_read {
    my ($s) = @_;
    my $line = <$s>;
    die "redis: connection closed" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $t eq '+';
    return "ERR:$rest" if $t eq '-';
    return 0 + $rest if $t eq ':';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $data = '';
        read $s, $data, $rest + 2;
        return substr($data, 0, $rest);
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [map { _resp_read($s) } 1 .. $rest];
    }
    die "redis: bad reply $line";
}

# ---------------------------------------------------------------- HTTP/1.1

sub next_req_id { ++$REQ_SEQ . "-$$" }

# send exact bytes, read the whole answer (the request should say
# Connection: close); returns a ConsentTest::Response
sub raw {
    my ($self, $bytes, %o) = @_;
    my $port = $o{port} || $self->{port};
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => 5,
    ) or die "connect 127.0.0.1:$port: $!";
    binmode $s;
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite $s, $bytes, length($bytes) - $off, $off;
        die "write: $!" unless defined $n;
        $off += $n;
    }
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + ($o{timeout} || 10 * time_scale());
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread $s, $buf, 65536, length $buf;
        last unless $n;
    }
    close $s;
    my $r = ConsentTest::Response->parse($buf);
    ($r->{req}) = $bytes =~ /^X-Req: *([^\r\n]*)/mi;
    return $r;
}

# get($path, headers => [[Name => value], "Name: value", ...],
#     method => 'GET', port => ..., host => ..., no_req => 1, body => ...)
sub get {
    my ($self, $path, %o) = @_;
    my $method = $o{method} || 'GET';
    my $req = "$method $path HTTP/1.1\r\nHost: " . ($o{host} || 'localhost')
        . "\r\n";
    my $id;
    unless ($o{no_req}) {
        $id = next_req_id();
        $req .= "X-Req: $id\r\n";
    }
    for my $h (@{ $o{headers} || [] }) {
        $req .= ref $h ? "$h->[0]: $h->[1]\r\n" : "$h\r\n";
    }
    if (defined $o{body}) {
        $req .= "Content-Length: " . length($o{body}) . "\r\n";
    }
    $req .= "Connection: close\r\n\r\n";
    $req .= $o{body} if defined $o{body};
    my $r = $self->raw($req, %o);
    $r->{req} = $id;
    return $r;
}

# ---------------------------------------------------------------- HTTP/2

# h2_get($path, headers => [[name => value], ...]) over h2c prior knowledge
# with nghttp -v; every header is sent as its own field (so two cookie
# entries give two cookie fields).  Returns a ConsentTest::Response with
# extra {sent} = [[name, value], ...] as nghttp reports it sent them.
sub h2_get {
    my ($self, $path, %o) = @_;
    my $id = next_req_id();
    my @cmd = ('nghttp', '-v', '--timeout=10', '--no-dep',
        '-H', "x-req: $id");
    for my $h (@{ $o{headers} || [] }) {
        push @cmd, '-H', ref $h ? lc($h->[0]) . ": $h->[1]" : $h;
    }
    push @cmd, "http://127.0.0.1:" . ($o{port} || $self->{h2_port}) . $path;

    my $pid = open3(my $in, my $out, undef, @cmd);
    close $in;
    my @lines = <$out>;
    waitpid $pid, 0;
    my $rc = $? >> 8;

    my (@sent, @recv, $body, $in_send, $status);
    $body = '';
    for my $l (@lines) {
        if ($l =~ /^\[\s*[\d.]+\]\s+(.*)$/) {
            my $what = $1;
            $in_send = $what =~ /^send HEADERS frame/ ? 1 : 0;
            if ($what =~ /^recv \(stream_id=\d+\) ([^:\s][^:]*|:status): (.*)$/) {
                if ($1 eq ':status') { $status = $2 }
                else { push @recv, [$1, $2] }
            }
            next;
        }
        if ($l =~ /^ {10}(.*)$/) {
            my $f = $1;
            if ($in_send && $f =~ /^(:?[a-z0-9-]+): (.*)$/) {
                push @sent, [$1, $2];
            }
            next;
        }
        $in_send = 0;
        $body .= $l;
    }

    my $r = bless {
        status  => $status // 0,
        headers => \@recv,
        body    => $body,
        sent    => \@sent,
        rc      => $rc,
        output  => join('', @lines),
        req     => $id,
    }, 'ConsentTest::Response';
    return $r;
}

# ---------------------------------------------------------------- logs

# tab-separated key=value lines; returns list of hashes.  Values are as
# nginx logs them: "-" for a variable that was not found (e.g. no Cookie
# header at all), "" for an empty one; \xHH escapes are decoded.
sub log_entries {
    my ($self, $file) = @_;
    my @e;
    for my $line (split /\n/, $self->read_file($file)) {
        my %h;
        for my $f (split /\t/, $line) {
            my ($k, $v) = split /=/, $f, 2;
            $v //= '';
            $v =~ s/\\x([0-9A-Fa-f]{2})/chr hex $1/ge;   # nginx escaping
            $h{$k} = $v;
        }
        push @e, \%h;
    }
    return @e;
}

# poll until a log line for request id $id shows up (access logs are
# written after the response has been sent)
sub wait_log_entry {
    my ($self, $file, $id, %o) = @_;
    my $deadline = time + ($o{timeout} || 5 * time_scale());
    my @found;
    while (1) {
        @found = grep { ($_->{req} // '') eq $id } $self->log_entries($file);
        last if @found >= ($o{count} || 1) || time > $deadline;
        sleep 0.02;
    }
    return wantarray ? @found : $found[-1];
}

sub front_log  { my ($s, $r, %o) = @_; $s->wait_log_entry('access.log', $r->{req}, %o) }
sub origin_log { my ($s, $r, %o) = @_; $s->wait_log_entry('origin.log', $r->{req}, %o) }

# error.log lines matching a regex (polls briefly for at least one line)
sub error_log_grep {
    my ($self, $re, %o) = @_;
    my $deadline = time + ($o{timeout} // 2 * time_scale());
    my @l;
    while (1) {
        @l = grep { $_ =~ $re } split /^/, $self->read_file('error.log');
        last if @l || time > $deadline;
        sleep 0.02;
    }
    return @l;
}

# error.log lines matching a regex, now
sub error_log_count {
    my ($self, $re) = @_;
    return scalar grep { $_ =~ $re } split /^/, $self->read_file('error.log');
}

# until error.log has more lines matching re than $before (a count taken
# with error_log_count before the action): 1, or 0 after the deadline
sub wait_error_log {
    my ($self, $re, $before, %o) = @_;
    my $deadline = time + ($o{timeout} // 5 * time_scale());
    while (1) {
        return 1 if $self->error_log_count($re) > $before;
        return 0 if time > $deadline;
        sleep 0.02;
    }
}

# ================================================================ response

package ConsentTest::Response;

sub parse {
    my ($class, $buf) = @_;
    my $self = bless { raw => $buf, headers => [], body => '', status => 0 },
        $class;
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    return $self unless defined $head && length $head;
    my @lines = split /\r\n/, $head;
    my $sl = shift @lines;
    ($self->{status}) = $sl =~ m{^HTTP/\d\.\d (\d{3})};
    $self->{status} //= 0;
    for (@lines) {
        my ($k, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @{ $self->{headers} }, [$k, $v];
    }
    $rest //= '';
    if (lc($self->header('Transfer-Encoding') // '') eq 'chunked') {
        my $body = '';
        while ($rest =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $body .= substr($rest, 0, $n);
            substr($rest, 0, $n + 2) = '';
        }
        $self->{body} = $body;
    } elsif (defined(my $cl = $self->header('Content-Length'))) {
        $self->{body} = substr($rest, 0, $cl);
    } else {
        $self->{body} = $rest;
    }
    return $self;
}

sub status  { $_[0]{status} }
sub body    { $_[0]{body} }
sub req     { $_[0]{req} }
sub headers { @{ $_[0]{headers} } }

sub header {
    my ($self, $name) = @_;
    for (@{ $self->{headers} }) {
        return $_->[1] if lc $_->[0] eq lc $name;
    }
    return undef;
}

sub header_all {
    my ($self, $name) = @_;
    return map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $self->{headers} };
}

# X-C-<Name> header set by %%VARS_HEADERS%%, '' if absent
sub var {
    my ($self, $name) = @_;
    return $self->header('X-C-' . ucfirst $name) // '';
}

# the nginx origin's echo: { req, uri, cookie, consent, echo }
sub origin {
    my ($self) = @_;
    my %h;
    $h{$1} = $2 while $self->{body} =~ /^(\w+)=\[(.*)\]$/mg;
    return \%h;
}

# the raw origin's echo: the request head it received
sub raw_head { $_[0]{body} }

# Cookie header lines the raw origin received, in order
sub raw_cookie_lines {
    my ($self) = @_;
    my @c;
    for my $l (split /\r?\n/, $self->{body}) {
        push @c, $1 if $l =~ /^cookie:[ \t]*(.*?)[ \t]*$/i;
    }
    return @c;
}

1;
