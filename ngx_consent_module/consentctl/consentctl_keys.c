/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: a new line for the consent_keys file, "kid base64key",
 * with 32 bytes from OpenSSL's RAND_bytes().  The line is read back with
 * the module's own parser before it is printed, so what this prints is
 * what nginx -t accepts.
 */


#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "consentctl.h"
#include "keys.h"


/* HMAC-SHA256: a key as long as the hash's output */
#define CTL_KEY_BYTES               32


static int ctl_keys_generate(int argc, char **argv);


int
ctl_keys(ctl_t *ctl, int argc, char **argv)
{
    if (argc == 0) {
        return ctl_usage_error("keys: generate?");
    }

    if (strcmp(argv[0], "generate") == 0) {
        return ctl_keys_generate(argc - 1, argv + 1);
    }

    return ctl_usage_error("keys: unknown command \"%s\"", argv[0]);
}


static int
ctl_keys_generate(int argc, char **argv)
{
    int                 rc, n, ok;
    char               *pos[1], kid[CONSENT_KID_MAX + 1];
    time_t              now;
    size_t              len;
    struct tm           tm;
    consent_err_t       err;
    unsigned char       key[CTL_KEY_BYTES];
    consent_keyring_t   ring;

    /* the kid, a space, the key in base64, and a newline (where
     * EVP_EncodeBlock() put its '\0') */
    char                out[CONSENT_KID_MAX + 1
                            + 4 * ((CTL_KEY_BYTES + 2) / 3) + 2];

    pos[0] = NULL;

    /* the kid is optional: ctl_args() wants exactly npos positionals */
    if (argc > 0) {
        rc = ctl_args("keys generate [KID]", argc, argv, NULL, pos, 1);

    } else {
        rc = ctl_args("keys generate [KID]", argc, argv, NULL, NULL, 0);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    if (pos[0] == NULL) {
        /* a new kid every day: a rotation needs one the file lacks */
        now = time(NULL);

        if (gmtime_r(&now, &tm) == NULL
            || strftime(kid, sizeof(kid), "k%Y%m%d", &tm) == 0)
        {
            ctl_error("cannot format today's date");
            return CTL_ERROR;
        }

        pos[0] = kid;
    }

    len = strlen(pos[0]);

    if (len == 0 || len > CONSENT_KID_MAX) {
        goto bad_kid;
    }

    if (RAND_bytes(key, sizeof(key)) != 1) {
        ctl_error("RAND_bytes() failed: no random bytes for the key");
        return CTL_ERROR;
    }

    memcpy(out, pos[0], len);
    out[len] = ' ';

    n = EVP_EncodeBlock((unsigned char *) out + len + 1, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));

    len += 1 + n;
    out[len++] = '\n';

    /*
     * The module's parser decides what a valid kid is: the key half is
     * well-formed by construction, so a line that does not parse back
     * into this one kid has a kid nginx would refuse.
     */
    /* no allocator: this ring never verifies, it needs no token cache */
    rc = consent_keys_parse((const unsigned char *) out, len, &ring, NULL,
                            &err);

    ok = (rc == 0 && ring.n == 1
          && ring.keys[0].kid_len == strlen(pos[0])
          && memcmp(ring.keys[0].kid, pos[0], ring.keys[0].kid_len) == 0);

    consent_keyring_free(&ring);

    if (!ok) {
        OPENSSL_cleanse(out, sizeof(out));
        goto bad_kid;
    }

    /* a failed write is also reported by main(), which flushes stdout */
    rc = (fwrite(out, 1, len, stdout) == len) ? CTL_OK : CTL_ERROR;

    OPENSSL_cleanse(out, sizeof(out));

    return rc;

bad_kid:

    return ctl_arg_error("invalid kid \"%s\" (1 to %d of [A-Za-z0-9_-])",
                         pos[0], CONSENT_KID_MAX);
}
