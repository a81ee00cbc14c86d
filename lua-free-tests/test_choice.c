/*
 * Copyright (C) ngx_consent_module authors
 *
 * The consent API's request bodies (JSON and form) and JSON escaping.
 */

#include "test.h"


static consent_purposes_t  ps;
static consent_ruleset_t  *rs;


int
test_choice_body(int as_form, const char *s, const consent_ruleset_t *rules,
    consent_choice_t *ch)
{
    unsigned char  *copy;
    int             rc;
    size_t          len;

    if (ps.n == 0) {
        consent_purposes_init(&ps);
    }

    /* an exact-size copy: ASan sees any read past the body */
    len = strlen(s);
    copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    rc = as_form ? consent_choice_form(copy, len, &ps, rules, ch)
                 : consent_choice_json(copy, len, &ps, rules, ch);
    free(copy);

    return rc;
}


static int
json(const char *s, consent_choice_t *ch)
{
    return test_choice_body(0, s, rs, ch);
}


static int
form(const char *s, consent_choice_t *ch)
{
    return test_choice_body(1, s, rs, ch);
}


/* fails with this field, and an error message containing want */
static void
check_error(int rc, consent_choice_t *ch, const char *field,
    const char *want, int line)
{
    if (rc == -1 && ch->field && strcmp(ch->field, field) == 0
        && strstr(ch->error, want) != NULL)
    {
        test_passed++;
        return;
    }

    test_failed++;
    fprintf(stderr, "FAIL test_choice.c:%d: rc %d field \"%s\" error \"%s\","
            " want %s: ...%s...\n", line, rc, ch->field ? ch->field : "",
            ch->error, field, want);
}

#define CHECK_ERR(rc, ch, field, want)                                       \
    check_error(rc, ch, field, want, __LINE__)


static void
test_choice_json(void)
{
    int               i;
    char              buf[8192];
    consent_choice_t  ch;

    CHECK_INT(json("{\"purposes\": [\"analytics\"], \"policy_version\": 3}",
                   &ch), 0);
    CHECK_INT(ch.purposes, N | A);
    CHECK_INT(ch.has_version, 1);
    CHECK_INT(ch.policy_version, 3);

    /* reject all, whitespace everywhere, no version */
    CHECK_INT(json(" \r\n\t{ \"purposes\" : [ ] } \n", &ch), 0);
    CHECK_INT(ch.purposes, N);
    CHECK_INT(ch.has_purposes, 1);
    CHECK_INT(ch.has_version, 0);

    /* necessary may be named; duplicates are harmless; escapes decode */
    CHECK_INT(json("{\"purposes\":[\"necessary\",\"analytics\","
                   "\"anal\\u0079tics\",\"advertising\"]}", &ch), 0);
    CHECK_INT(ch.purposes, N | A | D);

    /* unknown fields are skipped, whatever they hold */
    CHECK_INT(json("{\"tcf\":\"CP\",\"x\":{\"a\":[1,2.5e3,-0,true,false,"
                   "null,{}]},\"purposes\":[\"sharing\"],\"y\":[]}", &ch),
              0);
    CHECK_INT(ch.purposes, N | S);

    CHECK_INT(json("{\"purposes\":[],\"policy_version\":0}", &ch), 0);
    CHECK_INT(ch.policy_version, 0);
    CHECK_INT(json("{\"purposes\":[],\"policy_version\":4294967295}", &ch),
              0);
    CHECK_INT(ch.policy_version, 4294967295u);

    /* the field at fault is named */
    CHECK_ERR(json("{\"purposes\":[\"analytics\",\"spying\"]}", &ch),
              &ch, "purposes", "unknown purpose \"spying\"");
    CHECK_ERR(json("{\"purposes\":[\"Analytics\"]}", &ch),
              &ch, "purposes", "unknown purpose");
    CHECK_ERR(json("{\"purposes\":\"analytics\"}", &ch),
              &ch, "purposes", "must be an array");
    CHECK_ERR(json("{\"purposes\":[1]}", &ch), &ch, "purposes",
              "must be an array");
    CHECK_ERR(json("{\"purposes\":[[\"analytics\"]]}", &ch), &ch,
              "purposes", "must be an array");
    CHECK_ERR(json("{\"purposes\":null}", &ch), &ch, "purposes",
              "must be an array");
    CHECK_ERR(json("{\"policy_version\":3}", &ch), &ch, "purposes",
              "missing");
    CHECK_ERR(json("{}", &ch), &ch, "purposes", "missing");
    CHECK_ERR(json("{\"purposes\":[],\"purposes\":[]}", &ch), &ch,
              "purposes", "duplicate");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":\"3\"}", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":-1}", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":3.5}", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":1e2}", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":4294967296}", &ch),
              &ch, "policy_version", "integer");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":"
                   "99999999999999999999999999}", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(json("{\"purposes\":[],\"policy_version\":1,"
                   "\"policy_version\":2}", &ch), &ch, "policy_version",
              "duplicate");

    /* a long unknown name is cut short in the message */
    CHECK_ERR(json("{\"purposes\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaa\"]}", &ch), &ch, "purposes", "...\"");
    CHECK(strlen(ch.error) < sizeof(ch.error) - 1);
    /* quotes and control bytes never reach the message raw */
    CHECK_ERR(json("{\"purposes\":[\"a\\\"b\\n\"]}", &ch), &ch, "purposes",
              "unknown purpose \"a?b?\"");

    /* syntax: the body is at fault, with a position */
    CHECK_ERR(json("", &ch), &ch, "body", "empty");
    CHECK_ERR(json("  ", &ch), &ch, "body", "empty");
    CHECK_ERR(json("[]", &ch), &ch, "body", "object");
    CHECK_ERR(json("\"purposes\"", &ch), &ch, "body", "object");
    CHECK_ERR(json("{", &ch), &ch, "body", "invalid JSON at byte 1");
    CHECK_ERR(json("{\"purposes\":[]", &ch), &ch, "body", "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[]}}", &ch), &ch, "body",
              "invalid JSON at byte 15");
    CHECK_ERR(json("{\"purposes\":[]} x", &ch), &ch, "body", "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[],}", &ch), &ch, "body", "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[\"analytics\",]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{purposes:[]}", &ch), &ch, "body", "invalid JSON");
    CHECK_ERR(json("{'purposes':[]}", &ch), &ch, "body", "invalid JSON");
    CHECK_ERR(json("{\"purposes\" []}", &ch), &ch, "body", "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[\"a\tb\"]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[\"\\x\"]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[\"\\u12\"]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[\"\\ud800\"]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"purposes\":[\"\\udc00\"]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":tru,\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":01,\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":1.,\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":-,\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":1e,\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    /* a NUL after the object is trailing data, one inside a string too */
    CHECK_ERR(consent_choice_json(U("{\"purposes\":[]}\0"), 16, &ps, rs,
                                  &ch),
              &ch, "body", "invalid JSON at byte 15");
    CHECK_ERR(consent_choice_json(U("{\"purposes\":[\"a\0\"]}"), 19, &ps,
                                  rs, &ch), &ch, "body", "invalid JSON");

    /* a surrogate pair is fine in a skipped field */
    CHECK_INT(json("{\"x\":\"\\ud83d\\ude00\",\"purposes\":[]}", &ch), 0);

    /* UTF-8: good passes, bad is a syntax error */
    CHECK_INT(json("{\"x\":\"\xc3\xa9\xe3\x81\x82\xf0\x9f\x98\x80\","
                   "\"purposes\":[]}", &ch), 0);
    CHECK_ERR(json("{\"x\":\"\xc3\",\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":\"\xc0\xaf\",\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");
    CHECK_ERR(json("{\"x\":\"\xed\xa0\x80\",\"purposes\":[]}", &ch), &ch,
              "body", "invalid JSON");
    CHECK_ERR(json("{\"x\":\"\xf4\x90\x80\x80\",\"purposes\":[]}", &ch), &ch,
              "body", "invalid JSON");
    CHECK_ERR(json("{\"x\":\"\xff\",\"purposes\":[]}", &ch), &ch, "body",
              "invalid JSON");

    /* nesting is bounded */
    strcpy(buf, "{\"x\":");
    for (i = 0; i < 40; i++) {
        strcat(buf, "[");
    }
    for (i = 0; i < 40; i++) {
        strcat(buf, "]");
    }
    strcat(buf, ",\"purposes\":[]}");
    CHECK_ERR(json(buf, &ch), &ch, "body", "nested too deep");

    strcpy(buf, "{\"x\":");
    for (i = 0; i < 20; i++) {
        strcat(buf, "[");
    }
    for (i = 0; i < 20; i++) {
        strcat(buf, "]");
    }
    strcat(buf, ",\"purposes\":[]}");
    CHECK_INT(json(buf, &ch), 0);

    /* every prefix of a good body is an error, never a crash */
    strcpy(buf, "{\"purposes\":[\"analytics\",\"advertising\"],"
                "\"policy_version\":12,\"x\":{\"y\":[true,\"\\u00e9\"]}}");
    for (i = 0; i < (int) strlen(buf); i++) {
        char  c = buf[i];

        buf[i] = '\0';
        CHECK_INT(json(buf, &ch), -1);
        CHECK(ch.field != NULL && ch.error[0] != '\0');
        buf[i] = c;
    }
    CHECK_INT(json(buf, &ch), 0);
    CHECK_INT(ch.purposes, N | A | D);
    CHECK_INT(ch.policy_version, 12);
}


static void
test_choice_form(void)
{
    consent_choice_t  ch;

    CHECK_INT(form("purposes=analytics,advertising&policy_version=3", &ch),
              0);
    CHECK_INT(ch.purposes, N | A | D);
    CHECK_INT(ch.policy_version, 3);

    CHECK_INT(form("purposes=analytics%2Cadvertising", &ch), 0);
    CHECK_INT(ch.purposes, N | A | D);
    CHECK_INT(ch.has_version, 0);

    CHECK_INT(form("purposes=analytics+advertising&x=1", &ch), 0);
    CHECK_INT(ch.purposes, N | A | D);

    CHECK_INT(form("purposes=analytics&purposes=advertising", &ch), 0);
    CHECK_INT(ch.purposes, N | A | D);

    CHECK_INT(form("purposes=", &ch), 0);
    CHECK_INT(ch.purposes, N);
    CHECK_INT(form("purposes", &ch), 0);
    CHECK_INT(ch.purposes, N);
    CHECK_INT(form("&&purposes=analytics&&", &ch), 0);
    CHECK_INT(ch.purposes, N | A);

    CHECK_ERR(form("", &ch), &ch, "purposes", "missing");
    CHECK_ERR(form("policy_version=1", &ch), &ch, "purposes", "missing");
    CHECK_ERR(form("purposes=spying", &ch), &ch, "purposes",
              "unknown purpose \"spying\"");
    CHECK_ERR(form("purposes=%ZZ", &ch), &ch, "body", "percent");
    CHECK_ERR(form("purposes=%4", &ch), &ch, "body", "percent");
    CHECK_ERR(form("purposes=&policy_version=x", &ch), &ch, "policy_version",
              "integer");
    CHECK_ERR(form("purposes=&policy_version=", &ch), &ch, "policy_version",
              "integer");
    CHECK_ERR(form("purposes=&policy_version=4294967296", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(form("purposes=&policy_version=-1", &ch), &ch,
              "policy_version", "integer");
    CHECK_ERR(form("purposes=&policy_version=1&policy_version=1", &ch), &ch,
              "policy_version", "duplicate");
    CHECK_ERR(form("purposes=ana%00lytics", &ch), &ch, "purposes",
              "unknown purpose \"ana?lytics\"");
}


static void
test_json_escape(void)
{
    size_t         n;
    unsigned char  out[64];

    n = consent_json_escape(U("plain"), 5, out, sizeof(out));
    CHECK_MEM(out, n, "plain");

    n = consent_json_escape(U("a\"b\\c\r\n\x01\x7f\xc3"), 10, out,
                            sizeof(out));
    CHECK_MEM(out, n, "a\\\"b\\\\c\\u000d\\u000a\\u0001\\u007f\\u00c3");

    /* measuring writes nothing; too small a buffer writes nothing */
    CHECK_INT(consent_json_escape(U("\"\""), 2, NULL, 0), 4);
    memset(out, 'x', sizeof(out));
    CHECK_INT(consent_json_escape(U("\"\""), 2, out, 3), 4);
    CHECK_INT(out[0], 'x');
    CHECK_INT(consent_json_escape(U(""), 0, out, 0), 0);
}


void
test_choice(void)
{
    consent_purposes_init(&ps);

    test_choice_json();
    test_choice_form();
    test_json_escape();
}
