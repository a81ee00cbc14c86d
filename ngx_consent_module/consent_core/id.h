/*
 * Copyright (C) ngx_consent_module authors
 *
 * Which bytes may name a subject or a key: checked wherever one comes in
 * (a token, consent_subject, consentctl, a keys file) because they end up
 * in cookies, Redis keys and log lines.
 */

#ifndef _CONSENT_ID_H_INCLUDED_
#define _CONSENT_ID_H_INCLUDED_


#include <stddef.h>


#define CONSENT_SUBJECT_MAX         64
#define CONSENT_ID_MAX              128

/*
 * A word of a token, its kid or its subject: [A-Za-z0-9_-] (the base64url
 * alphabet: nothing in it needs quoting anywhere), 1 to max bytes.
 */
int consent_token_word_valid(const unsigned char *p, size_t len,
    size_t max);

/* subject ids of tokens: a token word of 1 to CONSENT_SUBJECT_MAX */
int consent_subject_valid(const unsigned char *p, size_t len);

/*
 * Any subject id that may name a Redis key (consent_subject, consentctl):
 * [A-Za-z0-9._:@-], 1 to CONSENT_ID_MAX.  The ids of tokens are a subset.
 */
int consent_id_valid(const unsigned char *p, size_t len);


#endif /* _CONSENT_ID_H_INCLUDED_ */
