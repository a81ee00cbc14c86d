/*
 * Copyright (C) ngx_consent_module authors
 *
 * __gpp_sid, the sections that apply (gpp.h).  The spec names no cookie
 * format: CMPs write the ids joined by ',' (as the gpp_sid URL
 * parameter), the spec's in-app key IABGPP_GppSID joins them by '_', and
 * the CMP API's applicableSections is [-1] when none applies.  All three
 * are read; a mix of separators is not, as no writer makes one.
 */

#include "gpp.h"


static int
consent_gpp_sid_fail(consent_err_t *err, const char *msg,
    const unsigned char *p, size_t len)
{
    err->code = CONSENT_GPP_E_SID;
    err->msg = msg;
    err->at.data = p;
    err->at.len = len;
    err->line = 0;

    return -1;
}


int
consent_gpp_sid_parse(const unsigned char *p, size_t len, unsigned *ids,
    size_t nids, consent_err_t *err)
{
    size_t         i, n, start;
    unsigned       id;
    unsigned char  sep;

    if (len == 0) {
        return consent_gpp_sid_fail(err, "empty __gpp_sid", p, len);
    }

    if (len == 2 && p[0] == '-' && p[1] == '1') {
        return 0;
    }

    sep = 0;
    n = 0;
    start = 0;

    for (i = 0; i <= len; i++) {

        if (i < len && p[i] >= '0' && p[i] <= '9') {
            continue;
        }

        if (i < len) {
            if ((p[i] != ',' && p[i] != '_') || (sep && p[i] != sep)) {
                return consent_gpp_sid_fail(err, "a byte not a digit or one"
                                            " separator", p + i, 1);
            }

            sep = p[i];
        }

        if (i == start) {
            return consent_gpp_sid_fail(err, "an empty id", p + start, 0);
        }

        /* at most 5 digits: no overflow, and 65535 is the largest id */
        if (i - start > 5) {
            return consent_gpp_sid_fail(err, "an id too large", p + start,
                                        i - start);
        }

        for (id = 0; start < i; start++) {
            id = id * 10 + (p[start] - '0');
        }

        if (id == 0 || id > CONSENT_GPP_MAX_ID) {
            return consent_gpp_sid_fail(err, "an id 0 or too large",
                                        p + i - 1, 1);
        }

        if (n == nids) {
            return consent_gpp_sid_fail(err, "more ids than room", p, len);
        }

        ids[n++] = id;
        start = i + 1;
    }

    return (int) n;
}
