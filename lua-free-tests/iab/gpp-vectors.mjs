// GPP test vectors from the IAB reference library, @iabgpp/cmpapi: N
// strings with random sections and random field values, made by the
// library's encoder (GppModel), each printed as one JSON line with the
// fields the library itself decodes back from the string.
// tools/gpp_decode.c prints the same shape; check-gpp.sh compares them.
//
//   node gpp-vectors.mjs SEED N
//
// No network: the GVL is never loaded.

import * as lib from "@iabgpp/cmpapi";
import { seeded } from "./prng.mjs";

const { GppModel } = lib;

const seed = Number(process.argv[2] ?? 1) >>> 0;
const count = Number(process.argv[3] ?? 1000);

const { rand, int } = seeded(seed);
const bool = () => rand() < 0.5;
const bools = (n) => Array.from({ length: n }, bool);
const idsOf = (flags) => flags.flatMap((f, i) => (f ? [i + 1] : []));

// a random set of ids: sparse, dense runs, or empty
function vendorIds(max) {
  const ids = new Set();
  const shape = int(0, 3);
  if (shape === 0) return [];
  const n = int(1, shape === 1 ? 5 : 60);
  let id = int(1, 40);
  for (let i = 0; i < n && id <= max; i++) {
    ids.add(id);
    id += shape === 2 ? 1 : int(1, shape === 3 ? 400 : 3);
  }
  return [...ids].sort((a, b) => a - b);
}

// the US sections: their field lists, from the library's own constants
const US = {};
for (const [key, value] of Object.entries(lib)) {
  const m = /^(Us[A-Za-z]{2}|US[A-Z]{2,3})_(CORE|GPC|SENSITIVE_DATA_CONSENT)_SEGMENT_FIELD_NAMES$/.exec(key);
  if (!m) continue;
  const name = m[1].toLowerCase();
  US[name] = US[name] || {};
  US[name][m[2]] = value;
}

const CLASSES = {};
for (const c of Object.values(lib)) {
  if (typeof c === "function" && typeof c.NAME === "string") CLASSES[c.NAME] = c;
}

const NAMES = new Map(lib.Sections.SECTION_ID_NAME_MAP);
const ALL = [...NAMES.keys()].sort((a, b) => a - b);

function setUs(model, name) {
  const probe = new CLASSES[name]();
  for (const field of US[name].CORE) {
    if (field === "Version" || field === "MspaVersion") continue;
    const def = probe.getFieldValue(field);
    const value = Array.isArray(def) ? def.map(() => int(0, 2)) : field === "MspaCoveredTransaction" ? int(1, 2) : int(0, 2);
    model.setFieldValue(name, field, value);
  }
  if (name === "usnat") model.setFieldValue(name, "Version", int(1, 2));
  if (US[name].GPC) {
    const inc = bool();
    model.setFieldValue(name, "GpcSegmentIncluded", inc);
    if (inc) model.setFieldValue(name, "Gpc", bool());
  }
  if (US[name].SENSITIVE_DATA_CONSENT) {
    const inc = bool();
    model.setFieldValue(name, "SensitiveDataConsentSegmentIncluded", inc);
    if (inc) model.setFieldValue(name, "SensitiveDataProcessing", Array.from({ length: 8 }, () => int(0, 2)));
  }
}

function getUs(model, name) {
  const out = {};
  for (const field of US[name].CORE) {
    let v = model.getFieldValue(name, field);
    if (field === "MspaVersion") out.Version = v;
    else if (field === "KnownChildSensitiveDataConsents" && !Array.isArray(v)) out[field] = [v];
    else out[field] = v;
  }
  if (US[name].GPC && model.getFieldValue(name, "GpcSegmentIncluded")) out.Gpc = model.getFieldValue(name, "Gpc") ? 1 : 0;
  if (US[name].SENSITIVE_DATA_CONSENT) {
    out.SensitiveDataProcessing = model.getFieldValue(name, "SensitiveDataConsentSegmentIncluded")
      ? model.getFieldValue(name, "SensitiveDataProcessing") : [];
  }
  return out;
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const lang = () => LETTERS[int(0, 25)] + LETTERS[int(0, 25)];

function setTcfCa(model) {
  const s = "tcfcav1";
  model.setFieldValue(s, "CmpId", int(0, 4095));
  model.setFieldValue(s, "CmpVersion", int(0, 4095));
  model.setFieldValue(s, "ConsentScreen", int(0, 63));
  model.setFieldValue(s, "ConsentLanguage", lang());
  model.setFieldValue(s, "VendorListVersion", int(0, 4095));
  model.setFieldValue(s, "TcfPolicyVersion", int(0, 63));
  model.setFieldValue(s, "UseNonStandardStacks", bool());
  model.setFieldValue(s, "SpecialFeatureExpressConsent", bools(12));
  model.setFieldValue(s, "PurposesExpressConsent", bools(24));
  model.setFieldValue(s, "PurposesImpliedConsent", bools(24));
  model.setFieldValue(s, "VendorExpressConsent", vendorIds(3000));
  model.setFieldValue(s, "VendorImpliedConsent", vendorIds(3000));
  const restrictions = [];
  for (let i = int(0, 3); i > 0; i--) {
    restrictions.push(new lib.RangeEntry(int(1, 24), int(0, 2), vendorIds(2000)));
  }
  model.setFieldValue(s, "PubRestrictions", restrictions);
  model.setFieldValue(s, "DisclosedVendors", vendorIds(3000));
  model.setFieldValue(s, "PubPurposesExpressConsent", bools(24));
  model.setFieldValue(s, "PubPurposesImpliedConsent", bools(24));
  const n = int(0, 10);
  model.setFieldValue(s, "NumCustomPurposes", n);
  model.setFieldValue(s, "CustomPurposesExpressConsent", bools(n));
  model.setFieldValue(s, "CustomPurposesImpliedConsent", bools(n));
  // last: every other setFieldValue stamps both dates with now
  const day = int(15000, 20000) * 864000;
  model.setFieldValue(s, "Created", new Date(day * 100));
  model.setFieldValue(s, "LastUpdated", new Date((day + int(0, 864000)) * 100));
}

function getTcfCa(model) {
  const g = (f) => model.getFieldValue("tcfcav1", f);
  const ds = (d) => Math.round(d.getTime() / 100);
  return {
    Version: g("Version"),
    Created: ds(g("Created")),
    LastUpdated: ds(g("LastUpdated")),
    CmpId: g("CmpId"),
    CmpVersion: g("CmpVersion"),
    ConsentScreen: g("ConsentScreen"),
    ConsentLanguage: g("ConsentLanguage"),
    VendorListVersion: g("VendorListVersion"),
    TcfPolicyVersion: g("TcfPolicyVersion"),
    UseNonStandardStacks: g("UseNonStandardStacks") ? 1 : 0,
    SpecialFeatureExpressConsent: idsOf(g("SpecialFeatureExpressConsent")),
    PurposesExpressConsent: idsOf(g("PurposesExpressConsent")),
    PurposesImpliedConsent: idsOf(g("PurposesImpliedConsent")),
    VendorExpressConsent: g("VendorExpressConsent"),
    VendorImpliedConsent: g("VendorImpliedConsent"),
    PubRestrictions: g("PubRestrictions").map((e) => [e.getKey(), e.getType(), e.getIds()]),
    DisclosedVendors: g("DisclosedVendors"),
    PubPurposesExpressConsent: idsOf(g("PubPurposesExpressConsent")),
    PubPurposesImpliedConsent: idsOf(g("PubPurposesImpliedConsent")),
    NumCustomPurposes: g("NumCustomPurposes"),
    CustomPurposesExpressConsent: idsOf(g("CustomPurposesExpressConsent")),
    CustomPurposesImpliedConsent: idsOf(g("CustomPurposesImpliedConsent")),
  };
}

// tcfeuv2 is tcf.c's to check field by field: here only what says the
// section went through the delegate whole
function setTcfEu(model) {
  const s = "tcfeuv2";
  model.setFieldValue(s, "CmpId", int(2, 4095));
  model.setFieldValue(s, "CmpVersion", int(0, 4095));
  model.setFieldValue(s, "ConsentLanguage", lang());
  model.setFieldValue(s, "PublisherCountryCode", lang());
  model.setFieldValue(s, "PolicyVersion", int(4, 5));
  model.setFieldValue(s, "PurposeConsents", bools(24));
  model.setFieldValue(s, "VendorConsents", vendorIds(3000));
  model.setFieldValue(s, "VendorLegitimateInterests", vendorIds(3000));
  model.setFieldValue(s, "VendorsDisclosed", [...new Set([1, ...vendorIds(3000)])].sort((a, b) => a - b));
}

function getTcfEu(model) {
  const g = (f) => model.getFieldValue("tcfeuv2", f);
  return {
    Version: g("Version"),
    CmpId: g("CmpId"),
    CmpVersion: g("CmpVersion"),
    ConsentLanguage: g("ConsentLanguage"),
    PublisherCountryCode: g("PublisherCountryCode"),
    PolicyVersion: g("PolicyVersion"),
    PurposeConsents: idsOf(g("PurposeConsents")),
    VendorConsents: g("VendorConsents"),
    VendorLegitimateInterests: g("VendorLegitimateInterests"),
    VendorsDisclosed: g("VendorsDisclosed"),
  };
}

const YN = ["Y", "N", "-"];
function setUsp(model) {
  model.setFieldValue("uspv1", "Notice", YN[int(0, 2)]);
  model.setFieldValue("uspv1", "OptOutSale", YN[int(0, 2)]);
  model.setFieldValue("uspv1", "LspaCovered", YN[int(0, 2)]);
}

function getUsp(model) {
  const g = (f) => model.getFieldValue("uspv1", f);
  return { Version: g("Version"), Notice: g("Notice"), OptOutSale: g("OptOutSale"), LspaCovered: g("LspaCovered") };
}

for (let i = 0; i < count; i++) {
  const model = new GppModel();
  const ids = new Set();
  const want = int(1, 4);
  while (ids.size < want) ids.add(rand() < 0.25 ? [2, 5, 6, 7][int(0, 3)] : ALL[int(0, ALL.length - 1)]);
  for (const id of ids) {
    const name = NAMES.get(id);
    if (id === 2) setTcfEu(model);
    else if (id === 5) setTcfCa(model);
    else if (id === 6) setUsp(model);
    else setUs(model, name);
  }
  const gpp = model.encode();
  // what the library reads back from the string, not what was set
  const back = new GppModel(gpp);
  const sections = back.getSectionIds().map((id) => {
    const name = NAMES.get(id);
    let fields;
    if (id === 2) fields = getTcfEu(back);
    else if (id === 5) fields = getTcfCa(back);
    else if (id === 6) fields = getUsp(back);
    else fields = getUs(back, name);
    return { id, name, fields };
  });
  process.stdout.write(JSON.stringify({ gpp, sections }) + "\n");
}
