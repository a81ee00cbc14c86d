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
#       workers => 2,                    # worker_processes (default 1)
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

our @EXPORT_OK = qw(mint_token mint_token_vendors vendor_hash sign_payload b64url repo_root module_path
    nginx_bin keys_line purpose_bit std_rules split_cookies config_test
    PURPOSES time_scale expiry_domains expiry_paths expiries
    nginx_at_least);

use constant PURPOSES => [qw(necessary functional analytics advertising
    personalization sharing)];

my $REPO = abs_path(dirname(abs_path(__FILE__)) . '/../..');

my @INSTANCES;
my $REQ_SEQ = 0;

sub repo_root   { $REPO }
sub module_path { $ENV{CONSENT_MODULE} || "$REPO/build/ngx_http_consent_module.so" }
sub nginx_bin   { $ENV{NGINX_BIN} || '/usr/sbin/nginx' }

# whether the nginx under test is at least the given version ("1.29.7"):
# some defaults the tests see changed upstream (proxy_http_version 1.1 in
# 1.29.7, RFC 3986 Host checks in 1.29.4)
my $NGINX_VERSION;

sub nginx_at_least {
    my ($want) = @_;
    my $bin = nginx_bin();
    my $num = sub { my ($a, $b, $c) = split /\./, $_[0];
                    ($a // 0) * 1_000_000 + ($b // 0) * 1_000 + ($c // 0) };

    if (!defined $NGINX_VERSION) {
        my $v = `$bin -v 2>&1`;
        ($NGINX_VERSION) = $v =~ m{nginx/(\d+\.\d+\.\d+)};
        die "cannot tell the version of $bin: $v" unless $NGINX_VERSION;
    }

    return $num->($NGINX_VERSION) >= $num->($want);
}

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

# a vendor name's 24-bit hash (consent_core/vendor_set.c: FNV-1a, folded)
sub vendor_hash {
    my ($name) = @_;
    my $h = 2166136261;
    for my $c (unpack 'C*', $name) {
        $h ^= $c;
        # 32-bit multiply without losing bits to doubles
        $h = (($h * (16777619 & 0xffff))
              + ((($h * (16777619 >> 16)) & 0xffff) << 16)) & 0xffffffff;
    }
    return ($h >> 24) ^ ($h & 0xffffff);
}

# a version 2 token: the vendors refused one by one, as their hashes
sub mint_token_vendors {
    my ($kid, $key, $subject, $mask, $vendors, $pv, $iat) = @_;
    $pv  //= 1;
    $iat //= time();
    my %seen;
    my @h = sort { $a <=> $b } grep { !$seen{$_}++ }
        map { vendor_hash($_) } @$vendors;
    my $form = join '', map { b64url(substr(pack('N', $_), 1)) } @h;
    my $payload = sprintf('2.%s.%s.%08x.%d.%d.%s', $kid, $subject, $mask,
        $pv, int($iat), $form);
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

# ---------------------------------------------------------------- expiry
#
# What consent_expire_rejected and the API's withdrawals write, modelled
# independently of the module: the Domain= values for a Host (besides the
# host-only variant), the Path= values for a request path, and the whole
# ordered list of expiry headers.

# expiry_domains($host, @configured): at most 4; with configured domains,
# those the host is or is under, then the host; without, the last two
# labels, the host, then the parents between (nearest the last two first).
# None for an IP address, a single label or odd bytes.
sub expiry_domains {
    my ($host, @conf) = @_;
    return () unless defined $host && length $host && length $host <= 253;
    return () if $host =~ /[^A-Za-z0-9._-]/ || $host =~ /\A\.|\.\z|\.\./;
    return () if $host !~ /\./ || $host =~ /\A[0-9.]+\z/;
    my @d;
    my $add = sub {
        my ($x) = @_;
        push @d, $x if @d < 4 && !grep { $_ eq $x } @d;
    };
    if (@conf) {
        for my $c (@conf) {
            $add->(substr($host, -length $c))
                if lc($host) eq lc($c) || lc($host) =~ /\.\Q${\ lc $c}\E\z/;
        }
        return () unless @d;
        $add->($host);
        return @d;
    }
    my @l = split /\./, $host;
    my $reg = join '.', @l[-2, -1];
    $add->($reg);
    $add->($host);
    for my $i (reverse 1 .. $#l - 2) {
        $add->(join '.', @l[$i .. $#l]);
    }
    return @d;
}

# expiry_paths($path): "/", then "/dir" and "/dir/" for the first three
# directories, up to the first byte a Path attribute must not carry
sub expiry_paths {
    my ($path) = @_;
    my @p = ('/');
    return @p unless defined $path && $path =~ m{\A/};
    $path =~ s/\?.*//s;
    my $levels = 0;
    for my $i (1 .. length($path) - 1) {
        my $c = substr $path, $i, 1;
        last if $c =~ /[\x00-\x20\x7f-\xff;,"\\?#]/;
        next if $c ne '/' || substr($path, $i - 1, 1) eq '/';
        push @p, substr($path, 0, $i), substr($path, 0, $i + 1);
        last if ++$levels == 3;
    }
    return @p;
}

# expiries(host => H, path => P, names => [...], domains => [...],
# secure => 0|1): the expiry Set-Cookie values in the module's order
# (likeliest place first for every name: Path=/ host-only, Path=/ on each
# domain, then the deeper paths), names that are not tokens left out,
# duplicates once, at most 128
sub expiries {
    my (%a) = @_;
    my (%seen, @names);
    for my $n (@{ $a{names} }) {
        next if $seen{$n}++ || $n !~ /\A[!#\$%&'*+\-.^_`|~0-9A-Za-z]+\z/;
        push @names, $n;
    }
    @names = @names[0 .. 31] if @names > 32;
    my @doms = (undef, expiry_domains($a{host}, @{ $a{domains} || [] }));
    my @out;
    for my $p (expiry_paths($a{path} // '/')) {
        for my $d (@doms) {
            for my $n (@names) {
                my $host_prefix = $n =~ /\A__Host-/;
                next if $host_prefix && ($p ne '/' || defined $d);
                my $v = "$n=; Max-Age=0; Path=$p";
                $v .= "; Domain=$d" if defined $d;
                $v .= '; Secure' if $a{secure} || $host_prefix
                    || $n =~ /\A__Secure-/;
                push @out, $v;
            }
        }
    }
    splice @out, 128 if @out > 128;
    return @out;
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
        workers => $a{workers} || 1,
        files   => $a{files} || {},
        h2      => $a{h2} ? 1 : 0,
        want_redis => $a{redis} ? 1 : 0,
        nginx_env  => $a{nginx_env},
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
        $self->_first_start;
    }

    return $self;
}

# Ports are picked free, then bound by redis-server and nginx a little
# later: another process on the machine (another test file under prove
# -j, a benchmark) may take one in between.  The first start picks new
# ports and tries again when that happened, before any test saw a port.
sub _first_start {
    my ($self) = @_;
    for my $try (1 .. 5) {
        my $ok = eval {
            $self->start_redis if $self->{want_redis};
            $self->start;
            1;
        };
        return if $ok;
        my $err = $@;
        die $err if $try == 5 || $err !~ /Address already in use|not ours/;
        $self->stop_nginx;
        $self->stop_redis;
        # the failed attempt's bind() errors are not this test's
        unlink map { "$self->{dir}/$_" } qw(error.log stderr.log redis.log);
        @$self{qw(port h2_port origin_port redis_port)} = _alloc_ports(4);
        $self->write_config;
        $self->{started} = 0;
    }
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
worker_processes $self->{workers};
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
    my $env = ref $cmd[0] eq 'HASH' ? shift @cmd : {};
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $ENV{$_} = $env->{$_} for keys %$env;
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

    my $pid = $self->_spawn("$self->{dir}/stderr.log",
        $self->{nginx_env} || {}, nginx_bin(),
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
        my $gone = waitpid($pid, WNOHANG) == $pid;
        delete $self->{pids}{nginx} if $gone;
        die "nginx ($self->{name}) " . ($gone ? 'exited' : 'started no worker')
            . "\n" . $self->read_file('error.log')
            if $gone || time > $deadline;
        sleep 0.02;
    }
    $self->wait_subscribed;
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
    # the port answers: this redis-server, not whoever got the port first
    my $info = eval { $self->redis_cmd('INFO', 'server') } // '';
    if ($info !~ /^process_id:$pid\r?$/m) {
        $self->stop_redis;
        die "redis port $self->{redis_port} is not ours: "
            . $self->read_file('redis.log');
    }
    return $self;
}

# With a consent_zone, each worker subscribes to <prefix>inval and caches
# nothing read before it listens: started means every worker logged that
# it listens (when the test's own Redis is up and the configuration has a
# zone).  The log line is written once the worker has read the answer.
sub wait_subscribed {
    my ($self) = @_;
    return unless $self->{pids}{redis};
    my $conf = $self->read_file('nginx.conf');
    return unless $conf =~ /^\s*consent_zone\b/m;
    return unless $conf =~ /consent_redis\s+127\.0\.0\.1:\Q$self->{redis_port}\E\b/;
    my %want = map { $_ => 1 } $self->worker_pids;
    my $deadline = time + 10 * time_scale();
    while (time < $deadline) {
        my %seen;
        my $log = $self->read_file('error.log');
        $seen{$1} = 1
            while $log =~ /\[info\] (\d+)#\d+: consent redis: listening to /g;
        return unless grep { !$seen{$_} } keys %want;
        sleep 0.02;
    }
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
    my ($r) = resp_cmds($self->{redis_port}, \@args);
    return $r;
}

# resp_cmds($port, [cmd, args...], ...): the commands one after the other
# on one connection to 127.0.0.1:$port, each reply read before the next
# command is written; the replies, as redis_cmd gives them.  $port may be
# { port => P, timeout => S }: dies when the server has not answered
# everything within S seconds (a whole number) instead of waiting on.
sub resp_cmds {
    my ($to, @cmds) = @_;
    my %o = ref $to ? %$to : (port => $to);
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $o{port},
        Proto    => 'tcp',
        Timeout  => 5,
    ) or die "redis connect: $!";
    my @r;
    my $run = sub {
        for my $c (@cmds) {
            print $s resp_encode_cmd(@$c);
            push @r, _resp_read($s);
        }
    };
    if ($o{timeout}) {
        my $ok = eval {
            local $SIG{ALRM} = sub {
                die "redis 127.0.0.1:$o{port}: no answer within "
                    . "$o{timeout}s\n";
            };
            alarm $o{timeout};
            $run->();
            alarm 0;
            1;
        };
        alarm 0;
        close $s;
        die $@ unless $ok;
    } else {
        $run->();
        close $s;
    }
    return @r;
}

# a command as RESP: an array of bulk strings
sub resp_encode_cmd {
    my (@args) = @_;
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    return $req;
}

# consentctl against this test's Redis: { rc, out, err }; a crash or a
# sanitizer report fails a test (CONSENTCTL_BIN, CONSENTCTL_WRAPPER as
# t/51 takes them).  A hash ref first, { conn => [...], env => {...} },
# gives the connection options instead of "-p REDIS_PORT" ([] for none)
# and variables for consentctl's environment; without it the
# environment's CONSENTCTL_* are not passed on.  It serves any object
# with a dir and a read_file method (ConsentCluster's consentctl).
sub consentctl {
    my ($self, @args) = @_;
    my %o = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    my @conn = $o{conn} ? @{ $o{conn} } : ('-p', $self->{redis_port});
    my $bin = $ENV{CONSENTCTL_BIN} || "$REPO/build/consentctl";
    my $n = ++$self->{ctl_seq};
    my ($out, $err) = map { "$self->{dir}/consentctl-$n.$_" } qw(out err);
    my @wrap = split ' ', ($ENV{CONSENTCTL_WRAPPER} // '');
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        delete $ENV{$_} for grep { /\ACONSENTCTL_(?:REDIS|SENTINEL|MASTER)\z/ }
            keys %ENV;
        $ENV{$_} = $o{env}{$_} for keys %{ $o{env} || {} };
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec @wrap, $bin, @conn, @args
            or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my %r = (rc => $? >> 8, out => $self->read_file($out),
        err => $self->read_file($err));
    Test::More::ok(!($? & 127) && $r{rc} != 99
            && $r{err} !~ /Sanitizer|runtime error:/,
        "consentctl @args[0 .. ($#args < 1 ? $#args : 1)]: no crash")
        or Test::More::diag($r{err});
    return \%r;
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

# a keep-alive connection to the front (or o{port})
sub ka_connect {
    my ($self, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $o{port} || $self->{port}, Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    return $s;
}

# one raw request on it: the answer (Content-Length or chunked), or undef
# when the connection went away
sub ka_request {
    my ($self, $s, $req) = @_;
    my $off = 0;
    while ($off < length $req) {
        my $w = syswrite $s, $req, length($req) - $off, $off;
        return undef unless $w;
        $off += $w;
    }
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + 10 * time_scale();
    while (time < $deadline) {
        if ($buf =~ /\A(.*?\r\n\r\n)/s) {
            my $head = $1;
            my $need;
            if ($head =~ /^Content-Length:[ \t]*(\d+)/mi) {
                $need = length($head) + $1;
            } elsif ($head =~ /^Transfer-Encoding:[ \t]*chunked/mi) {
                $need = length($buf) if $buf =~ /\r\n0\r\n\r\n\z/;
            } else {
                return undef;
            }
            return ConsentTest::Response->parse(substr $buf, 0, $need)
                if defined $need && length $buf >= $need;
        }
        last unless $sel->can_read($deadline - time);
        my $r = sysread $s, $buf, 65536, length $buf;
        last unless $r;
    }
    return undef;
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

# h2_request($path, headers => [[name => value], ...], no_req => 1,
# port => ...): h2_get, with a body that is exact at any size.  nghttp -v
# prints a DATA frame's line after the frame's data, so h2_get's body has
# those lines spliced in once it spans several frames; here the body is
# rebuilt from the frames, each frame's data being exactly the <length=N>
# bytes printed before its line.  With no_req, no x-req is added (the
# caller places its own among the headers; {req} is then undef).  Returns
# what h2_get does, plus {frames} (the DATA frame lengths); {body} is
# undef when the output cannot be taken apart that way.
sub h2_request {
    my ($self, $path, %o) = @_;
    my $id = $o{no_req} ? undef : next_req_id();
    my @cmd = ('nghttp', '-v', '--timeout=10', '--no-dep',
        defined $id ? ('-H', "x-req: $id") : ());
    for my $h (@{ $o{headers} || [] }) {
        push @cmd, '-H', ref $h ? lc($h->[0]) . ": $h->[1]" : $h;
    }
    push @cmd, "http://127.0.0.1:" . ($o{port} || $self->{h2_port}) . $path;

    my $pid = open3(my $in, my $out, undef, @cmd);
    close $in;
    binmode $out;
    my $output = do { local $/; <$out> } // '';
    waitpid $pid, 0;
    my $rc = $? >> 8;

    # the frame lines before the response's first data
    my (@sent, @recv, $status, $in_send);
    my $pos = 0;
    my $data_at;
    while ($output =~ /\G([^\n]*\n)/gc) {
        my $l = $1;
        $pos = pos $output;
        if ($l =~ /^\[\s*[\d.]+\]\s+(.*)$/) {
            my $what = $1;
            $in_send = $what =~ /^send HEADERS frame/ ? 1 : 0;
            if ($what =~ /^recv \(stream_id=\d+\) ([^:\s][^:]*|:status): (.*)$/) {
                if ($1 eq ':status') { $status = $2 }
                else { push @recv, [$1, $2] }
            }
            if ($what =~ /^recv HEADERS frame/) {
                # its detail lines, then the data (if any)
                while ($output =~ /\G( {10}[;(\[][^\n]*\n)/gc) { }
                $data_at = pos($output) // $pos;
                last;
            }
            next;
        }
        if ($in_send && $l =~ /^ {10}(:?[a-z0-9-]+): (.*)$/) {
            push @sent, [$1, $2];
        }
    }

    my ($body, @frames);
    if (defined $data_at) {
        $body = '';
        my $p = $data_at;
        my $frame = qr/\[\s*[\d.]+\] recv DATA frame <length=(\d+), flags=0x([0-9a-f]{2}), stream_id=\d+>\n(?: {10}[^\n]*\n)*/;
        my $other = qr/\[\s*[\d.]+\] (?:send|recv) (?!DATA)[^\n]*\n(?: {10}[^\n]*\n)*/;
        while (1) {
            pos($output) = $p;
            if ($output =~ /\G$other/gc) { $p = pos $output; next }
            # the next DATA line whose length is the distance to it
            my $found;
            pos($output) = $p;
            while ($output =~ /$frame/g) {
                my ($len, $flags) = ($1, hex $2);
                my $at = $-[0];
                next if $at - $p != $len;
                $body .= substr($output, $p, $len);
                push @frames, $len;
                $p = pos $output;
                $found = ($flags & 1) ? 'end' : 'more';
                last;
            }
            if (!$found) { $body = undef; last }
            last if $found eq 'end';
        }
    }

    return bless {
        status  => $status // 0,
        headers => \@recv,
        body    => $body,
        sent    => \@sent,
        frames  => \@frames,
        rc      => $rc,
        output  => $output,
        req     => $id,
    }, 'ConsentTest::Response';
}

# h2c_request($path, headers => [[name => value], ...], method => 'GET',
# authority => 'localhost', port => ...): one HTTP/2 request over h2c
# (prior knowledge) from this process, without nghttp: the fields go out
# exactly as given, in order, names and values byte for byte (each a
# literal without indexing, no Huffman), so a test can send what clients
# such as nghttp refuse or rewrite (empty values, leading spaces, tabs,
# bytes above 0x7f) and send hundreds of requests in the time nghttp
# takes to start a few.  Each header is its own field (cookies included).
# No x-req is added.  Returns a ConsentTest::Response with status (from
# the response's first field: nginx sends :status first) and body; the
# response's other fields are not decoded ({headers} is empty).  On a
# refused stream or a closed connection, status is 0 and {error} says why.
sub h2c_request {
    my ($self, $path, %o) = @_;
    my $port = $o{port} || $self->{h2_port};
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5) or die "connect 127.0.0.1:$port: $!";
    binmode $s;

    my $int = sub {       # RFC 7541 5.1, prefix bits and the first byte's flags
        my ($n, $bits, $flags) = @_;
        my $max = (1 << $bits) - 1;
        return chr($flags | $n) if $n < $max;
        my $r = chr($flags | $max);
        $n -= $max;
        while ($n >= 128) { $r .= chr(($n & 0x7f) | 0x80); $n >>= 7 }
        return $r . chr($n);
    };
    my $str = sub { $int->(length $_[0], 7, 0) . $_[0] };
    my $frame = sub {
        my ($type, $flags, $sid, $payload) = @_;
        return substr(pack('N', length $payload), 1)
            . pack('CCN', $type, $flags, $sid) . $payload;
    };

    my $block = '';
    for my $h ([':method', $o{method} || 'GET'], [':scheme', 'http'],
        [':authority', $o{authority} // 'localhost'], [':path', $path],
        @{ $o{headers} || [] })
    {
        $block .= "\x00" . $str->($h->[0]) . $str->($h->[1]);
    }

    # HEADERS (END_STREAM), then CONTINUATION frames of at most 16384
    my $out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" . $frame->(4, 0, 0, '');
    my @chunks = unpack '(a16384)*', $block;
    @chunks = ('') unless @chunks;
    for my $i (0 .. $#chunks) {
        my $flags = ($i == 0 ? 0x1 : 0) | ($i == $#chunks ? 0x4 : 0);
        $out .= $frame->($i == 0 ? 1 : 9, $flags, 1, $chunks[$i]);
    }
    my $off = 0;
    while ($off < length $out) {
        my $n = syswrite $s, $out, length($out) - $off, $off;
        die "write: $!" unless defined $n;
        $off += $n;
    }

    my %st = (
        status  => 0,
        headers => [],
        body    => '',
        req     => undef,
    );
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + ($o{timeout} || 10 * time_scale());
    my $done;
    READ: while (!$done) {
        while (length $buf >= 9) {
            my ($lenhi, $lenlo, $type, $flags, $sid) = unpack 'CnCCN', $buf;
            my $len = ($lenhi << 16) | $lenlo;
            last if length $buf < 9 + $len;
            my $payload = substr $buf, 9, $len;
            substr($buf, 0, 9 + $len) = '';
            $sid &= 0x7fffffff;
            if ($type == 4 && !($flags & 1)) {            # SETTINGS: ack
                syswrite $s, $frame->(4, 1, 0, '');
            } elsif ($type == 7) {                        # GOAWAY
                $st{error} = 'GOAWAY ' . unpack('x4N', $payload);
                last READ;
            } elsif ($sid == 1 && $type == 3) {           # RST_STREAM
                $st{error} = 'RST_STREAM ' . unpack('N', $payload);
                last READ;
            } elsif ($sid == 1 && $type == 1) {           # HEADERS
                my $p = $payload;
                if ($flags & 0x8) {                       # PADDED
                    my $pad = ord $p;
                    $p = substr $p, 1, length($p) - 1 - $pad;
                }
                $p = substr $p, 5 if $flags & 0x20;       # PRIORITY
                my $b = ord $p;
                my %idx = (8 => 200, 9 => 204, 10 => 206, 11 => 304,
                    12 => 400, 13 => 404, 14 => 500);
                if ($b & 0x80) {
                    $st{status} = $idx{$b & 0x7f} // 0;
                } elsif (($b & 0xf0) == 0 && ($b & 0x0f) == 8
                    || ($b & 0xc0) == 0x40 && ($b & 0x3f) == 8)
                {
                    my ($l) = unpack 'x C', $p;
                    $st{status} = substr($p, 2, $l & 0x7f) + 0
                        unless $l & 0x80;
                }
                $done = 1 if $flags & 0x1;
            } elsif ($sid == 1 && $type == 0) {           # DATA
                my $p = $payload;
                if ($flags & 0x8) {
                    my $pad = ord $p;
                    $p = substr $p, 1, length($p) - 1 - $pad;
                }
                $st{body} .= $p;
                $done = 1 if $flags & 0x1;
            }
        }
        last if $done;
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $st{error} = 'timeout';
            last;
        }
        my $n = sysread $s, $buf, 65536, length $buf;
        unless ($n) {
            $st{error} = 'connection closed';
            last;
        }
    }
    close $s;
    $st{status} = 0 if $st{error};
    return bless \%st, 'ConsentTest::Response';
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

# ---------------------------------------------------------------- redis proxy

# redis_pipeline([cmd, args...], ...): many commands on one connection,
# all written before any reply is read; the replies, in order
sub redis_pipeline {
    my ($self, @cmds) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $self->{redis_port},
        Proto    => 'tcp',
        Timeout  => 5,
    ) or die "redis connect: $!";
    my $req = '';
    for my $c (@cmds) {
        $req .= '*' . @$c . "\r\n";
        $req .= '$' . length($_) . "\r\n$_\r\n" for @$c;
    }
    print $s $req;
    my @r = map { _resp_read($s) } @cmds;
    close $s;
    return @r;
}

# start_redis_proxy: a TCP proxy, in a child process, between nginx and
# this instance's redis-server (point consent_redis at $p->port), for the
# faults Redis itself does not make.  A connection that sent SUBSCRIBE is
# a subscriber, any other a lookup connection.  $p->cmd(WORD [ARG]) asks
# for one of these and returns the proxy's answer once it is done:
#   hold, release   keep back what Redis sends on lookup connections;
#                   forward what was kept, in order, and stop keeping
#   held            bytes kept back
#   freeze          stop forwarding, both ways, on every subscriber
#                   connection open now: both sockets stay open, unread
#                   (a peer gone without FIN or RST); answers how many
#                   were not frozen yet
#   freeze_new 1|0  freeze subscriber connections made from now on too
#   thaw            forward again on every frozen connection
#   hold_ping, release_ping   keep back the PINGs subscribers send (what
#                   follows them too); forward them
#   pings           PINGs kept back
#   pinged          PINGs subscribers sent, in all
#   subs            subscriber connections open and not frozen
# A server of a test's own in a child process that never returns to the
# test: no END block, no TAP pipe, TERM ends it, its output to $log.
# $loop runs there (a die is logged as "$what: ..."); the child's pid.
sub fork_server {
    my ($log, $what, $loop) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    return $pid if $pid;
    $SIG{TERM} = sub { POSIX::_exit(0) };
    $SIG{PIPE} = 'IGNORE';
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', $log;
    open STDERR, '>&', \*STDOUT;
    STDOUT->autoflush(1);
    my $ok = eval { $loop->(); 1 };
    print STDERR "$what: $@" unless $ok;
    POSIX::_exit($ok ? 0 : 1);
}

sub start_redis_proxy {
    my ($self) = @_;
    my %l = (LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        ReuseAddr => 1);
    my $lsn = IO::Socket::INET->new(%l, Listen => 64)
        or die "redis proxy: $!";
    my $ctl = IO::Socket::INET->new(%l, Listen => 4)
        or die "redis proxy control: $!";
    my $parent = $$;
    my $pid = fork_server("$self->{dir}/redis-proxy.log", 'redis proxy',
        sub { _redis_proxy_loop($self->{redis_port}, $lsn, $ctl, $parent) });
    my ($port, $ctl_port) = ($lsn->sockport, $ctl->sockport);
    close $lsn;
    close $ctl;
    $self->{pids}{redis_proxy} = $pid;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $ctl_port, Proto => 'tcp', Timeout => 5)
        or die "redis proxy control connect: $!";
    $c->autoflush(1);
    return bless { t => $self, pid => $pid, port => $port, ctl => $c },
        'ConsentTest::RedisProxy';
}

sub _proxy_send {
    my ($fh, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $fh, $data, length($data) - $off, $off;
        return 0 unless $n;
        $off += $n;
    }
    return 1;
}

sub _redis_proxy_loop {
    my ($redis_port, $lsn, $ctl, $parent) = @_;
    my (@conns, %side, @ctls);
    my %st = (hold => 0, freeze_new => 0, hold_ping => 0, pinged => 0);

    my $close = sub {
        my ($k) = @_;
        return if $k->{dead}++;
        for my $fh ($k->{c}, $k->{u}) {
            delete $side{ fileno $fh } if defined fileno $fh;
            close $fh;
        }
    };
    my $flush = sub {
        my ($k, $buf, $to) = @_;
        my $data = $k->{$buf};
        $k->{$buf} = '';
        $close->($k) if length $data && !_proxy_send($k->{$to}, $data);
    };
    my %do = (
        hold    => sub { $st{hold} = 1; 'ok' },
        release => sub {
            $st{hold} = 0;
            $flush->($_, 'down', 'c') for grep { !$_->{dead} } @conns;
            'ok';
        },
        held    => sub { my $n = 0; $n += length $_->{down} for @conns; $n },
        freeze  => sub {
            my @f = grep { $_->{sub} && !$_->{dead} && !$_->{frozen} }
                @conns;
            $_->{frozen} = 1 for @f;
            scalar @f;
        },
        freeze_new => sub { $st{freeze_new} = $_[0] ? 1 : 0; 'ok' },
        thaw    => sub {
            for my $k (grep { $_->{frozen} && !$_->{dead} } @conns) {
                $k->{frozen} = 0;
                $flush->($k, 'up', 'u');
            }
            'ok';
        },
        hold_ping    => sub { $st{hold_ping} = 1; 'ok' },
        release_ping => sub {
            $st{hold_ping} = 0;
            for my $k (grep { !$_->{dead} && !$_->{frozen} } @conns) {
                $k->{pings} = 0;
                $flush->($k, 'up', 'u');
            }
            'ok';
        },
        pings   => sub { my $n = 0; $n += $_->{pings} for @conns; $n },
        pinged  => sub { $st{pinged} },
        subs    => sub {
            scalar grep { $_->{sub} && !$_->{frozen} && !$_->{dead} } @conns;
        },
    );

    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        @conns = grep { !$_->{dead} || $_->{frozen} } @conns;
        my $sel = IO::Select->new($lsn, $ctl, @ctls);
        $sel->add($_->{c}, $_->{u})
            for grep { !$_->{frozen} && !$_->{dead} } @conns;

        for my $fh ($sel->can_read(0.2)) {
            if ($fh == $lsn) {
                my $c = $lsn->accept or next;
                my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                    PeerPort => $redis_port, Proto => 'tcp');
                unless ($u) { close $c; next }
                my $k = { c => $c, u => $u, up => '', down => '',
                    pings => 0 };
                push @conns, $k;
                $side{ fileno $c } = [$k, 'c'];
                $side{ fileno $u } = [$k, 'u'];
                next;
            }
            if ($fh == $ctl) {
                my $c = $ctl->accept or next;
                push @ctls, $c;
                next;
            }
            if (grep { $_ == $fh } @ctls) {
                my $line = <$fh>;
                unless (defined $line) {
                    @ctls = grep { $_ != $fh } @ctls;
                    close $fh;
                    next;
                }
                my ($word, $arg) = split ' ', $line;
                my $h = $do{ $word // '' };
                _proxy_send($fh, ($h ? $h->($arg) : "unknown $word") . "\n");
                next;
            }
            my $s = $side{ fileno $fh } or next;
            my ($k, $from) = @$s;
            next if $k->{dead} || $k->{frozen};
            my $n = sysread $fh, my $data, 65536;
            unless ($n) { $close->($k); next }
            if ($from eq 'c') {
                if (!$k->{sub} && $data =~ /SUBSCRIBE/i) {
                    $k->{sub} = 1;
                    $k->{frozen} = 1 if $st{freeze_new};
                }
                if ($k->{sub} && $data =~ /\bPING\b/i) {
                    $st{pinged}++;
                    $k->{pings}++ if $st{hold_ping};
                }
                if ($k->{frozen} || ($k->{sub} && $st{hold_ping}
                        && ($k->{pings} || length $k->{up})))
                {
                    $k->{up} .= $data;
                    next;
                }
                $close->($k) unless _proxy_send($k->{u}, $data);
            } else {
                if (!$k->{sub} && ($st{hold} || length $k->{down})) {
                    $k->{down} .= $data;
                    next;
                }
                $close->($k) unless _proxy_send($k->{c}, $data);
            }
        }
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

# ================================================================ redis proxy

package ConsentTest::RedisProxy;

sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }

# one command to the proxy (see ConsentTest::start_redis_proxy): its answer
sub cmd {
    my ($self, @words) = @_;
    my $c = $self->{ctl};
    print $c join(' ', @words), "\n";
    my $line = <$c>;
    die "redis proxy: no answer to @words\n" unless defined $line;
    chomp $line;
    return $line;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{t}{pids}{redis_proxy} or return;
    close $self->{ctl};
    ConsentTest::_kill_wait($pid, 'TERM');
}

1;
