/*
 * Copyright (C) ngx_consent_module authors
 *
 * A Redis password file's first line, as the module and consentctl read
 * it.
 */

#include "test.h"
#include "secret.h"


void
test_secret(void)
{
    size_t                ulen, plen;
    const unsigned char  *user, *pass;

#define SECRET(text)                                                         \
    consent_secret_parse(U(text), sizeof(text) - 1, &user, &ulen, &pass,     \
                         &plen)

    CHECK_INT(SECRET("s3cr3t"), 0);
    CHECK_INT(ulen, 0);
    CHECK_MEM(pass, plen, "s3cr3t");

    CHECK_INT(SECRET("app s3cr3t \r\nsecond line\n"), 0);
    CHECK_MEM(user, ulen, "app");
    CHECK_MEM(pass, plen, "s3cr3t");

    /* only the first space splits: the rest belongs to the password */
    CHECK_INT(SECRET("app pass with spaces\n"), 0);
    CHECK_MEM(user, ulen, "app");
    CHECK_MEM(pass, plen, "pass with spaces");

    /* bytes are bytes: NUL inside the password is kept */
    /* trailing spaces go first: "app " is a password, not a user */
    CHECK_INT(SECRET("app \n"), 0);
    CHECK_INT(ulen, 0);
    CHECK_MEM(pass, plen, "app");

    CHECK_INT(SECRET("p\0w"), 0);
    CHECK_INT(plen, 3);

    CHECK_INT(SECRET(""), -1);
    CHECK_INT(SECRET("\n"), -1);
    CHECK_INT(SECRET("  \r\n"), -1);
    CHECK_INT(SECRET(" s3cr3t"), -1);        /* an empty user */
    CHECK_INT(SECRET("\nsecond line"), -1);  /* the first line counts */

#undef SECRET
}
