# A refused tracker cookie never reaches the origin under a tracker's name,
# however the origin's framework reads the Cookie header.
#
# nginx with the module (consent on, an opt_in visitor: nothing granted,
# rules _ga, _ga_*, _fbp and ~_pk_(id|ses)\..*) proxies to the harness's
# raw origin, which echoes the exact request head it got.  The test sends
# a corpus of tricky Cookie headers over HTTP/1.1 as raw bytes (anything
# but NUL, CR and LF, which nginx refuses): whitespace inside a pair
# (x=1 _ga=2, x="1" _ga=2, x=1, _ga=2), VT, FF, 0x1c-0x1f, 0x85, 0xA0,
# UTF-8 NBSP and U+3000 around names, PHP's names (.ga, _ga.x, _ga x,
# _ga[a], an unclosed '['), bare names without '=', several Cookie lines;
# and look-alikes that must stay (%5Fga, _GA, x="a _ga", _pk_ref.1...).
#
# Then the Cookie lines the origin received go to the real parsers, each
# run once for the whole corpus (drivers in t/lib/origin-parsers/):
#
#   simple    Python http.cookies.SimpleCookie (Bottle, aiohttp, CherryPy)
#   werkzeug  Werkzeug (Flask) Request.cookies, Debian python3-werkzeug
#   dj-wsgi   Django WSGIRequest.COOKIES (UTF-8 re-decoding), python3-django
#   dj-parse  Django parse_cookie() on the latin-1 header (its ASGI path)
#   php       PHP $_COOKIE through php-cgi as a FastCGI server (php-fpm's
#             path), Debian php-cgi
#   rack      Ruby Rack::Request#cookies, Debian ruby-rack
#   node1     npm cookie 1.1.1 parse() (Express, Fastify...)
#   node06    npm cookie 0.6.0 parse() (older Express stacks; trims more)
#
# The npm packages are installed once into build/npm (npm install
# --prefix, exact versions); without node, npm or the registry the two
# node columns are skipped, as is any parser whose Debian package is
# missing (make deps installs them: python3-werkzeug, python3-django,
# php-cgi, ruby-rack, nodejs; npm comes with the machine's Node.js).
#
# Several Cookie lines reach an application in more than one way, and
# each is fed to every parser: each line alone (HTTP/2 origins, Go,
# servers that keep the first or last line), joined with "; " (nginx 1.23+
# for FastCGI/uwsgi/SCGI, Node's http), joined with ", " and with ","
# (WSGI servers: gunicorn and wsgiref join repeated headers with ","), and
# for PHP one HTTP_COOKIE FastCGI parameter per line, as nginx 1.22 sends
# them (PHP keeps the last).
#
# For every input, delivery and parser: no name the parser reads matches a
# refused rule (the four rules, matched here in Perl as the module does:
# exact, prefix, whole-name regex, case-sensitive); and the ordinary
# cookies and look-alikes of the case are all read, under the names the
# parser reads them by (not checked for the comma joins, which glue the
# first pair of a line to the previous value, nor for PHP's last-line
# parameters).  Look-alike-only cases must reach the origin unchanged.
# And the corpus itself is checked, sent unfiltered: every tracker case
# gives a refused name to some parser (when all of them ran), and every
# look-alike is read as itself and as nothing refused.
#
# On failure a table shows, per case and delivery, what each parser got
# wrong (LEAK: refused names it read; MISS: cookies it no longer reads).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Fcntl qw(:flock);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use ConsentTest qw(repo_root time_scale);

my $T0 = time;
my $DRV = "$FindBin::Bin/lib/origin-parsers";

# ---------------------------------------------------------------- rules

my $RULES = <<'EOF';
_ga                 analytics    google
_ga_*               analytics    google
_fbp                advertising  meta
~_pk_(id|ses)\..*   analytics    matomo
EOF

# what the module refuses for an opt_in visitor (nothing granted): the same
# four rules, on the bytes of a name
sub refused {
    my ($n) = @_;
    return $n eq '_ga' || $n eq '_fbp' || $n =~ /\A_ga_/
        || $n =~ /\A(?:_pk_(?:id|ses)\..*)\z/;
}

# ---------------------------------------------------------------- corpus
#
# { name, lines => [Cookie line values as sent], keep => [names every
# parser must read] or { '*' => [...], php => [...] } when PHP reads them
# under other names, clean => 1 for look-alikes only (nothing refused) }

my @CASES;

sub case {
    my ($name, $lines, $keep, %o) = @_;
    push @CASES, { name => $name, lines => $lines, keep => $keep, %o };
}

# ordinary trackers beside ordinary cookies
case('plain trackers', ['_ga=GA1.2.3.4; sid=abc; _fbp=fb.1.2.3; _gid=GA1.2.5'],
    [qw(sid _gid)]);
case('prefix and regex rules',
    ['_ga_ABC123=GS1.1.1; theme=dark; _pk_id.1.a1b2=x.y; _pk_ses.1.a1b2=1'],
    ['theme']);

# whitespace inside a pair: SimpleCookie reads a second cookie there
case('x=1 _ga=2', ['sid=1; x=1 _ga=2; k=3'], [qw(sid k)]);
case('x="1" _ga=2', ['x="1" _ga=2; sid=1'], ['sid']);
case('x=1, _ga=2', ['x=1, _ga=2; sid=1'], ['sid']);
case('x=1 _ga = 2', ['sid=1; x=1 _ga = 2'], ['sid']);
case('x=1 HT _ga=2', ["sid=1; x=1\t_ga=2"], ['sid']);
case('x=1 VT _ga=2', ["sid=1; x=1\x0b_ga=2"], ['sid']);
case('x=1 FF _fbp=2', ["sid=1; x=1 \x0c_fbp=2"], ['sid']);
case('x=1 secure _ga=2', ['sid=1; x=1 secure _ga=2'], ['sid']);
case('x="a b" _ga_XYZ=2', ['sid=1; x="a b" _ga_XYZ=2'], ['sid']);
case('x=1 _pk_ses.9.ab=2', ['sid=1; x=1 _pk_ses.9.ab=2'], ['sid']);
case('_gid=1 _ga=2', ['_gid=1 _ga=2; sid=1'], ['sid']);

# bytes around a name that some framework strips
my @SPACES = (
    [VT => "\x0b"], [FF => "\x0c"], [FS => "\x1c"], [GS => "\x1d"],
    [RS => "\x1e"], [US => "\x1f"], [NEL => "\x85"], [NBSP => "\xa0"],
    ['UTF-8 NBSP' => "\xc2\xa0"], ['UTF-8 U+3000' => "\xe3\x80\x80"],
    ['UTF-8 U+2000' => "\xe2\x80\x80"], ['UTF-8 NEL' => "\xc2\x85"],
);
for my $s (@SPACES) {
    my ($what, $b) = @$s;
    case("$what before _ga", ["sid=1; ${b}_ga=2; k=3"], [qw(sid k)]);
    case("_ga then $what", ["sid=1; _ga${b}=2; k=3"], [qw(sid k)]);
    case("$what at header start", ["${b}_ga=2; sid=1"], ['sid']);
}
case('US before _ga_X', ["sid=1; \x1f_ga_X=1"], ['sid']);
case('_fbp then NBSP', ["sid=1; _fbp\xa0=1"], ['sid']);
case('UTF-8 NBSP before _pk_id', ["sid=1; \xc2\xa0_pk_id.1.x=1"], ['sid']);
case('FF at header start, _fbp', ["\x0c_fbp=1; sid=1"], ['sid']);
case('HT before _ga', ["sid=1;\t_ga=2"], ['sid']);
case('HT at header start', ["\t_ga=1; sid=1"], ['sid']);

# PHP's names: ' ' and '.' become '_', name[...] is an array
case('.ga', ['.ga=1; sid=1'], ['sid']);
case('_ga.x', ['sid=1; _ga.x=1'], ['sid']);
case('_ga x', ['sid=1; _ga x=1'], ['sid']);
case('_ga.', ['sid=1; _ga.=1'], ['sid']);
case('_ga[a]', ['sid=1; _ga[a]=1'], ['sid']);
case('_ga[]', ['sid=1; _ga[]=1'], ['sid']);
case('_ga[a][b]', ['sid=1; _ga[a][b]=1'], ['sid']);
case('_ga[ unclosed', ['sid=1; _ga[=1'], ['sid']);
case('_ga[a unclosed', ['sid=1; _ga[a=1'], ['sid']);
case('.ga[x]', ['sid=1; .ga[x]=1'], ['sid']);
case('.fbp', ['sid=1; .fbp=1'], ['sid']);
case('_fbp[0]', ['sid=1; _fbp[0]=1'], ['sid']);
case('_pk_id.1[x]', ['sid=1; _pk_id.1[x]=1'], ['sid']);

# bare names, no '='
case('bare _ga', ['sid=1; _ga'], ['sid']);
case('bare _ga mid', ['sid=1; _ga; k=2'], [qw(sid k)]);
case('bare _ga[...]', ['_ga[GA1.2.3]; sid=1'], ['sid']);
case('bare .ga', ['sid=1; .ga; k=2'], [qw(sid k)]);
case('bare "_ga "', ['sid=1; _ga ; k=2'], [qw(sid k)]);
case('bare _fbp', ['sid=1; _fbp'], ['sid']);
case('bare _ga alone', ['_ga'], []);

# several Cookie lines
case('3 lines', ['sid=1', '_ga=2', 'k=3'], [qw(sid k)]);
case('2 lines, trackers in both', ['sid=1; _ga=2', '_fbp=3; k=4'], [qw(sid k)]);
case('2 lines, all trackers', ['_ga=1', '_ga_X=2'], []);
case('2 lines, x=1 _ga=2', ['sid=1', 'x=1 _ga=2'], ['sid']);
case('2 lines, .ga', ['x=1', '.ga=2; k=3'], [qw(x k)]);
case('2 lines, bare _ga', ['sid=1', '_ga'], ['sid']);
case('3 lines, mixed', ['_ga=1; a=1', "b=2; \x0b_ga_X=1", '.fbp=1; c=3'],
    [qw(a b c)]);
case('2 lines, comma', ['sid=1, _ga=2', 'k=1 _fbp=2'], []);

# look-alikes: nothing refused, everything kept as it is
case('look-alike names',
    ['%5Fga=1; _GA=1; _Ga=1; ga=1; __ga=1; _gab=1; _gat=1; _fbpx=1; fbp=1; _pk_id=1; _pk_ses=2'],
    [qw(%5Fga _GA _Ga ga __ga _gab _gat _fbpx fbp _pk_id _pk_ses)], clean => 1);
case('_ga in a quoted value', ['x="a _ga"; sid=1'], [qw(x sid)], clean => 1);
case('_ga in values', ['x=_ga; y=_ga=1; z=a%20_ga%3D1; w=1=_ga=2'],
    [qw(x y z w)], clean => 1);
case('dotted names',
    ['_pk_ref.1.a=3; pk_id.1=4; next-auth.session-token=abc; sid=1'],
    { '*' => [qw(_pk_ref.1.a pk_id.1 next-auth.session-token sid)],
      php => [qw(_pk_ref_1_a pk_id_1 next-auth_session-token sid)] },
    clean => 1);
case('ordinary values',
    ['ua=Mozilla/5.0; lang=en-US; OptanonConsent=isGpcEnabled=0&datestamp=Mon+Jan+01+2024; __Secure-sid=1; __Host-csrf=2'],
    [qw(ua lang OptanonConsent __Secure-sid __Host-csrf)], clean => 1);
# SimpleCookie stops at the first non-ASCII byte of a value, dropping that
# cookie and every one after it
case('UTF-8 values', ["sid=1; name=Jos\xc3\xa9; city=K\xc3\xb8benhavn"],
    { '*' => [qw(sid name city)], simple => ['sid'] }, clean => 1);
case('2 lines, look-alikes', ['_GA=1', '%5Fga=2'], [qw(_GA %5Fga)],
    clean => 1);

# ---------------------------------------------------------------- parsers

my $PY = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $NPM_DIR = repo_root() . '/build/npm';
my %NPM_PKGS = (cookie => '1.1.1', cookie06 => '0.6.0');

my @PARSERS = (
    { id => 'simple',   cmd => [$PY, "$DRV/python_cookies.py", 'simplecookie'] },
    { id => 'werkzeug', cmd => [$PY, "$DRV/python_cookies.py", 'werkzeug'] },
    { id => 'dj-wsgi',  cmd => [$PY, "$DRV/python_cookies.py", 'django-wsgi'] },
    { id => 'dj-parse', cmd => [$PY, "$DRV/python_cookies.py", 'django-parse'] },
    { id => 'php',      cmd => [$^X, "$DRV/php_cookies.pl"], params => 1 },
    { id => 'rack',     cmd => ['ruby', "$DRV/rack_cookies.rb"] },
    { id => 'node1',    cmd => ['node', "$DRV/node_cookie.js",
                                "$NPM_DIR/node_modules", 'cookie'],
      npm => 1 },
    { id => 'node06',   cmd => ['node', "$DRV/node_cookie.js",
                                "$NPM_DIR/node_modules", 'cookie06'],
      npm => 1 },
);

sub in_path {
    my ($cmd) = @_;
    return -x $cmd if $cmd =~ m{/};
    return scalar grep { -x "$_/$cmd" } split /:/, $ENV{PATH} // '';
}

sub npm_version {
    my ($pkg) = @_;
    open my $fh, '<', "$NPM_DIR/node_modules/$pkg/package.json" or return '';
    local $/;
    my $j = <$fh>;
    return $j =~ /"version"\s*:\s*"([^"]+)"/ ? $1 : '';
}

# the npm packages in build/npm, installed if they are not there: undef,
# or why the node parsers are skipped
sub npm_ready {
    return 'node is not installed' unless in_path('node');
    my $ok = sub {
        !grep { npm_version($_) ne $NPM_PKGS{$_} } sort keys %NPM_PKGS;
    };
    return undef if $ok->();
    return 'npm is not installed' unless in_path('npm');
    make_path($NPM_DIR);
    open my $lock, '>', "$NPM_DIR/.lock" or return "$NPM_DIR: $!";
    flock $lock, LOCK_EX;
    return undef if $ok->();           # another run installed them
    my @spec = map { $_ eq 'cookie' ? "cookie\@$NPM_PKGS{$_}"
        : "$_\@npm:cookie\@$NPM_PKGS{$_}" } sort keys %NPM_PKGS;
    my $log = "$NPM_DIR/install.log";
    diag("npm install --prefix $NPM_DIR @spec");
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log;
        open STDERR, '>&', \*STDOUT;
        exec 'npm', 'install', '--prefix', $NPM_DIR, '--no-audit',
            '--no-fund', '--loglevel=error', '--fetch-retries=2',
            '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=5000',
            @spec or POSIX::_exit(127);
    }
    my $deadline = time + 180;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            return "npm install took over 180s (registry unreachable?): "
                . $log;
        }
        sleep 0.1;
    }
    return "npm install failed (registry unreachable?): $log" if $?;
    return $ok->() ? undef : "npm install did not give "
        . join(', ', map { "$_ $NPM_PKGS{$_}" } sort keys %NPM_PKGS);
}

# ---------------------------------------------------------------- nginx

my $t = ConsentTest->new(
    name   => 'origin-parsers',
    files  => { 'op.rules' => $RULES },
    http   => "    consent_rules %%DIR%%/op.rules;\n",
    server => <<'EOF',
        consent on;
        consent_region $http_x_country;
        location / {
            proxy_pass %%RAW%%;
        }
EOF
);

sub show {
    my ($s) = @_;
    $s =~ s/([^\x21-\x7e])/$1 eq ' ' ? ' ' : sprintf '\\x%02x', ord $1/ge;
    return $s;
}

my ($answered, @bad_answers, $consent_ok) = (0);
$consent_ok = 1;
for my $c (@CASES) {
    my $r = $t->get('/', headers => [ 'X-Country: FR',
        map { "Cookie: $_" } @{ $c->{lines} } ]);
    my $head = $r->status == 200 ? $r->body : '';
    my @got;
    for my $l (split /\r\n/, $head) {
        push @got, $1 if $l =~ /\Acookie: (.*)\z/is;
    }
    $c->{got} = \@got;
    if ($r->status == 200 && $head =~ /\AGET /) {
        $answered++;
    } else {
        push @bad_answers, "$c->{name}: status " . $r->status;
    }
    # an opt_in visitor: nothing but necessary granted
    my ($consent) = $head =~ /^consent: ([^\r\n]*)/im;
    $consent_ok = 0 unless defined $consent
        && $consent =~ /analytics=\?0/ && $consent =~ /advertising=\?0/;
}
is($answered, scalar @CASES,
    'every case reached the raw origin (' . @CASES . ' requests)')
    or diag(join "\n", @bad_answers);
ok($consent_ok, 'the origin was told nothing but necessary is granted');

{
    my @changed = grep {
        $_->{clean} && join("\n", @{ $_->{got} }) ne join("\n", @{ $_->{lines} })
    } @CASES;
    ok(!@changed, 'look-alike cases reach the origin unchanged')
        or diag(join "\n", map {
            "$_->{name}: sent [" . join('] [', map { show($_) } @{ $_->{lines} })
            . '] got [' . join('] [', map { show($_) } @{ $_->{got} }) . ']'
        } @changed);
}

# ---------------------------------------------------------------- deliveries

# how a case's Cookie lines reach an application: [label, [values],
# keep-check: 'all' | 'union' | '', params-only]
sub deliveries {
    my (@lines) = @_;
    return () unless @lines;
    return (['header', [$lines[0]], 'all']) if @lines == 1;
    return (
        (map { ["line " . ($_ + 1), [$lines[$_]], 'union'] } 0 .. $#lines),
        ['joined "; "', [join '; ', @lines], 'all'],
        ['joined ", "', [join ', ', @lines], ''],
        ['joined ","',  [join ',', @lines], ''],
        ['fastcgi params', [@lines], '', 1],
    );
}

# every driver input, per parser kind (PHP takes several values a line)
my (%INPUT, %INPUT_IDX);
for my $c (@CASES) {
    for my $src (qw(sent got)) {
        my @l = $src eq 'sent' ? @{ $c->{lines} } : @{ $c->{got} };
        for my $d (deliveries(@l)) {
            my $hex = join ',', map { unpack 'H*', $_ } @{ $d->[1] };
            for my $kind ('php', 'one') {
                next if $d->[3] && $kind ne 'php';
                next if exists $INPUT_IDX{$kind}{$hex};
                $INPUT_IDX{$kind}{$hex} = @{ $INPUT{$kind} ||= [] };
                push @{ $INPUT{$kind} }, $hex;
            }
        }
    }
}

# run every available parser at once, each on its whole input
my $work = tempdir('origin-parsers-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{CONSENT_KEEP});
my $npm_why = (grep { $_->{npm} } @PARSERS) ? npm_ready() : undef;
my (%running, %skip, %out, %err);
my $P0 = time;
for my $p (@PARSERS) {
    my $id = $p->{id};
    if (!in_path($p->{cmd}[0])) {
        $skip{$id} = "$p->{cmd}[0] is not installed";
        next;
    }
    if ($p->{npm} && defined $npm_why) {
        $skip{$id} = $npm_why;
        next;
    }
    my $kind = $p->{params} ? 'php' : 'one';
    my $in = "$work/$id.in";
    open my $fh, '>', $in or die "$in: $!";
    print $fh map { "$_\n" } @{ $INPUT{$kind} };
    close $fh;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', $in;
        open STDOUT, '>', "$work/$id.out";
        open STDERR, '>', "$work/$id.err";
        exec @{ $p->{cmd} } or POSIX::_exit(127);
    }
    $running{$pid} = $p;
}
my $deadline = time + 120 * time_scale();
while (%running) {
    for my $pid (keys %running) {
        next unless waitpid($pid, WNOHANG) == $pid;
        my $status = $?;
        my $p = delete $running{$pid};
        my $id = $p->{id};
        my $st = $status >> 8;
        my $stderr = $t->read_file("$work/$id.err");
        if ($st == 3 || $st == 127) {
            $skip{$id} = $st == 3 ? ($stderr =~ s/\s+\z//r)
                : "$p->{cmd}[0] did not start";
            next;
        }
        $err{$id} = "exit status $st, signal " . ($status & 127)
            . ": $stderr" if $status;
        $out{$id} = [split /\n/, $t->read_file("$work/$id.out"), -1];
        pop @{ $out{$id} } if @{ $out{$id} } && $out{$id}[-1] eq '';
        my $want = @{ $INPUT{ $p->{params} ? 'php' : 'one' } };
        $err{$id} //= "$id: " . @{ $out{$id} } . " answers to $want inputs"
            if @{ $out{$id} } != $want;
        (my $v = $stderr) =~ s/\s+\z//;
        $p->{version} = $v;
    }
    if (%running && time > $deadline) {
        for my $pid (keys %running) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            $err{ $running{$pid}{id} } = 'took over '
                . int(120 * time_scale()) . 's';
        }
        %running = ();
    }
    sleep 0.01 if %running;
}
my $parse_time = time;

# names a parser read from one delivery: (names, error or undef)
sub read_names {
    my ($p, $values) = @_;
    my $kind = $p->{params} ? 'php' : 'one';
    my $hex = join ',', map { unpack 'H*', $_ } @$values;
    my $line = $out{ $p->{id} }[ $INPUT_IDX{$kind}{$hex} ] // "err\t\tno answer";
    my ($st, $names, $e) = split /\t/, $line, 3;
    my @n = map { pack 'H*', $_ } split / /, $names // '';
    return (\@n, $st eq 'ok' ? undef : $e // 'error');
}

sub keeps_for {
    my ($c, $p) = @_;
    my $k = $c->{keep};
    return @$k if ref $k eq 'ARRAY';
    return @{ $k->{ $p->{id} } // $k->{'*'} };
}

# per case, source ('sent'/'got') and parser: { delivery => {leak, miss} }
sub judge {
    my ($c, $src, $p) = @_;
    my @l = $src eq 'sent' ? @{ $c->{lines} } : @{ $c->{got} };
    my @want = keeps_for($c, $p);
    my (%res, %union, $union_seen);
    my @ds = grep { !$_->[3] || $p->{params} } deliveries(@l);
    for my $d (@ds) {
        my ($names, $e) = read_names($p, $d->[1]);
        my %has = map { $_ => 1 } @$names;
        my $r = $res{ $d->[0] } = { leak => [grep { refused($_) } @$names],
            err => $e, miss => [] };
        if ($d->[2] eq 'all') {
            $r->{miss} = [grep { !$has{$_} } @want];
        } elsif ($d->[2] eq 'union') {
            $union{$_} = 1 for @$names;
            $union_seen = 1;
        }
    }
    if ($union_seen) {
        $res{'lines'} = { leak => [], miss => [grep { !$union{$_} } @want] };
    }
    $res{'(no Cookie)'} = { leak => [], miss => [@want] } if !@ds && @want;
    return \%res;
}

sub cell {
    my ($r) = @_;
    my @s;
    push @s, 'LEAK ' . join(',', map { show($_) } @{ $r->{leak} })
        if @{ $r->{leak} };
    push @s, 'MISS ' . join(',', map { show($_) } @{ $r->{miss} })
        if @{ $r->{miss} };
    return @s ? join(' ', @s) : 'ok';
}

# a table of the rows where something is wrong, with what was sent and
# what the origin got
sub table {
    my ($src, $what, @rows) = @_;
    my @ps = grep { !$skip{ $_->{id} } && !$err{ $_->{id} } } @PARSERS;
    my @t = (['case', 'delivery', map { $_->{id} } @ps]);
    my %seen;
    for my $row (@rows) {
        my ($c, $dname) = @$row;
        push @t, [$c->{name}, $dname, map {
            my $r = $c->{judged}{$src}{ $_->{id} }{$dname};
            $r ? cell($r) : '-';
        } @ps];
    }
    my @w;
    for my $r (@t) {
        for my $i (0 .. $#$r) {
            my $l = length $r->[$i];
            $w[$i] = $l if !defined $w[$i] || $l > $w[$i];
        }
    }
    my $s = "$what\n";
    for my $r (@t) {
        $s .= join('  ', map { sprintf '%-*s', $w[$_], $r->[$_] } 0 .. $#$r)
            =~ s/\s+\z//r . "\n";
    }
    for my $row (@rows) {
        my $c = $row->[0];
        next if $seen{ $c->{name} }++;
        $s .= "  $c->{name}: sent [" . join('] [', map { show($_) }
                @{ $c->{lines} })
            . '], origin got ['
            . join('] [', map { show($_) } @{ $c->{got} }) . "]\n";
    }
    return $s;
}

for my $c (@CASES) {
    for my $src (qw(sent got)) {
        for my $p (grep { $out{ $_->{id} } } @PARSERS) {
            $c->{judged}{$src}{ $p->{id} } = judge($c, $src, $p);
        }
    }
}

# rows (case, delivery) where $test holds for some parser's result
sub rows_where {
    my ($src, $test, @ids) = @_;
    my @rows;
    for my $c (@CASES) {
        my %d;
        for my $id (@ids) {
            my $j = $c->{judged}{$src}{$id} or next;
            $d{$_} = 1 for grep { $test->($j->{$_}) } keys %$j;
        }
        push @rows, map { [$c, $_] } sort keys %d;
    }
    return @rows;
}

my $all_there = !grep { $skip{ $_->{id} } || $err{ $_->{id} } } @PARSERS;

for my $p (@PARSERS) {
    my $id = $p->{id};
    SKIP: {
        skip "$id: $skip{$id}", 2 if $skip{$id};
        if ($err{$id}) {
            fail("$id: the parser ran") for 1 .. 2;
            diag("$id: $err{$id}");
            next;
        }
        my @leaks = rows_where('got', sub { @{ $_[0]{leak} } }, $id);
        ok(!@leaks, "$id ($p->{version}): no refused name read from what "
            . 'the origin got')
            or diag("$id read refused names in " . @leaks
                . ' (case, delivery): see the table below');
        my @miss = rows_where('got', sub { @{ $_[0]{miss} } }, $id);
        ok(!@miss, "$id: every ordinary and look-alike cookie still read")
            or diag("$id no longer reads kept cookies in " . @miss
                . ' (case, delivery): see the table below');
    }
}
{
    my @rows = rows_where('got',
        sub { @{ $_[0]{leak} } || @{ $_[0]{miss} } },
        map { $_->{id} } grep { $out{ $_->{id} } } @PARSERS);
    diag(table('got', 'What the parsers read from what the origin got '
        . '(LEAK: refused names read, MISS: cookies to keep not read):',
        @rows)) if @rows;
}

# the corpus: sent as it is, each tracker case is a tracker to some parser,
# and the cookies to keep are read by every parser
my @ran = map { $_->{id} } grep { $out{ $_->{id} } } @PARSERS;
SKIP: {
    skip 'the corpus check needs every parser: '
        . join(', ', map { $_->{id} } grep { $skip{ $_->{id} }
            || $err{ $_->{id} } } @PARSERS) . ' did not run', 1
        unless $all_there;
    my @blunt = grep {
        my $c = $_;
        !$c->{clean} && !grep {
            grep { @{ $_->{leak} } } values %{ $c->{judged}{sent}{$_} }
        } @ran;
    } @CASES;
    ok(!@blunt, 'corpus: every tracker case, unfiltered, gives some parser '
        . 'a refused name')
        or diag(join "\n", map { $_->{name} } @blunt);
}
{
    # (a tracker pair may make a parser give up on the whole header:
    # SimpleCookie on a bare word or a byte it does not expect)
    my @miss = grep { $_->[0]{clean} }
        rows_where('sent', sub { @{ $_[0]{miss} } }, @ran);
    ok(!@miss, 'corpus: every look-alike is read from the unfiltered '
        . 'header') or diag(table('sent', 'sent unfiltered:', @miss));
    my @clean_leak = rows_where('sent', sub { @{ $_[0]{leak} } }, @ran);
    @clean_leak = grep { $_->[0]{clean} } @clean_leak;
    ok(!@clean_leak, 'corpus: look-alike cases give no parser a refused name')
        or diag(table('sent', 'look-alikes read as refused names:',
            @clean_leak));
}

$t->stop;

note(sprintf '%d cases, %d driver inputs, parsers ran in %.1fs, %.1fs in all',
    scalar @CASES, scalar @{ $INPUT{one} }, $parse_time - $P0, time - $T0);

done_testing();
