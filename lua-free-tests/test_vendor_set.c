/*
 * Copyright (C) ngx_consent_module authors
 *
 * Vendors refused one by one: the hash set, its record and cookie forms,
 * the rules index, the consent API bodies that name them, and the
 * version 2 token that carries them.
 */

/* before test.h: OpenSSL names parameters N, A, P, as test.h's macros */
#include <openssl/evp.h>

#include "test.h"
#include "keys.h"
#include "token.h"
#include "vendor_set.h"


#define NOW  1795000000


static const char *const  vs_rules[] = {
    "@vendor criteo name=\"Criteo\" purposes=advertising",
    "@vendor yahoo_japan purposes=advertising",
    "@vendor ga purposes=analytics",
    "_ga analytics ga",
    "cto_bundle advertising criteo",
    NULL
};


static void
test_vendor_set_basics(void)
{
    unsigned               i, bad;
    unsigned char          out[CONSENT_VENDORS_REFUSED_MAX * 4 + 4];
    consent_vendor_set_t   vs, back;

    /* FNV-1a folded to 24 bits: fixed forever, cookies carry it */
    CHECK_INT(consent_vendor_hash(U("criteo"), 6), 0x172cbb);
    CHECK_INT(consent_vendor_hash(U("yahoo_japan"), 11), 0x9e387b);
    CHECK_INT(consent_vendor_hash(U("a"), 1), 0x0c29c8);

    memset(&vs, 0, sizeof(vs));
    CHECK_INT(consent_vendor_set_add(&vs, 0x9e387b), 1);
    CHECK_INT(consent_vendor_set_add(&vs, 0x172cbb), 1);
    CHECK_INT(consent_vendor_set_add(&vs, 0x9e387b), 0);
    CHECK_INT(vs.n, 2);
    CHECK_INT(vs.hash[0], 0x172cbb);
    CHECK(consent_vendor_set_has(&vs, 0x9e387b));
    CHECK(!consent_vendor_set_has(&vs, 0x9e387c));

    CHECK_INT(consent_vendor_set_encode(&vs, NULL, 0), 8);
    CHECK_INT(consent_vendor_set_encode(&vs, out, 7), 8);
    CHECK_INT(consent_vendor_set_encode(&vs, out, sizeof(out)), 8);
    CHECK_MEM(out, 8, "Fyy7njh7");

    CHECK_INT(consent_vendor_set_decode(&back, U("Fyy7njh7"), 8), 0);
    CHECK_INT(back.n, 2);
    CHECK_INT(back.hash[1], 0x9e387b);

    /* one form only: order, repeats, length, alphabet */
    CHECK_INT(consent_vendor_set_decode(&back, U("njh7Fyy7"), 8), -1);
    CHECK_INT(back.n, 0);
    CHECK_INT(consent_vendor_set_decode(&back, U("Fyy7Fyy7"), 8), -1);
    CHECK_INT(consent_vendor_set_decode(&back, U("Fyy7n"), 5), -1);
    CHECK_INT(consent_vendor_set_decode(&back, U("Fy+7"), 4), -1);
    CHECK_INT(consent_vendor_set_decode(&back, U("Fy=7"), 4), -1);
    CHECK_INT(consent_vendor_set_decode(&back, U("Fy.7"), 4), -1);
    CHECK_INT(consent_vendor_set_decode(&back, U(""), 0), 0);
    CHECK_INT(back.n, 0);
    CHECK_INT(consent_vendor_set_decode(&back, U("____"), 4), 0);
    CHECK_INT(back.hash[0], 0xffffff);

    /* the record's names: bad ones counted, empty ones ignored */
    memset(&vs, 0, sizeof(vs));
    bad = 0;
    CHECK_INT(consent_vendor_set_names(&vs, U("criteo,,bad name,yahoo_japan,"
                                              "criteo"), 35, &bad), 0);
    CHECK_INT(vs.n, 2);
    CHECK_INT(bad, 1);
    CHECK(consent_vendor_set_has(&vs, 0x172cbb));
    CHECK(consent_vendor_set_has(&vs, 0x9e387b));

    /* full: what fits is kept, and it says so */
    memset(&vs, 0, sizeof(vs));
    for (i = 0; i < CONSENT_VENDORS_REFUSED_MAX; i++) {
        CHECK_INT(consent_vendor_set_add(&vs, i * 3), 1);
    }
    CHECK_INT(consent_vendor_set_add(&vs, 1), -1);
    CHECK_INT(consent_vendor_set_add(&vs, 3), 0);
    CHECK_INT(consent_vendor_set_encode(&vs, out, sizeof(out)),
              CONSENT_VENDORS_REFUSED_MAX * 4);
    CHECK_INT(consent_vendor_set_decode(&back, out,
                                        CONSENT_VENDORS_REFUSED_MAX * 4), 0);
    CHECK_INT(back.n, CONSENT_VENDORS_REFUSED_MAX);
    CHECK_INT(memcmp(back.hash, vs.hash, sizeof(vs.hash)), 0);
    memcpy(out + CONSENT_VENDORS_REFUSED_MAX * 4, "____", 4);
    CHECK_INT(consent_vendor_set_decode(&back, out,
                                        CONSENT_VENDORS_REFUSED_MAX * 4 + 4),
              -1);
}


static void
test_vendor_set_rules(consent_ruleset_t *rs)
{
    unsigned char          bits[2];
    uint64_t               index[3];
    consent_vendor_set_t   vs;

    consent_vendor_index(rs, index);
    CHECK(index[0] < index[1] && index[1] < index[2]);

    memset(&vs, 0, sizeof(vs));
    memset(bits, 0, sizeof(bits));
    CHECK_INT(consent_vendor_set_bits(&vs, index, 3, bits), 0);
    CHECK_INT(bits[0], 0);

    /* criteo is vendor 0, yahoo_japan 1; a hash of no vendor matches none */
    (void) consent_vendor_set_add(&vs, 0x9e387b);
    (void) consent_vendor_set_add(&vs, 0x000001);
    CHECK_INT(consent_vendor_set_bits(&vs, index, 3, bits), 1);
    CHECK_INT(bits[0], 0x02);

    (void) consent_vendor_set_add(&vs, 0x172cbb);
    CHECK_INT(consent_vendor_set_bits(&vs, index, 3, bits), 2);
    CHECK_INT(bits[0], 0x03);
}


static int
vs_json(const char *s, consent_ruleset_t *rs, consent_choice_t *ch)
{
    return test_choice_body(0, s, rs, ch);
}


static int
vs_form(const char *s, consent_ruleset_t *rs, consent_choice_t *ch)
{
    return test_choice_body(1, s, rs, ch);
}


#define CHECK_VS_ERR(rc, ch, want)                                           \
    do {                                                                     \
        CHECK_INT(rc, -1);                                                   \
        CHECK((ch)->field && strcmp((ch)->field, "vendors_refused") == 0);   \
        CHECK(strstr((ch)->error, want) != NULL);                            \
    } while (0)


static void
test_vendor_choice(consent_ruleset_t *rs)
{
    consent_choice_t   ch;

    CHECK_INT(vs_json("{\"purposes\":[\"advertising\"],"
                      "\"vendors_refused\":[\"yahoo_japan\",\"criteo\","
                      "\"yahoo_japan\"]}", rs, &ch), 0);
    CHECK(ch.has_vendors);
    CHECK_INT(ch.nvendors, 2);
    CHECK_INT(ch.vendors[0], 1);
    CHECK_INT(ch.vendors[1], 0);

    /* before the purposes, empty, absent */
    CHECK_INT(vs_json("{\"vendors_refused\":[\"ga\"],\"purposes\":[]}", rs,
                      &ch), 0);
    CHECK_INT(ch.nvendors, 1);
    CHECK_INT(vs_json("{\"purposes\":[],\"vendors_refused\":[ ]}", rs, &ch),
              0);
    CHECK(ch.has_vendors);
    CHECK_INT(ch.nvendors, 0);
    CHECK_INT(vs_json("{\"purposes\":[]}", rs, &ch), 0);
    CHECK(!ch.has_vendors);

    /* what is not a vendor of the rules names the field */
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[\"nope\"]}",
                         rs, &ch), &ch, "unknown vendor \"nope\"");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[\"Criteo\"]}",
                         rs, &ch), &ch, "unknown vendor \"Criteo\"");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[\"cri\\\"\"]}",
                         rs, &ch), &ch, "unknown vendor \"cri?\"");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[\"\"]}",
                         rs, &ch), &ch, "unknown vendor \"\"");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[\"criteo\"]}",
                         NULL, &ch), &ch, "unknown vendor \"criteo\"");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":\"criteo\"}",
                         rs, &ch), &ch, "must be an array of vendor names");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[1]}",
                         rs, &ch), &ch, "must be an array of vendor names");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[],"
                         "\"vendors_refused\":[]}", rs, &ch), &ch,
                 "duplicate field");
    CHECK_VS_ERR(vs_json("{\"purposes\":[],\"vendors_refused\":[\"aaaaaaaaaa"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                         "aaaaaaaaaaaaaaaaaaaaa\"]}", rs, &ch), &ch,
                 "...\"");

    /* a syntax error inside the array is the body's */
    CHECK_INT(vs_json("{\"purposes\":[],\"vendors_refused\":[\"criteo\"",
                      rs, &ch), -1);
    CHECK(ch.field && strcmp(ch.field, "body") == 0);

    /* forms: lists, repeats, percent-encoding */
    CHECK_INT(vs_form("purposes=advertising&vendors_refused=criteo%2Cga"
                      "&vendors_refused=yahoo_japan+criteo", rs, &ch), 0);
    CHECK_INT(ch.nvendors, 3);
    CHECK_INT(ch.vendors[2], 1);
    CHECK_VS_ERR(vs_form("purposes=&vendors_refused=criteo,nope", rs, &ch),
                 &ch, "unknown vendor \"nope\"");
    CHECK_INT(vs_form("purposes=&vendors_refused=", rs, &ch), 0);
    CHECK(ch.has_vendors);
    CHECK_INT(ch.nvendors, 0);

}


/* more distinct vendors than a body may name: an error, not a cut */

static void
test_vendor_choice_many(void)
{
    int                  rc;
    char                *body, *p, **lines;
    unsigned             i, n;
    consent_choice_t     ch;
    consent_ruleset_t   *rs;
    consent_purposes_t   ps;

    n = CONSENT_CHOICE_VENDORS_MAX + 1;
    lines = calloc(n + 1, sizeof(char *));
    body = malloc(32 + n * 8);
    CHECK(lines != NULL && body != NULL);
    if (lines == NULL || body == NULL) {
        return;
    }

    p = body + sprintf(body, "purposes=&vendors_refused=");

    for (i = 0; i < n; i++) {
        lines[i] = malloc(48);
        sprintf(lines[i], "@vendor v%u purposes=advertising", i);
        p += sprintf(p, "%sv%u", i ? "," : "", i);
    }

    consent_purposes_init(&ps);
    rs = test_ruleset(&ps, (const char *const *) lines);
    CHECK(rs != NULL);

    if (rs) {
        rc = vs_form(body, rs, &ch);
        CHECK_VS_ERR(rc, &ch, "more than 1024 vendors");

        /* one fewer fits, and repeats do not count */
        p = strrchr(body, ',');
        memcpy(p, ",v0\0", 4);
        CHECK_INT(vs_form(body, rs, &ch), 0);
        CHECK_INT(ch.nvendors, CONSENT_CHOICE_VENDORS_MAX);
        consent_ruleset_free(rs);
    }

    for (i = 0; i < n; i++) {
        free(lines[i]);
    }

    free(lines);
    free(body);
}


static void
test_vendor_token(consent_keyring_t *ring)
{
    size_t                 n, n1;
    unsigned               i;
    consent_token_t        tok, got;
    consent_vendor_set_t   vs;
    unsigned char          enc[CONSENT_VENDORS_REFUSED_MAX * 4];
    unsigned char          buf[CONSENT_TOKEN_MAX_LEN], t[CONSENT_TOKEN_MAX_LEN];

    memset(&tok, 0, sizeof(tok));
    tok.subject = U("v-1");
    tok.subject_len = 3;
    tok.purposes = 0x09;
    tok.policy_version = 2;
    tok.issued_at = NOW - 5;

    /* no vendors: version 1, byte for byte as before */
    n1 = consent_token_sign(ring, &tok, buf, sizeof(buf));
    CHECK(n1 > 0 && memcmp(buf, "1.k2.v-1.00000009.2.", 20) == 0);
    CHECK_INT(consent_token_verify(buf, n1, ring, NOW, 0, &got),
              CONSENT_TOKEN_OK);
    CHECK_INT(got.vendors_len, 0);

    /* vendors: version 2, the field before the signature */
    tok.vendors = U("Fyy7njh7");
    tok.vendors_len = 8;
    n = consent_token_sign(ring, &tok, buf, sizeof(buf));
    CHECK_INT(n, n1 + 9);
    CHECK(memcmp(buf, "2.k2.v-1.00000009.2.", 20) == 0);
    CHECK(memcmp(buf + n - 44 - 9, ".Fyy7njh7.", 10) == 0);

    memset(&got, 0, sizeof(got));
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &got),
              CONSENT_TOKEN_OK);
    CHECK_MEM(got.vendors, got.vendors_len, "Fyy7njh7");
    CHECK_INT(got.purposes, 0x09);

    /* again: the ring's memory of it gives the same */
    memset(&got, 0, sizeof(got));
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &got),
              CONSENT_TOKEN_OK);
    CHECK_MEM(got.vendors, got.vendors_len, "Fyy7njh7");
    CHECK(got.vendors >= buf && got.vendors < buf + n);

    /* the vendors are signed: another set is a bad signature */
    memcpy(t, buf, n);
    memcpy(t + n - 44 - 8, "Fyy7njh8", 8);
    CHECK_INT(consent_token_verify(t, n, ring, NOW, 0, &got),
              CONSENT_TOKEN_BAD_SIGNATURE);

    /* and of their one form: dropped, unordered, or an empty field */
    memcpy(t, buf, n);
    memcpy(t + n - 44 - 8, "njh7Fyy7", 8);
    CHECK_INT(consent_token_verify(t, n, ring, NOW, 0, &got),
              CONSENT_TOKEN_MALFORMED);
    CHECK_INT(consent_token_verify(buf + 0, n1, ring, NOW, 0, &got) != 0, 1);
    memcpy(t, buf, n1 - 44);
    memcpy(t + n1 - 44, ".", 1);
    memcpy(t + n1 - 43, buf + n - 43, 43);
    t[0] = '2';
    CHECK_INT(consent_token_verify(t, n1 + 1, ring, NOW, 0, &got),
              CONSENT_TOKEN_MALFORMED);

    /* a version 1 token with 8 fields, a version 2 with 7 */
    memcpy(t, buf, n);
    t[0] = '1';
    CHECK_INT(consent_token_verify(t, n, ring, NOW, 0, &got),
              CONSENT_TOKEN_MALFORMED);
    n1 = consent_token_sign(ring, &(consent_token_t) { .subject = U("v-1"),
                            .subject_len = 3, .issued_at = NOW }, t,
                            sizeof(t));
    t[0] = '2';
    CHECK_INT(consent_token_verify(t, n1, ring, NOW, 0, &got),
              CONSENT_TOKEN_MALFORMED);

    /* signing refuses vendors out of their form */
    tok.vendors = U("njh7Fyy7");
    CHECK_INT(consent_token_sign(ring, &tok, buf, sizeof(buf)), 0);
    tok.vendors = U("Fyy7nj");
    tok.vendors_len = 6;
    CHECK_INT(consent_token_sign(ring, &tok, buf, sizeof(buf)), 0);

    /* the most vendors: longer than the ring remembers, verified each time */
    memset(&vs, 0, sizeof(vs));
    for (i = 0; i < CONSENT_VENDORS_REFUSED_MAX; i++) {
        (void) consent_vendor_set_add(&vs, i * 131071 % 0xffffff);
    }
    tok.vendors_len = consent_vendor_set_encode(&vs, enc, sizeof(enc));
    tok.vendors = enc;
    n = consent_token_sign(ring, &tok, buf, sizeof(buf));
    CHECK(n > CONSENT_TOKEN_SEEN_LEN && n <= CONSENT_TOKEN_MAX_LEN);
    CHECK_INT(consent_token_sign(ring, &tok, buf, n - 1), 0);

    for (i = 0; i < 2; i++) {
        memset(&got, 0, sizeof(got));
        CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &got),
                  CONSENT_TOKEN_OK);
        CHECK_INT(got.vendors_len, CONSENT_VENDORS_REFUSED_MAX * 4);
    }

    buf[n - 1] ^= 1;
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &got),
              CONSENT_TOKEN_BAD_SIGNATURE);
}


void
test_vendor_set(void)
{
    int                  rc;
    consent_err_t        err;
    consent_ruleset_t   *rs;
    consent_keyring_t    ring;
    consent_purposes_t   ps;

    test_vendor_set_basics();

    consent_purposes_init(&ps);
    rs = test_ruleset(&ps, vs_rules);
    CHECK(rs != NULL);

    if (rs) {
        test_vendor_set_rules(rs);
        test_vendor_choice(rs);
        consent_ruleset_free(rs);
    }

    test_vendor_choice_many();

    rc = consent_keys_parse(U(test_keys_text), strlen(test_keys_text), &ring,
                            &test_alloc, &err);
    CHECK_INT(rc, 0);

    if (rc == 0) {
        test_vendor_token(&ring);
        consent_keyring_free(&ring);
    }
}
