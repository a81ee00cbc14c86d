/*
 * Copyright (C) ngx_consent_module authors
 *
 * How every parser of the core reports why it failed (consent_core.h).
 */

#include "consent_core.h"


int
consent_fail(consent_err_t *err, int code, const char *msg,
    const unsigned char *at, size_t len)
{
    err->code = code;
    err->msg = msg;
    err->at.data = at;
    err->at.len = len;
    err->line = 0;

    return -1;
}
