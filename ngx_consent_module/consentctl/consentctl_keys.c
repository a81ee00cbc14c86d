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

/*
 * The line: the kid, a space, the key in base64, and a newline (where
 * EVP_EncodeBlock() put its '\0')
 */
#define CTL_KEY_LINE_SIZE                                                    \
    (CONSENT_KID_MAX + 1 + 4 * ((CTL_KEY_BYTES + 2) / 3) + 2)


static int ctl_keys_generate(ctl_t *ctl, int argc, char **argv);
static int ctl_kid_today(char *kid, size_t size);
static int ctl_keys_line(const char *kid, size_t len, char *out,
    size_t *olen);
static int ctl_keys_check(const char *line, size_t len, const char *kid);
static int ctl_kid_error(const char *kid);


static const ctl_handler_t  ctl_keys_commands[] = {
    { "generate", ctl_keys_generate },
    { NULL,       NULL }
};


int
ctl_keys(ctl_t *ctl, int argc, char **argv)
{
    return ctl_run(ctl, "keys: ", "generate?", ctl_keys_commands, argc,
                   argv);
}


static int
ctl_keys_generate(ctl_t *ctl, int argc, char **argv)
{
    int     rc;
    char   *pos[1], kid[CONSENT_KID_MAX + 1], out[CTL_KEY_LINE_SIZE];
    size_t  len;

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
        if (ctl_kid_today(kid, sizeof(kid)) != 0) {
            ctl_error("cannot format today's date");
            return CTL_ERROR;
        }

        pos[0] = kid;
    }

    len = strlen(pos[0]);

    if (len == 0 || len > CONSENT_KID_MAX) {
        return ctl_kid_error(pos[0]);
    }

    if (ctl_keys_line(pos[0], len, out, &len) != CTL_OK) {
        return CTL_ERROR;
    }

    if (!ctl_keys_check(out, len, pos[0])) {
        OPENSSL_cleanse(out, sizeof(out));
        return ctl_kid_error(pos[0]);
    }

    /* a failed write is also reported by main(), which flushes stdout */
    rc = (fwrite(out, 1, len, stdout) == len) ? CTL_OK : CTL_ERROR;

    OPENSSL_cleanse(out, sizeof(out));

    return rc;
}


/* a new kid every day: a rotation needs one the file lacks; 0 or -1 */

static int
ctl_kid_today(char *kid, size_t size)
{
    time_t     now;
    struct tm  tm;

    now = time(NULL);

    if (gmtime_r(&now, &tm) == NULL
        || strftime(kid, size, "k%Y%m%d", &tm) == 0)
    {
        return -1;
    }

    return 0;
}


/*
 * "kid key\n" into out (CTL_KEY_LINE_SIZE bytes), the key CTL_KEY_BYTES
 * random bytes in base64: CTL_OK, or CTL_ERROR after a message
 */

static int
ctl_keys_line(const char *kid, size_t len, char *out, size_t *olen)
{
    int            n;
    unsigned char  key[CTL_KEY_BYTES];

    if (RAND_bytes(key, sizeof(key)) != 1) {
        ctl_error("RAND_bytes() failed: no random bytes for the key");
        return CTL_ERROR;
    }

    memcpy(out, kid, len);
    out[len] = ' ';

    n = EVP_EncodeBlock((unsigned char *) out + len + 1, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));

    len += 1 + n;
    out[len++] = '\n';

    *olen = len;

    return CTL_OK;
}


/*
 * The module's parser decides what a valid kid is: the key half is
 * well-formed by construction, so a line that does not parse back into
 * this one kid has a kid nginx would refuse.  1 if it does.
 */

static int
ctl_keys_check(const char *line, size_t len, const char *kid)
{
    int                ok;
    consent_err_t      err;
    consent_keyring_t  ring;

    /* no allocator: this ring never verifies, it needs no token cache */
    ok = (consent_keys_parse((const unsigned char *) line, len, &ring, NULL,
                             &err)
          == 0
          && ring.n == 1
          && ring.keys[0].kid_len == strlen(kid)
          && memcmp(ring.keys[0].kid, kid, ring.keys[0].kid_len) == 0);

    consent_keyring_free(&ring);

    return ok;
}


static int
ctl_kid_error(const char *kid)
{
    return ctl_arg_error("invalid kid \"%s\" (1 to %d of [A-Za-z0-9_-])",
                         kid, CONSENT_KID_MAX);
}
