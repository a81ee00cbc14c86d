/*
 * Copyright (C) ngx_consent_module authors
 *
 * What every libFuzzer target here shares.
 */

#ifndef _CONSENT_FUZZ_H_INCLUDED_
#define _CONSENT_FUZZ_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* a property the code promises: a violation is a finding, like a crash */
#define FUZZ_ASSERT(cond)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: property violated: %s\n",                \
                    __FILE__, __LINE__, #cond);                              \
            abort();                                                         \
        }                                                                    \
    } while (0)


/*
 * An exactly sized heap copy: a read one byte past its end is an ASan
 * report, where libFuzzer's own buffer may have slack.
 */
static inline unsigned char *
fuzz_copy(const void *src, size_t len)
{
    unsigned char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    memcpy(p, src, len);

    return p;
}


#endif /* _CONSENT_FUZZ_H_INCLUDED_ */
