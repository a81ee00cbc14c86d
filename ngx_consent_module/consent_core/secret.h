/*
 * Copyright (C) ngx_consent_module authors
 *
 * A Redis password file, as the module (consent_redis password_file=)
 * and consentctl read it.
 */

#ifndef _CONSENT_SECRET_H_INCLUDED_
#define _CONSENT_SECRET_H_INCLUDED_


#include <stddef.h>


/*
 * The file's first line: "password", or "user password" for a Redis 6
 * ACL user; trailing CR and spaces are not part of it.  0 with the
 * password (and the user, *user_len 0 if none) pointing into p, or -1 if
 * there is no password or the user is empty.
 */
int consent_secret_parse(const unsigned char *p, size_t len,
    const unsigned char **user, size_t *user_len,
    const unsigned char **password, size_t *password_len);


#endif /* _CONSENT_SECRET_H_INCLUDED_ */
