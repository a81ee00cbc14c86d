/*
 * Copyright (C) ngx_consent_module authors
 *
 * The bit reader of base64url strings (bits.c) that the TCF and GPP
 * decoders share: bits in order across characters, reads past the end,
 * Fibonacci-coded integers.
 */

#include "test.h"
#include "bits.h"
#include "bitwrite.h"


static void
test_bits_read(void)
{
    consent_bits_t  b;

    CHECK_INT(consent_bits_init(&b, U(""), 0), -1);
    CHECK_INT(consent_bits_init(&b, U("AB+"), 3), -1);
    CHECK_INT(consent_bits_init(&b, U("AB/"), 3), -1);
    CHECK_INT(consent_bits_init(&b, U("AB="), 3), -1);
    CHECK_INT(consent_bits_init(&b, U("A\0B"), 3), -1);
    CHECK_INT(consent_bits_init(&b, U("A\x80"), 2), -1);

    /* "Az-_": 000000 110011 111110 111111 */
    CHECK_INT(consent_bits_init(&b, U("Az-_"), 4), 0);
    CHECK_INT(consent_bits_left(&b), 24);
    CHECK_INT(consent_bits_read(&b, 0), 0);
    CHECK_INT(consent_bits_read(&b, 5), 0);
    CHECK_INT(consent_bits_read(&b, 3), 3);            /* 0 11 across */
    CHECK_INT(consent_bits_read(&b, 8), 0x3f);         /* 0011 1111 */
    CHECK_INT(consent_bits_left(&b), 8);
    CHECK_INT(consent_bits_read(&b, 8), 0xbf);         /* 10 111111 */
    CHECK(!b.overrun);
    CHECK_INT(consent_bits_left(&b), 0);
    CHECK_INT(consent_bits_read(&b, 0), 0);
    CHECK(!b.overrun);
    CHECK_INT(consent_bits_read(&b, 1), 0);
    CHECK(b.overrun);

    /* a read longer than what is left reads nothing and ends the string */
    consent_bits_init(&b, U("__"), 2);
    CHECK_INT(consent_bits_read(&b, 13), 0);
    CHECK(b.overrun);
    CHECK_INT(consent_bits_left(&b), 0);

    /* 64 bits at once, and no more */
    consent_bits_init(&b, U("___________"), 11);
    CHECK(consent_bits_read(&b, 64) == UINT64_MAX);
    CHECK(!b.overrun);
    consent_bits_init(&b, U("___________"), 11);
    CHECK_INT(consent_bits_read(&b, 65), 0);
    CHECK(b.overrun);

    /* every alphabet value reads back */
    {
        unsigned  i;

        for (i = 0; i < 64; i++) {
            consent_bits_init(&b, U(&bitwrite_b64[i]), 1);
            CHECK_INT(consent_bits_read(&b, 6), i);
        }
    }
}


/* bits written as '0'/'1' text, read as a Fibonacci integer */

static int
fib(const char *bits, uint32_t *v)
{
    size_t          i;
    consent_bits_t  b;

    tw_reset();

    for (i = 0; bits[i]; i++) {
        tw_put(bits[i] == '1', 1);
    }

    tw_seg();
    consent_bits_init(&b, U(tw.out), tw.len);

    /* padding zeros follow the code: a reader must stop at "11" */
    return consent_bits_fibonacci(&b, v);
}


static void
test_bits_fibonacci(void)
{
    unsigned  i;
    uint32_t  v;

    static const struct {
        const char  *bits;
        int          rc;
        uint32_t     v;
    } cases[] = {
        { "11", 0, 1 },
        { "011", 0, 2 },
        { "0011", 0, 3 },
        { "1011", 0, 4 },
        { "00011", 0, 5 },
        { "10011", 0, 6 },
        { "0101011", 0, 20 },                      /* 2 + 5 + 13 */
        /* no "11" before the end, or only zeros */
        { "10101", -1, 0 },
        { "000000", -1, 0 },
        { "00000000000000000000000000000000000000000000000000000011", -1, 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 0;
        CHECK_INT(fib(cases[i].bits, &v), cases[i].rc);
        CHECK_INT(v, cases[i].v);
    }
}


void
test_bits(void)
{
    test_bits_read();
    test_bits_fibonacci();
}
