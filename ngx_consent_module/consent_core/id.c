/*
 * Copyright (C) ngx_consent_module authors
 *
 * Subject ids and key ids.
 */

#include "id.h"


static int consent_word_char(unsigned char c);


static int
consent_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-';
}


int
consent_token_word_valid(const unsigned char *p, size_t len, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!consent_word_char(p[i])) {
            return 0;
        }
    }

    return 1;
}


int
consent_subject_valid(const unsigned char *p, size_t len)
{
    return consent_token_word_valid(p, len, CONSENT_SUBJECT_MAX);
}


int
consent_id_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONSENT_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!consent_word_char(p[i])
            && p[i] != '.' && p[i] != ':' && p[i] != '@')
        {
            return 0;
        }
    }

    return 1;
}
