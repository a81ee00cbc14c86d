# Sourced by bench/run.sh and bench/instructions.sh: the request both
# measure and how their nginx is set up, so that the two numbers describe
# the same thing.

# a free loopback TCP port
free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1:0")->sockport'
}

# wait_port PORT TRIES STEP: poll until something accepts on PORT
wait_port() {
    local _
    for _ in $(seq "$2"); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep "$3"
    done
    return 1
}

# bench_keys DIR: a fresh signing key in DIR/keys; prints the key
bench_keys() {
    local key
    key=$(head -c 32 /dev/urandom | base64 -w0)
    echo "k1 $key" > "$1/keys"
    echo "$key"
}

# bench_rules NRULES DIR: the consent_rules directives for every shipped
# file in README's order ("shipped"), for default.rules alone ("default"),
# or for N synthetic rules (exact, prefix, regex mix) in DIR
bench_rules() {
    local f

    if [ "$1" = shipped ]; then
        for f in ocd default japan keep; do
            echo "consent_rules $top/ngx_consent_module/rules/$f.rules;"
        done
        return
    fi

    if [ "$1" = default ]; then
        echo "consent_rules $top/ngx_consent_module/rules/default.rules;"
        return
    fi

    perl -e 'my $n = shift;
             for my $i (1 .. $n) {
                 my $k = $i % 10;
                 if ($k == 0) { print "~zz${i}_[0-9]+ analytics v$i\n" }
                 elsif ($k < 4) { print "zp${i}_* advertising v$i\n" }
                 else { print "zx$i advertising v$i\n" }
             }
             print "_ga analytics ga\n_gid analytics ga\n_fbp advertising meta\n",
                   "_gcl_* advertising gads\n";' "$1" > "$2/bench.rules"
    echo "consent_rules $2/bench.rules;"
}

# bench_cookies KEY [VENDORS]: a browser-like Cookie value: 10 tracking
# cookies, a session, and a consent cookie granting analytics signed with
# KEY; VENDORS (names joined by ','): refused one by one, a version 2 token
bench_cookies() {
    local token
    token=$(perl -I"$(dirname "${BASH_SOURCE[0]}")/../t/lib" \
        -MConsentTest=mint_token,mint_token_vendors -MMIME::Base64 -e '
        my ($k, $v) = (decode_base64($ARGV[0]), $ARGV[1] // "");
        print length $v
            ? mint_token_vendors("k1", $k, "benchsubject0001", 5,
                                 [split /,/, $v], 1, time)
            : mint_token("k1", $k, "benchsubject0001", 5, 1, time)' \
        "$1" "${2:-}")
    echo "_ga=GA1.2.1111.2222; _gid=GA1.2.333.444; _gat_UA1=1; _fbp=fb.1.1.2; _fbc=fb.1.3.4; _gcl_au=1.1.555; IDE=AHWqTUm; _uetsid=abc; _uetvid=def; _hjSessionUser_1=eyJ; session=s3cr3t; consent=$token"
}
