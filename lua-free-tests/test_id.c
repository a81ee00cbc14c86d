/*
 * Copyright (C) ngx_consent_module authors
 *
 * Subject ids and the words of a token.
 */

#include "test.h"
#include "id.h"


void
test_id(void)
{
    char  s[CONSENT_SUBJECT_MAX + 2];
    char  id[CONSENT_ID_MAX + 1];

    CHECK(consent_subject_valid(U("abc-DEF_123"), 11));
    CHECK(!consent_subject_valid(U(""), 0));
    CHECK(!consent_subject_valid(U("a b"), 3));
    CHECK(!consent_subject_valid(U("a.b"), 3));
    CHECK(!consent_subject_valid(U("a\r\n"), 3));
    CHECK(!consent_subject_valid(U("s:1"), 3));

    memset(s, 'a', sizeof(s));
    CHECK(consent_subject_valid(U(s), CONSENT_SUBJECT_MAX));
    CHECK(!consent_subject_valid(U(s), CONSENT_SUBJECT_MAX + 1));

    /* ids that may name a Redis key: the token's and a few more bytes */
    CHECK(consent_id_valid(U("abc-DEF_123"), 11));
    CHECK(consent_id_valid(U("user@shop.example:42"), 20));
    CHECK(!consent_id_valid(U(""), 0));
    CHECK(!consent_id_valid(U("a b"), 3));
    CHECK(!consent_id_valid(U("a/b"), 3));
    CHECK(!consent_id_valid(U("a*"), 2));
    CHECK(!consent_id_valid(U("a\r\n"), 3));
    CHECK(!consent_id_valid(U("a\0b"), 3));
    CHECK(!consent_id_valid(U("caf\xc3\xa9"), 5));
    CHECK(!consent_id_valid(U("{x}"), 3));
    memset(id, '.', sizeof(id));
    CHECK(consent_id_valid(U(id), CONSENT_ID_MAX));
    CHECK(!consent_id_valid(U(id), CONSENT_ID_MAX + 1));

    /* a token word (kid, subject): any max, the same bytes */
    CHECK(consent_token_word_valid(U("k2024-01_a"), 10, 10));
    CHECK(!consent_token_word_valid(U("k2024-01_a"), 10, 9));
    CHECK(!consent_token_word_valid(U(""), 0, 16));
    CHECK(!consent_token_word_valid(U("k/1"), 3, 16));
    CHECK(!consent_token_word_valid(U("k.1"), 3, 16));
    CHECK(!consent_token_word_valid(U("k1\r"), 3, 16));
    CHECK(!consent_token_word_valid(U("k=1"), 3, 16));
    CHECK(consent_token_word_valid(U("-_-"), 3, 3));
}
