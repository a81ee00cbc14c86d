/*
 * Copyright (C) ngx_consent_module authors
 *
 * GPP strings from stdin, one a line, decoded by the core and printed as
 * JSON in the shape iab/gpp-vectors.mjs prints what the IAB's library
 * reads from the same string, or "error: <message>".  iab/check-gpp.sh
 * compares the two field by field.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpp.h"


#define LINE_MAX_LEN  (CONSENT_GPP_MAX_LEN + 2)


/* every block of one line, freed before the next */
typedef struct block_s  block_t;

struct block_s {
    block_t  *next;
};

static block_t  *blocks;


static void *
tool_alloc(void *data, size_t size)
{
    block_t  *b;

    b = malloc(sizeof(block_t) + size + 16);
    if (b == NULL) {
        return NULL;
    }

    b->next = blocks;
    blocks = b;

    return (unsigned char *) b + 16;
}


static void
tool_free(void)
{
    block_t  *b;

    while (blocks) {
        b = blocks;
        blocks = b->next;
        free(b);
    }
}


static const char  *us_names[CONSENT_GPP_US_FIELDS] = {
    "SharingNotice", "SaleOptOutNotice", "SharingOptOutNotice",
    "TargetedAdvertisingOptOutNotice", "SensitiveDataProcessingOptOutNotice",
    "SensitiveDataLimitUseNotice", "SensitiveDataOptOutNotice",
    "ProcessingNotice", "SaleOptOut", "SharingOptOut",
    "TargetedAdvertisingOptOut", "PersonalDataConsents",
    "AdditionalDataProcessingConsent", "MspaCoveredTransaction",
    "MspaOptOutOptionMode", "MspaServiceProviderMode", "MspaMode"
};


static void
print_list(const char *name, const unsigned char *v, unsigned n)
{
    unsigned  i;

    printf(",\"%s\":[", name);

    for (i = 0; i < n; i++) {
        printf("%s%u", i ? "," : "", v[i]);
    }

    printf("]");
}


/* ids 1..n of a mask whose bit (id - 1) is set */
static void
print_mask(const char *name, uint64_t m, unsigned n)
{
    unsigned  i, first;

    printf(",\"%s\":[", name);

    for (i = 0, first = 1; i < n; i++) {
        if ((m >> i) & 1) {
            printf("%s%u", first ? "" : ",", i + 1);
            first = 0;
        }
    }

    printf("]");
}


static void
print_vendors(const char *name, const consent_tcf_vendors_t *v)
{
    unsigned  id, first;

    printf(",\"%s\":[", name);

    for (id = 1, first = 1; id <= v->max_id; id++) {
        if (v->bits && (v->bits[(id - 1) / 8] >> (7 - (id - 1) % 8)) & 1) {
            printf("%s%u", first ? "" : ",", id);
            first = 0;
        }
    }

    printf("]");
}


static void
print_us(const consent_gpp_section_t *s)
{
    unsigned                 f;
    const consent_gpp_us_t  *us;

    us = &s->u.us;

    printf("\"Version\":%u", us->version);

    for (f = 0; f < CONSENT_GPP_US_FIELDS; f++) {
        if (CONSENT_GPP_US_HAS(us, f)) {
            printf(",\"%s\":%u", us_names[f], us->field[f]);
        }
    }

    if (us->nsensitive || s->id == CONSENT_GPP_USIN
        || s->id == CONSENT_GPP_USKY || s->id == CONSENT_GPP_USRI)
    {
        print_list("SensitiveDataProcessing", us->sensitive, us->nsensitive);
    }

    if (us->nchild) {
        print_list("KnownChildSensitiveDataConsents", us->child, us->nchild);
    }

    if (us->has_gpc) {
        printf(",\"Gpc\":%u", us->gpc);
    }
}


static void
print_tcfca(const consent_gpp_tcfca_t *ca)
{
    unsigned                          i, j, id, first;
    const consent_gpp_restriction_t  *r;

    printf("\"Version\":%u,\"Created\":%llu,\"LastUpdated\":%llu",
           ca->version, (unsigned long long) ca->created,
           (unsigned long long) ca->last_updated);
    printf(",\"CmpId\":%u,\"CmpVersion\":%u,\"ConsentScreen\":%u",
           ca->cmp_id, ca->cmp_version, ca->consent_screen);
    printf(",\"ConsentLanguage\":\"%s\",\"VendorListVersion\":%u",
           ca->language, ca->vendor_list_version);
    printf(",\"TcfPolicyVersion\":%u,\"UseNonStandardStacks\":%u",
           ca->policy_version, ca->use_non_standard_stacks);
    print_mask("SpecialFeatureExpressConsent", ca->special_features_express,
               12);
    print_mask("PurposesExpressConsent", ca->purposes_express, 24);
    print_mask("PurposesImpliedConsent", ca->purposes_implied, 24);
    print_vendors("VendorExpressConsent", &ca->vendors_express);
    print_vendors("VendorImpliedConsent", &ca->vendors_implied);

    printf(",\"PubRestrictions\":[");

    for (i = 0; i < ca->nrestrictions; i++) {
        r = &ca->restrictions[i];
        printf("%s[%u,%u,[", i ? "," : "", r->purpose, r->type);

        for (j = 0, first = 1; j < r->nranges; j++) {
            for (id = r->ranges[j].start; id <= r->ranges[j].end; id++) {
                printf("%s%u", first ? "" : ",", id);
                first = 0;
            }
        }

        printf("]]");
    }

    printf("]");

    if (ca->has_disclosed) {
        print_vendors("DisclosedVendors", &ca->vendors_disclosed);
    } else {
        printf(",\"DisclosedVendors\":[]");
    }

    print_mask("PubPurposesExpressConsent", ca->pub_express, 24);
    print_mask("PubPurposesImpliedConsent", ca->pub_implied, 24);
    printf(",\"NumCustomPurposes\":%u", ca->num_custom);
    print_mask("CustomPurposesExpressConsent", ca->custom_express,
               ca->num_custom);
    print_mask("CustomPurposesImpliedConsent", ca->custom_implied,
               ca->num_custom);
}


static void
print_tcfeu(const consent_tcf_t *t)
{
    printf("\"Version\":%u,\"CmpId\":%u,\"CmpVersion\":%u", t->version,
           t->cmp_id, t->cmp_version);
    printf(",\"ConsentLanguage\":\"%s\",\"PublisherCountryCode\":\"%s\"",
           t->language, t->publisher_cc);
    printf(",\"PolicyVersion\":%u", t->policy_version);
    print_mask("PurposeConsents", t->purposes_consent, 24);
    print_vendors("VendorConsents", &t->vendors_consent);
    print_vendors("VendorLegitimateInterests", &t->vendors_li);
    print_vendors("VendorsDisclosed", &t->vendors_disclosed);
}


static void
print_gpp(const unsigned char *p, size_t len, const consent_gpp_t *gpp)
{
    unsigned                      i;
    const char                   *name;
    const consent_gpp_section_t  *s;

    printf("{\"gpp\":\"%.*s\",\"sections\":[", (int) len, p);

    for (i = 0; i < gpp->nsections; i++) {
        s = &gpp->sections[i];
        name = consent_gpp_section_name(s->id);

        printf("%s{\"id\":%u,\"name\":\"%s\",\"fields\":{", i ? "," : "",
               s->id, name ? name : "");

        if (s->skipped) {
            printf("\"skipped\":1");

        } else if (s->id == CONSENT_GPP_TCFEUV2) {
            print_tcfeu(s->u.tcfeu);

        } else if (s->id == CONSENT_GPP_TCFCAV1) {
            print_tcfca(s->u.tcfca);

        } else if (s->id == CONSENT_GPP_USPV1) {
            printf("\"Version\":%u,\"Notice\":\"%c\",\"OptOutSale\":\"%c\","
                   "\"LspaCovered\":\"%c\"", s->u.usp.version,
                   s->u.usp.notice, s->u.usp.opt_out_sale, s->u.usp.lspa);

        } else {
            print_us(s);
        }

        printf("}}");
    }

    printf("]}\n");
}


int
main(void)
{
    char             *line;
    size_t            len;
    consent_err_t     err;
    consent_gpp_t     gpp;
    consent_alloc_t   a;

    line = malloc(LINE_MAX_LEN + 1);
    if (line == NULL) {
        return 1;
    }

    a.alloc = tool_alloc;
    a.data = NULL;

    while (fgets(line, LINE_MAX_LEN + 1, stdin)) {
        len = strcspn(line, "\r\n");

        if (consent_gpp_decode((unsigned char *) line, len, &a, &gpp, &err)
            != 0)
        {
            printf("error: %s (code %d) at \"%.*s\"\n", err.msg, err.code,
                   (int) err.at.len, (const char *) err.at.data);

        } else {
            print_gpp((unsigned char *) line, len, &gpp);
        }

        tool_free();
    }

    free(line);

    return 0;
}
