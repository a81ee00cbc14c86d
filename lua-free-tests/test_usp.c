/*
 * Copyright (C) ngx_consent_module authors
 *
 * The US Privacy string (usp.c).
 */

#include "test.h"
#include "usp.h"


static int
usp(const char *s, consent_usp_t *u, consent_err_t *err)
{
    return consent_usp_decode(U(s), strlen(s), u, err);
}


static void
test_usp_valid(void)
{
    char            s[5];
    unsigned        i, j, k;
    consent_usp_t   u;
    consent_err_t   err;
    static const char  v[] = "YN-";

    CHECK_INT(usp("1YNN", &u, &err), 0);
    CHECK_INT(u.version, 1);
    CHECK_INT(u.notice, CONSENT_USP_YES);
    CHECK_INT(u.opt_out_sale, CONSENT_USP_NO);
    CHECK_INT(u.lspa, CONSENT_USP_NO);

    CHECK_INT(usp("1---", &u, &err), 0);
    CHECK_INT(u.notice, CONSENT_USP_NA);
    CHECK_INT(u.opt_out_sale, CONSENT_USP_NA);
    CHECK_INT(u.lspa, CONSENT_USP_NA);

    /* lowercase is read as uppercase */
    CHECK_INT(usp("1yny", &u, &err), 0);
    CHECK_INT(u.notice, CONSENT_USP_YES);
    CHECK_INT(u.opt_out_sale, CONSENT_USP_NO);
    CHECK_INT(u.lspa, CONSENT_USP_YES);

    /* all 27 */
    s[0] = '1';
    s[4] = '\0';

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 3; j++) {
            for (k = 0; k < 3; k++) {
                s[1] = v[i];
                s[2] = v[j];
                s[3] = v[k];
                CHECK_INT(usp(s, &u, &err), 0);
                CHECK(u.notice == v[i] && u.opt_out_sale == v[j]
                      && u.lspa == v[k]);
            }
        }
    }
}


static void
test_usp_invalid(void)
{
    char           s[5];
    unsigned       pos, c;
    consent_usp_t  u, before;
    consent_err_t  err;

    CHECK_INT(consent_usp_decode(U(""), 0, &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_LENGTH);
    CHECK_INT(usp("1YN", &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_LENGTH);
    CHECK_INT(usp("1YNNN", &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_LENGTH);
    CHECK_INT(usp("1YNN ", &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_LENGTH);

    CHECK_INT(usp("2YNN", &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_VERSION);
    CHECK_INT(usp("0YNN", &u, &err), -1);
    CHECK_INT(usp("YNN1", &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_VERSION);

    CHECK_INT(usp("1YNX", &u, &err), -1);
    CHECK_INT(err.code, CONSENT_USP_E_VALUE);
    CHECK_INT(err.at.len, 1);
    CHECK_INT(*err.at.data, 'X');

    /* every other byte in every field is refused, *u untouched */
    memset(&u, 0x5a, sizeof(u));
    before = u;

    for (pos = 1; pos < 4; pos++) {
        for (c = 0; c < 256; c++) {
            if (c == 'Y' || c == 'y' || c == 'N' || c == 'n' || c == '-') {
                continue;
            }

            memcpy(s, "1NNN", 4);
            s[pos] = (char) c;

            CHECK_INT(consent_usp_decode(U(s), 4, &u, &err), -1);
            CHECK_INT(err.code, CONSENT_USP_E_VALUE);
            CHECK(err.at.data == U(s) + pos);
        }
    }

    CHECK(memcmp(&u, &before, sizeof(u)) == 0);
}


void
test_usp(void)
{
    test_usp_valid();
    test_usp_invalid();
}
