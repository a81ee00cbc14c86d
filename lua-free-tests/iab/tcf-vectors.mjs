// TC strings with random fields, made by the IAB reference library
// (@iabtechlabtcf/core), one JSON line each: {"s": string, fields...}.
// check-tcf.sh feeds the strings to build/tcf_decode and compares.
//
//   node tcf-vectors.mjs SEED [COUNT]
//
// The encoder wants a Global Vendor List: each string gets a small one
// built here, never fetched, listing exactly the vendor ids the string
// uses, with declarations such that the encoder's policy clean-up
// (SemanticPreEncoder) drops no vendor bit and accepts every publisher
// restriction (see gvlFor).  It still clears legitimate interest for
// purposes 1 and 3-6, as TCF v2.2 says.
//
// The expected fields are the library's own decoding of the string it
// made (TCString.decode), so the C decoder is compared with the
// reference decoder, on strings the reference encoder wrote.

import {
    GVL, TCModel, TCString, PurposeRestriction,
} from '@iabtechlabtcf/core';
import { seeded } from './prng.mjs';

const seed = Number(process.argv[2] ?? 1) >>> 0;
const count = Number(process.argv[3] ?? 1000);

const { rand, int } = seeded(seed);
const chance = (p) => rand() < p;
const pick = (a) => a[int(0, a.length - 1)];

function ids(max, p) {
    const out = [];
    for (let i = 1; i <= max; i++) {
        if (chance(p)) {
            out.push(i);
        }
    }
    return out;
}

// A vendor set whose size and shape make the encoder choose a bit field
// (dense) or ranges (sparse, or long runs), up to MaxVendorId 65535.
function vendorSet() {
    const kind = int(0, 9);
    if (kind === 0) {
        return [];
    }
    if (kind <= 3) {                                  // small, bit field
        return ids(int(1, 60), rand());
    }
    if (kind <= 5) {                                  // medium, dense
        return ids(int(60, 2000), 0.2 + rand() * 0.6);
    }
    if (kind <= 7) {                                  // medium, sparse
        return ids(int(200, 3000), rand() * 0.04);
    }
    // runs up to a large id, 65535 itself now and then
    const top = chance(0.3) ? 65535 : int(3000, 65535);
    const out = new Set();
    const runs = int(1, 12);
    for (let r = 0; r < runs; r++) {
        const start = int(1, top);
        const len = chance(0.5) ? 1 : int(2, 300);
        for (let i = start; i <= Math.min(top, start + len - 1); i++) {
            out.add(i);
        }
    }
    out.add(top);
    return [...out].sort((a, b) => a - b);
}

function bits(n, p) {
    return ids(n, p);
}

const all24 = Array.from({ length: 24 }, (_, i) => i + 1);
const named = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) =>
    [i + 1, { id: i + 1, name: `x${i + 1}`, description: '',
        illustrations: [] }]));

// Vendors under a publisher restriction declare every purpose every way;
// the others one purpose for consent and one for legitimate interest,
// which is all the encoder looks at for them and keeps the GVL small.
function gvlFor(vendorIds, restricted) {
    const vendors = {};
    for (const id of vendorIds) {
        const all = restricted.has(id);
        vendors[id] = {
            id, name: `v${id}`, purposes: all ? all24 : [1],
            legIntPurposes: all ? all24 : [2],
            flexiblePurposes: all ? all24 : [], specialPurposes: [],
            features: [], specialFeatures: [], policyUrl: '',
            cookieMaxAgeSeconds: null, usesCookies: false,
            usesNonCookieAccess: false,
        };
    }
    const langs = [...GVL.consentLanguages.constructor.langSet]
        .filter((l) => /^[A-Z]{2}$/.test(l));
    return new GVL({
        gvlSpecificationVersion: 3,
        vendorListVersion: int(1, 4095),
        tcfPolicyVersion: int(0, 63),
        lastUpdated: '2026-01-01T00:00:00Z',
        purposes: named(24), specialPurposes: named(2), features: named(3),
        specialFeatures: named(12), stacks: {}, dataCategories: {},
        vendors,
    }, { language: pick(langs) });
}

function restrictions() {
    const out = [];
    const n = chance(0.5) ? 0 : int(1, 6);
    for (let i = 0; i < n; i++) {
        out.push({ purpose: int(1, 24), type: int(0, 2), vendors: vendorSet()
            .filter((id) => id <= 5000).slice(0, 400) });
    }
    return out;
}

// "1-3,7": ranges of a sorted id list, the same shape tcf_decode prints
function ranges(list) {
    const out = [];
    for (let i = 0; i < list.length; i++) {
        let j = i;
        while (j + 1 < list.length && list[j + 1] === list[j] + 1) {
            j++;
        }
        out.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
        i = j;
    }
    return out.join(',');
}

const sorted = (v) => [...v.values()].sort((a, b) => a - b);
const set = (v) => ({ max: v.maxId, ids: ranges(sorted(v)) });

function expected(s, m) {
    const pr = [];
    for (const r of m.publisherRestrictions.getRestrictions()) {
        const v = m.publisherRestrictions.getVendors(r);
        pr.push([r.purposeId, r.restrictionType,
            ranges(v.sort((a, b) => a - b))]);
    }
    pr.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const e = {
        s,
        version: m.version,
        created: Math.round(m.created.getTime() / 100),
        lastUpdated: Math.round(m.lastUpdated.getTime() / 100),
        cmpId: m.cmpId,
        cmpVersion: m.cmpVersion,
        consentScreen: m.consentScreen,
        consentLanguage: m.consentLanguage,
        vendorListVersion: m.vendorListVersion,
        policyVersion: m.policyVersion,
        isServiceSpecific: m.isServiceSpecific ? 1 : 0,
        useNonStandardTexts: m.useNonStandardTexts ? 1 : 0,
        specialFeatureOptins: ranges(sorted(m.specialFeatureOptins)),
        purposeConsents: ranges(sorted(m.purposeConsents)),
        purposeLegitimateInterests: ranges(
            sorted(m.purposeLegitimateInterests)),
        purposeOneTreatment: m.purposeOneTreatment ? 1 : 0,
        publisherCountryCode: m.publisherCountryCode,
        vendorConsents: set(m.vendorConsents),
        vendorLegitimateInterests: set(m.vendorLegitimateInterests),
        publisherRestrictions: pr,
        vendorsDisclosed: set(m.vendorsDisclosed),
        publisherTC: null,
    };
    if (s.split('.').some((seg) => seg[0] >= 'Y' && seg[0] <= 'f')) {
        // SegmentType 3 (011) puts the first character in Y..f
        e.publisherTC = {
            consents: ranges(sorted(m.publisherConsents)),
            li: ranges(sorted(m.publisherLegitimateInterests)),
            numCustom: m.numCustomPurposes,
            customConsents: ranges(sorted(m.publisherCustomConsents)),
            customLi: ranges(sorted(m.publisherCustomLegitimateInterests)),
        };
    }
    return e;
}

function one() {
    const vc = vendorSet();
    const vli = vendorSet();
    const vd = vendorSet();
    const va = chance(0.1) ? vendorSet() : null;
    const rs = restrictions();
    const used = new Set([...vc, ...vli, ...vd, ...(va ?? [])]);
    const restricted = new Set();
    rs.forEach((r) => r.vendors.forEach((id) => {
        used.add(id);
        restricted.add(id);
    }));

    const m = new TCModel(gvlFor(used, restricted));
    m.cmpId = int(2, 4095);
    m.cmpVersion = int(0, 4095);
    m.consentScreen = int(0, 63);
    m.isServiceSpecific = chance(0.8);
    m.useNonStandardTexts = chance(0.5);
    m.purposeOneTreatment = chance(0.5);
    m.publisherCountryCode = String.fromCharCode(65 + int(0, 25),
        65 + int(0, 25));
    // deciseconds of 36 bits: up to the year 2187
    m.created = new Date(int(0, 2 ** 36 - 1) * 100);
    m.lastUpdated = chance(0.5) ? new Date(m.created.getTime())
        : new Date(int(0, 2 ** 36 - 1) * 100);
    m.specialFeatureOptins.set(bits(12, rand()));
    m.purposeConsents.set(bits(24, rand()));
    m.purposeLegitimateInterests.set(bits(24, rand()));
    m.vendorConsents.set(vc);
    m.vendorLegitimateInterests.set(vli);
    m.vendorsDisclosed.set(vd);
    if (va) {
        m.vendorsAllowed.set(va);
    }
    for (const r of rs) {
        const pr = new PurposeRestriction(r.purpose, r.type);
        r.vendors.forEach((id) => m.publisherRestrictions.add(id, pr));
    }
    const pub = chance(0.6);
    if (pub) {
        const n = chance(0.2) ? 0 : int(1, 63);
        m.publisherConsents.set(bits(24, rand()));
        m.publisherLegitimateInterests.set(bits(24, rand()));
        m.numCustomPurposes = n;
        m.publisherCustomConsents.set(bits(n, rand()));
        m.publisherCustomLegitimateInterests.set(bits(n, rand()));
    }

    // the core first, then the others in any order, as the spec allows
    const rest = ['vendorsDisclosed'];
    if (pub) {
        rest.push('publisherTC');
    }
    if (va) {
        rest.push('vendorsAllowed');
    }
    for (let i = rest.length - 1; i > 0; i--) {
        const j = int(0, i);
        [rest[i], rest[j]] = [rest[j], rest[i]];
    }

    const s = TCString.encode(m, { segments: ['core', ...rest] });
    GVL.emptyCache();
    return expected(s, TCString.decode(s));
}

for (let i = 0; i < count; i++) {
    process.stdout.write(JSON.stringify(one()) + '\n');
}
