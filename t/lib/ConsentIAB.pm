package ConsentIAB;

# Encoders for the IAB strings a CMP leaves in cookies, for the end-to-end
# tests (core Perl only):
#
#   use ConsentIAB qw(tcf_string gpp_string);
#
#   my $tc  = tcf_string(purposes => [1, 3, 4, 7], features => [1],
#                        vendors => [91, 755], cmp_id => 28,
#                        updated => time - 3600);
#   my $gpp = gpp_string({ id => 'tcfeuv2', tcf => $tc },
#                        { id => 'usnat', sale_opt_out => 1, gpc => 1 },
#                        { id => 'uspv1', usp => '1YYN' });
#
# Both are built bit by bit, most significant bit first, then written out
# six bits a base64url character (no padding characters), one segment at
# a time.  Checked with random fields against the core's decoders
# (lua-free-tests/tools/tcf_decode and gpp_decode) and the IAB's reference
# libraries (lua-free-tests/iab/node_modules); with pad => 24 it writes
# the TCF spec's example string byte for byte.
#
# tcf_string(%f): a TCF v2.2/v2.3 TC string: the core segment, then the
# disclosed vendors segment (type 1), then the publisher TC segment (type
# 3) if asked for.  Fields (defaults in brackets):
#   version [2]              Version, 6 bits
#   created [updated]        epoch seconds (fractions kept to the
#   updated [now]            decisecond): Created, LastUpdated, 36 bits
#                            of deciseconds each; created_ds / updated_ds
#                            give deciseconds as they are
#   cmp_id [28], cmp_version [1], screen [1]     12, 12, 6 bits
#   language ['EN'], publisher_cc ['DE']          two letters A-Z each
#   vendor_list_version [150]                     12 bits
#   policy_version [5]                            TcfPolicyVersion, 6 bits
#   service_specific [1], non_standard_texts [0], purpose_one_treatment [0]
#   features [[]]            SpecialFeatureOptIns, ids 1-12
#   purposes [[]]            PurposesConsent, ids 1-24
#   purposes_li [[]]         PurposesLITransparency, ids 1-24
#   vendors [[]]             vendor consents, ids 1-65535
#   vendors_li [[]]          vendor legitimate interests
#   disclosed [vendors + vendors_li]   the disclosed vendors segment
#   no_disclosed => 1        leave that segment out (refused since v2.3)
#   range [0]                range encoding for every vendor set; or
#                            per set: vendors_range, li_range,
#                            disclosed_range (1 ranges, 0 bit field)
#   max_vendor, max_vendor_li, max_disclosed   MaxVendorId [the largest
#                            id of the set, 0 when empty]
#   restrictions [[]]        [[purpose, type, [vendor ids]], ...]
#   publisher => { consents => [...], li => [...], num_custom => N,
#                  custom_consents => [...], custom_li => [...] }
#                            adds the publisher TC segment
#   pad [6]                  pads each segment to a multiple of that many
#                            bits (then of 6): 24 is what the IAB's TCF
#                            library writes, 8 its GPP library
#
# gpp_string(@sections): a GPP string: the header (Type 3, Version 1, the
# section ids as Range(Fibonacci), consecutive ids as one range), '~',
# the sections in ascending id order.  Each section is a hash:
#   { id => 2 | 'tcfeuv2', tcf => STRING }     or tcf => { tcf_string
#                                              fields } (default: {})
#   { id => 6 | 'uspv1', usp => '1YNN' }
#   { id => 7 | 'usnat', version => 1 | 2, FIELD => VALUE..., gpc => 0|1 }
#   { id => 8 | 'usca', FIELD => VALUE..., gpc => 0|1 }
#   { id => N, text => STRING }                any section, as given
# US fields (2 bits each, as the decoder's table in gpp_us.c lists them
# per section; a field the section lacks is refused):
#   sharing_notice, sale_opt_out_notice, sharing_opt_out_notice,
#   targeted_advertising_opt_out_notice,
#   sensitive_data_processing_opt_out_notice,
#   sensitive_data_limit_use_notice                     [1: notice given]
#   sale_opt_out, sharing_opt_out, targeted_advertising_opt_out
#                                                  [2: did not opt out]
#   sensitive_data_processing => [...],
#   known_child_sensitive_data_consents => [...]   [all 0]
#   personal_data_consents [0], mspa_covered_transaction [2],
#   mspa_opt_out_option_mode [0], mspa_service_provider_mode [0]
# gpc => 0 or 1 adds the GPC sub-section (SubsectionType 1, Gpc); left
# out when gpc is not given.  Options of gpp_string itself may come first
# as a hash of options: gpp_string({ pad => 8 }, @sections) (a hash with
# no id).
#
# Lower level, exported too: gpp_header(@ids) (the header segment alone),
# b64url_bits($bitstring, $pad) ('0'/'1' characters to base64url,
# zero-padded to whole characters, first to a multiple of $pad bits if
# given), fib($n) (the Fibonacci code of n, closing 1 included),
# us_fields($id, $version) (the field list of a US section, [name,
# default] or [name, default, count]), tcf_deciseconds($epoch).

use strict;
use warnings;

use Exporter qw(import);

our @EXPORT_OK = qw(tcf_string gpp_string gpp_header b64url_bits fib
    us_fields tcf_deciseconds);

my @B64 = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');

# ---------------------------------------------------------------- bits

sub _bits {
    my ($v, $n) = @_;
    die "ConsentIAB: value $v does not fit in $n bits\n"
        if $v < 0 || ($n < 53 && $v >= 2**$n);
    my $s = '';
    for my $i (reverse 0 .. $n - 1) {
        $s .= (int($v / 2**$i) % 2) ? '1' : '0';
    }
    return $s;
}

sub b64url_bits {
    my ($bits, $pad) = @_;
    die "ConsentIAB: pad must be a positive number of bits\n"
        if defined $pad && $pad !~ /\A[1-9][0-9]*\z/;
    for my $m ($pad || 6, 6) {
        $bits .= '0' x (($m - length($bits) % $m) % $m);
    }
    my $out = '';
    for (my $i = 0; $i < length $bits; $i += 6) {
        $out .= $B64[oct('0b' . substr($bits, $i, 6))];
    }
    return $out;
}

# a list of ids as a bit string of max bits, id 1 first
sub _id_bits {
    my ($max, $ids, $what) = @_;
    my @b = ('0') x $max;
    for my $id (@$ids) {
        die "ConsentIAB: $what id $id out of 1..$max\n"
            if $id < 1 || $id > $max;
        $b[$id - 1] = '1';
    }
    return join '', @b;
}

sub _uniq_sorted {
    my %s = map { $_ => 1 } @{ $_[0] || [] };
    return sort { $a <=> $b } keys %s;
}

# ascending ids as [start, end] runs
sub _runs {
    my @ids = _uniq_sorted($_[0]);
    my @r;
    for my $id (@ids) {
        if (@r && $r[-1][1] + 1 == $id) { $r[-1][1] = $id }
        else { push @r, [$id, $id] }
    }
    return @r;
}

# NumEntries (12), then IsARange (1), StartOrOnlyVendorId (16) and for a
# range EndVendorId (16)
sub _range_entries {
    my ($ids) = @_;
    my @r = _runs($ids);
    my $s = _bits(scalar @r, 12);
    for my $e (@r) {
        if ($e->[0] == $e->[1]) {
            $s .= '0' . _bits($e->[0], 16);
        } else {
            $s .= '1' . _bits($e->[0], 16) . _bits($e->[1], 16);
        }
    }
    return $s;
}

# MaxVendorId (16), IsRangeEncoding (1), a bit field or range entries
sub _vendor_set {
    my ($ids, $max, $range) = @_;
    my @ids = _uniq_sorted($ids);
    $max //= @ids ? $ids[-1] : 0;
    die "ConsentIAB: vendor ids past MaxVendorId $max\n"
        if @ids && $ids[-1] > $max;
    return _bits($max, 16) . ($range ? '1' . _range_entries(\@ids)
                                     : '0' . _id_bits($max, \@ids, 'vendor'));
}

sub _letters {
    my ($s, $what) = @_;
    die "ConsentIAB: $what must be two letters A-Z\n"
        unless defined $s && $s =~ /\A[A-Za-z]{2}\z/;
    return join '', map { _bits(ord(uc $_) - 65, 6) } split //, $s;
}

# ---------------------------------------------------------------- TCF

sub tcf_deciseconds {
    my ($epoch) = @_;
    return int($epoch * 10 + 1e-6);
}

sub tcf_string {
    my (%f) = @_;

    my $now = time;
    my $updated = $f{updated_ds}
        // tcf_deciseconds($f{updated} // $now);
    my $created = $f{created_ds}
        // (defined $f{created} ? tcf_deciseconds($f{created}) : $updated);
    my $range = $f{range} // 0;
    my $pad = $f{pad} // 6;

    my $core = _bits($f{version} // 2, 6)
        . _bits($created, 36)
        . _bits($updated, 36)
        . _bits($f{cmp_id} // 28, 12)
        . _bits($f{cmp_version} // 1, 12)
        . _bits($f{screen} // 1, 6)
        . _letters($f{language} // 'EN', 'language')
        . _bits($f{vendor_list_version} // 150, 12)
        . _bits($f{policy_version} // 5, 6)
        . _bits($f{service_specific} // 1, 1)
        . _bits($f{non_standard_texts} // 0, 1)
        . _id_bits(12, $f{features} || [], 'special feature')
        . _id_bits(24, $f{purposes} || [], 'purpose')
        . _id_bits(24, $f{purposes_li} || [], 'purpose LI')
        . _bits($f{purpose_one_treatment} // 0, 1)
        . _letters($f{publisher_cc} // 'DE', 'publisher_cc')
        . _vendor_set($f{vendors} || [], $f{max_vendor},
                      $f{vendors_range} // $range)
        . _vendor_set($f{vendors_li} || [], $f{max_vendor_li},
                      $f{li_range} // $range);

    my @res = @{ $f{restrictions} || [] };
    $core .= _bits(scalar @res, 12);
    for my $r (@res) {
        my ($purpose, $type, $ids) = @$r;
        $core .= _bits($purpose, 6) . _bits($type, 2) . _range_entries($ids);
    }

    my @seg = (b64url_bits($core, $pad));

    unless ($f{no_disclosed}) {
        my $d = $f{disclosed}
            // [@{ $f{vendors} || [] }, @{ $f{vendors_li} || [] }];
        push @seg, b64url_bits('001' . _vendor_set($d, $f{max_disclosed},
            $f{disclosed_range} // $range), $pad);
    }

    if (my $p = $f{publisher}) {
        my $n = $p->{num_custom} // 0;
        push @seg, b64url_bits('011'
            . _id_bits(24, $p->{consents} || [], 'publisher purpose')
            . _id_bits(24, $p->{li} || [], 'publisher purpose LI')
            . _bits($n, 6)
            . _id_bits($n, $p->{custom_consents} || [], 'custom purpose')
            . _id_bits($n, $p->{custom_li} || [], 'custom purpose LI'),
            $pad);
    }

    return join '.', @seg;
}

# ---------------------------------------------------------------- GPP

my %SECTION_ID = (tcfeuv2 => 2, tcfcav1 => 5, uspv1 => 6, usnat => 7,
    usca => 8);

# a Fibonacci code, weights 1, 2, 3, 5... least first, then a closing 1
sub fib {
    my ($n) = @_;
    die "ConsentIAB: no Fibonacci code for $n\n" unless $n >= 1;
    my @f = (1, 2);
    push @f, $f[-1] + $f[-2] while $f[-1] <= $n;
    pop @f while $f[-1] > $n;
    my @b = ('0') x @f;
    for my $i (reverse 0 .. $#f) {
        if ($f[$i] <= $n) {
            $b[$i] = '1';
            $n -= $f[$i];
        }
    }
    return join('', @b) . '1';
}

# Type (6) 3, Version (6) 1, then Range(Fibonacci) of the ids: NumEntries
# (12), per entry IsRange (1), the first id's offset from the last id of
# the entry before, and for a range its length (last - first)
sub gpp_header {
    my (@ids) = @_;
    my $pad = 6;
    if (@ids && ref $ids[0] eq 'HASH') {
        $pad = (shift @ids)->{pad} // 6;
    }
    my @r = _runs(\@ids);
    my $s = _bits(3, 6) . _bits(1, 6) . _bits(scalar @r, 12);
    my $last = 0;
    for my $e (@r) {
        if ($e->[0] == $e->[1]) {
            $s .= '0' . fib($e->[0] - $last);
        } else {
            $s .= '1' . fib($e->[0] - $last) . fib($e->[1] - $e->[0]);
        }
        $last = $e->[1];
    }
    return b64url_bits($s, $pad);
}

# the fields of each US section version after Version, as gpp_us.c reads
# them: [name, default] or [name, default, n] for a list of n values
my %US = (
    '7.1' => [
        [sharing_notice => 1], [sale_opt_out_notice => 1],
        [sharing_opt_out_notice => 1],
        [targeted_advertising_opt_out_notice => 1],
        [sensitive_data_processing_opt_out_notice => 1],
        [sensitive_data_limit_use_notice => 1],
        [sale_opt_out => 2], [sharing_opt_out => 2],
        [targeted_advertising_opt_out => 2],
        [sensitive_data_processing => 0, 12],
        [known_child_sensitive_data_consents => 0, 2],
        [personal_data_consents => 0], [mspa_covered_transaction => 2],
        [mspa_opt_out_option_mode => 0], [mspa_service_provider_mode => 0],
    ],
    '7.2' => [
        [sharing_notice => 1], [sale_opt_out_notice => 1],
        [sharing_opt_out_notice => 1],
        [targeted_advertising_opt_out_notice => 1],
        [sensitive_data_processing_opt_out_notice => 1],
        [sensitive_data_limit_use_notice => 1],
        [sale_opt_out => 2], [sharing_opt_out => 2],
        [targeted_advertising_opt_out => 2],
        [sensitive_data_processing => 0, 16],
        [known_child_sensitive_data_consents => 0, 3],
        [personal_data_consents => 0], [mspa_covered_transaction => 2],
        [mspa_opt_out_option_mode => 0], [mspa_service_provider_mode => 0],
    ],
    '8.1' => [
        [sale_opt_out_notice => 1], [sharing_opt_out_notice => 1],
        [sensitive_data_limit_use_notice => 1],
        [sale_opt_out => 2], [sharing_opt_out => 2],
        [sensitive_data_processing => 0, 9],
        [known_child_sensitive_data_consents => 0, 2],
        [personal_data_consents => 0], [mspa_covered_transaction => 2],
        [mspa_opt_out_option_mode => 0], [mspa_service_provider_mode => 0],
    ],
);

sub us_fields {
    my ($id, $version) = @_;
    my $l = $US{ ($id // 0) . '.' . ($version // 1) } or return ();
    return map { [@$_] } @$l;
}

sub _us_section {
    my ($id, $s, $pad) = @_;
    my $version = $s->{version} // 1;
    my $layout = $US{"$id.$version"}
        or die "ConsentIAB: no layout for section $id version $version\n";
    my %known = map { $_->[0] => 1 } @$layout;
    for my $k (keys %$s) {
        next if $k =~ /\A(?:id|version|gpc|pad)\z/;
        die "ConsentIAB: section $id has no field $k\n" unless $known{$k};
    }
    my $bits = _bits($version, 6);
    for my $f (@$layout) {
        my ($name, $def, $n) = @$f;
        if (defined $n) {
            my @v = @{ $s->{$name} || [] };
            die "ConsentIAB: $name takes $n values\n" if @v > $n;
            push @v, ($def) x ($n - @v);
            $bits .= _bits($_, 2) for @v;
        } else {
            $bits .= _bits($s->{$name} // $def, 2);
        }
    }
    my $text = b64url_bits($bits, $pad);
    $text .= '.' . b64url_bits('01' . _bits($s->{gpc} ? 1 : 0, 1), $pad)
        if defined $s->{gpc};
    return $text;
}

sub gpp_string {
    my (@sections) = @_;
    my %opt;
    %opt = %{ shift @sections }
        if @sections && ref $sections[0] eq 'HASH'
            && !exists $sections[0]{id};
    my $pad = $opt{pad} // 6;

    my %by;
    for my $s (@sections) {
        my $id = $s->{id};
        die "ConsentIAB: a section without id\n" unless defined $id;
        $id = $SECTION_ID{$id} // die "ConsentIAB: unknown section $id\n"
            if $id !~ /\A[0-9]+\z/;
        die "ConsentIAB: section $id twice\n" if exists $by{$id};
        my $spad = $s->{pad} // $pad;
        my $text;
        if (defined $s->{text}) {
            $text = $s->{text};
        } elsif ($id == 2) {
            my $tcf = $s->{tcf} // {};
            $text = ref $tcf ? tcf_string(pad => $spad, %$tcf) : $tcf;
        } elsif ($id == 6) {
            $text = $s->{usp} // '1YNN';
        } else {
            $text = _us_section($id, $s, $spad);
        }
        $by{$id} = $text;
    }

    my @ids = sort { $a <=> $b } keys %by;
    return join '~', gpp_header({ pad => $pad }, @ids), map { $by{$_} } @ids;
}

1;
