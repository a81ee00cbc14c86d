/*
 * An example consent banner for ngx_consent_module: plain ES2017, no
 * framework, no build step, no external resources.
 *
 * It only talks to the module: GET /consent for the visitor's state,
 * POST a choice, DELETE to withdraw, and GET /consent/vendors (a location
 * with consent_vendors) for the companies behind each purpose.  The
 * server records the decision in Redis and sets the signed, HttpOnly
 * consent cookie itself; this script sets no cookie.  The one thing it
 * keeps is the language the visitor picked with the switch (localStorage,
 * a first-party preference, nothing about consent).
 *
 * Under each purpose the banner lists the companies that receive data for
 * it ("N companies", collapsed, rendered when first opened), each with a
 * switch, on unless GET /consent's vendors_refused names it.  A company
 * switched off goes into the POST's vendors_refused; a company's switch
 * is disabled, and shown off, while its purpose is off.  A company is
 * refused as a whole (the API keeps one list, not one per purpose), so a
 * company listed under two purposes has one state in both lists.
 *
 * Texts are in English and Japanese (TEXTS below): the language is the
 * one the visitor picked, else the first of navigator.languages (the
 * browser's Accept-Language) that is Japanese or English, else English.
 * <html lang> follows it, and a "consentlanguage" event (detail: {lang})
 * tells the rest of the page.
 *
 * Markup it expects (see index.html): #consent-banner (role="dialog")
 * holding #consent-title, #consent-intro, #consent-gpc, #consent-form
 * with #consent-purposes and #consent-vendors-status, buttons with
 * data-consent="accept", "reject", "choose", "save", "withdraw", "close",
 * and the live region #consent-message; outside it the #consent-open
 * button, the live region #consent-status and the language switch
 * #consent-lang (buttons with data-lang).  Elements with
 * data-consent-text="key" get TEXTS[lang][key].  Every new state is also
 * dispatched on document as a "consentchange" event (detail: the API's
 * JSON) for the rest of the page.
 */
(function () {
  'use strict';

  const API = '/consent';
  const VENDORS_API = '/consent/vendors';
  const LANG_KEY = 'consent-banner-lang';

  // what a Global Privacy Control signal keeps off, whatever is chosen
  const GPC_OFF = ['advertising', 'sharing'];

  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

  /* ---- texts ---- */

  // the labels of the standard purposes; purposes the operator added with
  // consent_purpose are shown by name
  const TEXTS = {
    en: {
      title: 'Your privacy choices',
      intro: 'We use necessary cookies to run this site. With your consent'
        + ' we would also use cookies for the purposes below, some of them'
        + ' set by other companies: "Choose" lists them for each purpose.'
        + ' You can change or withdraw your choice at any time with the'
        + ' "Privacy choices" button at the bottom of the page.',
      reconsent: (was, now) => 'Our privacy policy has changed since you'
        + ' chose (version ' + was + ', now ' + now + '). Please choose'
        + ' again. ',
      policyNext: (v, date) => 'Our privacy policy changes on ' + date
        + ' (version ' + v + '). Your choices stay as they are until then;'
        + ' you can review them at any time with "Privacy choices".',
      gpc: 'Your browser sends a Global Privacy Control signal. We honour'
        + ' it: advertising and the sale or sharing of your data stay off.',
      legend: 'Purposes',
      accept: 'Accept all',
      reject: 'Reject all',
      choose: 'Choose',
      save: 'Save choices',
      withdraw: 'Withdraw consent',
      close: 'Close',
      open: 'Privacy choices',
      gpcOff: ' (off: Global Privacy Control)',
      saving: 'Saving\u2026',
      savedAll: 'Saved: all purposes accepted.',
      savedNone: 'Saved: only necessary cookies.',
      savedChoice: 'Saved: your choices.',
      withdrawn: 'Consent withdrawn: only necessary cookies from now on.',
      loadFailed: (why) => 'Could not load your privacy choices: ' + why,
      unreachable: 'Could not reach the server. Nothing was recorded.',
      unavailable: 'The consent store is unavailable, so nothing was'
        + ' recorded. Please try again in a moment.',
      crossSite: (err) => 'The server refused this as a cross-site request'
        + (err ? ' (' + err + ')' : '') + '. Nothing was recorded.',
      rejected: (field, err) => 'The server rejected the request'
        + (field ? ' (' + field + ')' : '') + (err ? ': ' + err : '')
        + '. Nothing was recorded.',
      unexpected: (code, err) => 'Unexpected answer from the server (HTTP '
        + code + ')' + (err ? ': ' + err : '') + '.',
      companies: (n, off) => (n === 1 ? '1 company' : n + ' companies')
        + (off ? ', ' + off + ' off' : ''),
      companiesOf: (p) => 'Companies that receive data for ' + p,
      about: (p) => p + ': ',
      needPurpose: (p) => 'Turn on \u201c' + p + '\u201d to choose among'
        + ' these companies.',
      gpcVendors: 'These companies stay off: Global Privacy Control.',
      policy: 'Privacy policy',
      optout: 'Opt out',
      newTab: (name) => ' (' + name + ', opens in a new tab)',
      vendorsLoading: 'Loading the list of companies\u2026',
      vendorsFailed: 'The list of companies could not be loaded; your'
        + ' choices per purpose still apply.',
      purposes: {
        necessary: ['Necessary',
          'Sessions, security and remembering this choice. Always on.'],
        functional: ['Functional',
          'Remembers settings such as your language.'],
        analytics: ['Analytics',
          'Counts visits and measures how the site is used.'],
        advertising: ['Advertising',
          'Ads and ad measurement, including by advertising networks.'],
        personalization: ['Personalisation',
          'Content and recommendations based on what you do here.'],
        sharing: ['Sale or sharing of your data',
          'Providing your personal data to third parties.']
      }
    },
    ja: {
      title: 'プライバシーの選択',
      intro: 'このサイトの運営には必須のCookieを使用しています。'
        + '同意いただける場合は、以下の目的のためのCookieも使用します。'
        + 'その一部は他の事業者が設定するもので、「選択する」から目的ごとに'
        + '確認できます。選択はページ下部の「プライバシーの選択」ボタンから'
        + 'いつでも変更・撤回できます。',
      reconsent: (was, now) => '前回の選択（バージョン' + was + '）の後に'
        + 'プライバシーポリシーが変更されました（現在はバージョン' + now
        + '）。もう一度お選びください。',
      policyNext: (v, date) => date + 'にプライバシーポリシーを改定します'
        + '（バージョン' + v + '）。それまでは現在の選択のままです。'
        + '「プライバシーの選択」からいつでも確認できます。',
      gpc: 'お使いのブラウザはグローバル・プライバシー・コントロール（GPC）の'
        + 'シグナルを送信しています。これに従い、広告と個人データの販売・'
        + '第三者提供はオフのままにします。',
      legend: '利用目的',
      accept: 'すべて同意する',
      reject: 'すべて拒否する',
      choose: '選択する',
      save: '選択を保存',
      withdraw: '同意を撤回する',
      close: '閉じる',
      open: 'プライバシーの選択',
      gpcOff: '（GPCによりオフ）',
      saving: '保存しています\u2026',
      savedAll: '保存しました：すべての目的に同意しました。',
      savedNone: '保存しました：必須のCookieのみ使用します。',
      savedChoice: '保存しました：選択内容を記録しました。',
      withdrawn: '同意を撤回しました：今後は必須のCookieのみ使用します。',
      loadFailed: (why) => 'プライバシーの選択を読み込めませんでした：' + why,
      unreachable: 'サーバーに接続できませんでした。何も記録されていません。',
      unavailable: '同意の記録先が利用できないため、何も記録されていません。'
        + 'しばらくしてからもう一度お試しください。',
      crossSite: (err) => 'サーバーが他のサイトからのリクエストとして拒否しました'
        + (err ? '（' + err + '）' : '') + '。何も記録されていません。',
      rejected: (field, err) => 'サーバーがリクエストを受け付けませんでした'
        + (field ? '（' + field + '）' : '') + (err ? '：' + err : '')
        + '。何も記録されていません。',
      unexpected: (code, err) => 'サーバーから予期しない応答がありました（HTTP '
        + code + '）' + (err ? '：' + err : '') + '。',
      companies: (n, off) => n + '社' + (off ? '（' + off + '社オフ）' : ''),
      companiesOf: (p) => '「' + p + '」のためにデータを受け取る事業者',
      about: (p) => p + '：',
      needPurpose: (p) => '事業者を個別に選ぶには「' + p
        + '」をオンにしてください。',
      gpcVendors: 'GPCにより、これらの事業者はオフのままです。',
      policy: 'プライバシーポリシー',
      optout: 'オプトアウト',
      newTab: (name) => '（' + name + '、新しいタブで開きます）',
      vendorsLoading: '事業者の一覧を読み込んでいます\u2026',
      vendorsFailed: '事業者の一覧を読み込めませんでした。'
        + '目的ごとの選択はそのまま有効です。',
      purposes: {
        necessary: ['必須',
          'セッション、セキュリティ、この選択の記憶に使います。常にオンです。'],
        functional: ['機能',
          '言語などの設定を記憶します。'],
        analytics: ['アクセス解析',
          '訪問数を数え、サイトの利用状況を測定します。'],
        advertising: ['広告',
          '広告の配信と効果測定（広告ネットワークによるものを含む）。'],
        personalization: ['パーソナライズ',
          'このサイトでの行動に基づくコンテンツやおすすめの表示。'],
        sharing: ['個人データの販売・第三者提供',
          'あなたの個人データを第三者に提供します。']
      }
    }
  };

  let lang = 'en';
  const T = () => TEXTS[lang];

  // [label, description]: an operator's purpose is shown by its name
  const purposeText = (name) => own(T().purposes, name)
    ? T().purposes[name] : [name, ''];

  // a country code as the visitor's language names it ("FR": "France",
  // "フランス"), else the code itself
  const regionNames = {};
  function countryName(code) {
    try {
      if (!own(regionNames, lang)) {
        regionNames[lang] = new Intl.DisplayNames([lang], { type: 'region' });
      }
      return regionNames[lang].of(code) || code;
    } catch (e) {
      return code;
    }
  }

  /* ---- elements ---- */

  const $ = (id) => document.getElementById(id);
  const banner = $('consent-banner');
  const title = $('consent-title');
  const intro = $('consent-intro');
  const gpcNote = $('consent-gpc');
  const policyNote = $('consent-policy-next');
  const form = $('consent-form');
  const list = $('consent-purposes');
  const vendorsStatus = $('consent-vendors-status');
  const message = $('consent-message');
  const status = $('consent-status');
  const opener = $('consent-open');
  const langSwitch = $('consent-lang');

  const buttons = {};
  banner.querySelectorAll('button[data-consent]').forEach((b) => {
    buttons[b.dataset.consent] = b;
  });

  let state = null;   // the API's last answer
  let busy = false;

  // the choice being made, from the state when the banner opens: survives
  // a change of language, not a close
  let draft = null;   // { purposes: Set, refused: Set, open: Set }

  // GET /consent/vendors: purpose -> [vendor], once
  let vendors = null;
  let vendorsLoad = 'idle';   // 'loading', 'ready', 'failed'
  let vendorsPromise = null;

  /* ---- the API ---- */

  // an error whose text is rendered in the language of the moment
  function failure(text) {
    const e = new Error(text());
    e.text = text;
    return e;
  }

  async function call(method, body) {
    const init = {
      method: method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' }
    };

    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }

    let res;
    try {
      res = await fetch(API, init);
    } catch (e) {
      throw failure(() => T().unreachable);
    }

    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      // not JSON: explain() goes by the status alone
    }

    if (res.ok && data && Array.isArray(data.purposes)
        && Array.isArray(data.available)) {
      return data;
    }

    throw failure(() => explain(res.status, data));
  }

  function explain(code, data) {
    const error = data && typeof data.error === 'string' ? data.error : '';
    const field = data && typeof data.field === 'string' ? data.field : '';

    switch (code) {
    case 503:
      return T().unavailable;
    case 403:
      return T().crossSite(error);
    case 400:
      return T().rejected(field, error);
    default:
      return T().unexpected(code, error);
    }
  }

  // one fetch at a time: whoever asks meanwhile waits for the same one
  function loadVendors() {
    if (vendorsLoad !== 'loading' && vendorsLoad !== 'ready') {
      vendorsPromise = fetchVendors();
    }
    return vendorsPromise || Promise.resolve();
  }

  async function fetchVendors() {
    vendorsLoad = 'loading';
    paintVendorsStatus();

    try {
      const res = await fetch(VENDORS_API, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      });
      if (!res.ok) {
        throw new Error('HTTP ' + res.status);
      }
      const doc = await res.json();
      const map = new Map();

      for (const p of (doc && Array.isArray(doc.purposes) ? doc.purposes
        : [])) {
        if (p && typeof p.purpose === 'string' && Array.isArray(p.vendors)) {
          map.set(p.purpose, p.vendors.filter((v) => v
            && typeof v.id === 'string'));
        }
      }
      vendors = map;
      vendorsLoad = 'ready';
    } catch (e) {
      vendorsLoad = 'failed';   // the purposes alone still work
    }

    paintVendorsStatus();
    // into the rows already there: the focus stays where it is
    if (state && draft) {
      list.querySelectorAll('.consent-vendors').forEach((slot) => {
        fillVendors(slot, slot.dataset.purpose);
      });
    }
  }

  /* ---- the choice being made ---- */

  const decided = (s) => s.policy_version !== null
    && s.policy_version !== undefined;
  const gpcLocked = (s, name) => s.gpc && GPC_OFF.includes(name);

  function startDraft(s) {
    draft = {
      purposes: new Set(s.purposes),
      refused: new Set(Array.isArray(s.vendors_refused)
        ? s.vendors_refused.filter((id) => typeof id === 'string') : []),
      open: new Set()
    };
  }

  // a purpose the visitor has on and may have on
  const purposeOn = (name) => name !== 'necessary'
    && !gpcLocked(state, name) && draft.purposes.has(name);

  function optional(s) {
    return s.available.filter((n) => n !== 'necessary'
      && !gpcLocked(s, n));
  }

  function chosen() {
    return optional(state).filter((n) => draft.purposes.has(n));
  }

  // the refused companies that matter: those of a granted purpose (all of
  // them while the list is not known: sending others is harmless)
  function refusedFor(granted) {
    const ids = Array.from(draft.refused);

    if (!vendors) {
      return ids;
    }
    return ids.filter((id) => granted.some((p) => (vendors.get(p) || [])
      .some((v) => v.id === id)));
  }

  /* ---- rendering ---- */

  // the last thing said in each live region, as a function of the
  // language: a change of language says it again in the new one
  const said = { message: null, status: null };

  function say(text, where) {
    said.message = where === message ? text : null;
    said.status = where === status ? text : null;
    paintSaid();
  }

  function paintSaid() {
    message.textContent = said.message ? said.message() : '';
    status.textContent = said.status ? said.status() : '';
  }

  function paintVendorsStatus() {
    vendorsStatus.hidden = vendorsLoad !== 'loading'
      && vendorsLoad !== 'failed';
    vendorsStatus.textContent = vendorsLoad === 'loading'
      ? T().vendorsLoading : vendorsLoad === 'failed' ? T().vendorsFailed
        : '';
  }

  // only absolute http(s) links from the list, whatever it holds
  function safeUrl(u) {
    if (typeof u !== 'string' || u === '') {
      return null;
    }
    try {
      const url = new URL(u);
      return url.protocol === 'https:' || url.protocol === 'http:'
        ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    e.append(...children);
    return e;
  }

  function renderPurposes() {
    list.textContent = '';

    for (const name of state.available) {
      const id = 'consent-p-' + name;
      const [label, text] = purposeText(name);
      const row = el('div', { className: 'consent-purpose' });
      const box = el('input', { type: 'checkbox', id: id, value: name });
      const lab = el('label', { htmlFor: id, textContent: label });

      box.dataset.purpose = name;

      if (name === 'necessary') {
        box.checked = true;
        box.disabled = true;
      } else if (gpcLocked(state, name)) {
        box.checked = false;
        box.disabled = true;
        lab.textContent += T().gpcOff;
      } else {
        box.checked = draft.purposes.has(name);
      }

      row.append(box, lab);

      if (text) {
        const desc = el('span', { id: id + '-desc',
          className: 'consent-desc', textContent: text });
        box.setAttribute('aria-describedby', desc.id);
        row.append(desc);
      }

      const slot = el('div', { className: 'consent-vendors' });
      slot.dataset.purpose = name;
      row.append(slot);
      fillVendors(slot, name);

      list.append(row);
    }

    paintVendorsStatus();
  }

  // the "N companies" toggle of a purpose and its (lazily built) list
  function fillVendors(slot, name) {
    const vs = vendors && vendors.get(name);

    slot.textContent = '';
    if (!vs || vs.length === 0) {
      return;
    }

    const panelId = 'consent-vl-' + name;
    const toggle = el('button', { type: 'button',
      className: 'consent-vendors-toggle' });
    const panel = el('div', { id: panelId,
      className: 'consent-vendors-panel' });

    panel.setAttribute('role', 'group');

    toggle.dataset.toggle = name;
    toggle.setAttribute('aria-controls', panelId);
    slot.append(toggle, panel);

    showPanel(slot, draft.open.has(name));
  }

  function showPanel(slot, on) {
    const name = slot.dataset.purpose;
    const toggle = slot.querySelector('.consent-vendors-toggle');
    const panel = slot.querySelector('.consent-vendors-panel');

    if (on && !panel.firstChild) {
      buildPanel(panel, name);
    }
    panel.hidden = !on;
    toggle.setAttribute('aria-expanded', String(on));
    if (on) {
      draft.open.add(name);
    } else {
      draft.open.delete(name);
    }
    paintVendors(slot);
  }

  function buildPanel(panel, name) {
    const label = purposeText(name)[0];
    const note = el('p', { className: 'consent-vendors-note',
      id: panel.id + '-note' });
    const ul = el('ul', { className: 'consent-vendor-list' });

    panel.setAttribute('aria-label', T().companiesOf(label));

    vendors.get(name).forEach((v, i) => {
      const id = panel.id + '-' + i;
      const vname = typeof v.name === 'string' && v.name ? v.name : v.id;
      const li = el('li', { className: 'consent-vendor' });
      const lab = el('label', { htmlFor: id, className: 'consent-vendor-name',
        textContent: vname });
      const box = el('input', { type: 'checkbox', id: id,
        className: 'consent-switch' });
      const meta = [];

      box.setAttribute('role', 'switch');
      box.dataset.vendor = v.id;
      li.append(lab, box);

      if (typeof v.controller === 'string' && v.controller
          && v.controller !== vname) {
        meta.push(v.controller);
      }
      if (typeof v.country === 'string' && v.country) {
        meta.push(countryName(v.country));
      }
      if (meta.length) {
        const m = el('span', { className: 'consent-vendor-meta',
          id: id + '-meta', textContent: meta.join(' \u00b7 ') });
        li.append(m);
        box.dataset.meta = m.id;
      }

      const links = [];
      for (const [key, text] of [['policy', T().policy],
        ['optout', T().optout]]) {
        const href = safeUrl(v[key]);
        if (href) {
          links.push(el('a', { href: href, target: '_blank',
            rel: 'noopener noreferrer' }, text,
          el('span', { className: 'sr-only', textContent: T().newTab(vname) })));
        }
      }
      if (links.length) {
        li.append(el('span', { className: 'consent-vendor-links' },
          ...links));
      }

      ul.append(li);
    });

    panel.append(note, ul);
  }

  // switches, note and count of one purpose's list, from the draft
  function paintVendors(slot) {
    const name = slot.dataset.purpose;
    const toggle = slot.querySelector('.consent-vendors-toggle');
    const note = slot.querySelector('.consent-vendors-note');

    if (!toggle) {
      return;
    }

    const on = purposeOn(name);
    const vs = vendors.get(name);
    const off = on ? vs.filter((v) => draft.refused.has(v.id)).length : 0;

    // "Advertising: 203 companies" to a screen reader, out of its row
    toggle.textContent = '';
    toggle.append(el('span', { className: 'sr-only',
      textContent: T().about(purposeText(name)[0]) }),
    T().companies(vs.length, off));

    if (note) {
      const label = purposeText(name)[0];
      note.hidden = on || name === 'necessary';
      note.textContent = gpcLocked(state, name) ? T().gpcVendors
        : T().needPurpose(label);
    }

    slot.querySelectorAll('input[data-vendor]').forEach((box) => {
      // described by its controller and country, and while it cannot be
      // switched by why (a hidden note would still be read out)
      const by = [box.dataset.meta, on ? '' : note && note.id]
        .filter(Boolean).join(' ');

      box.disabled = !on;
      box.checked = on && !draft.refused.has(box.dataset.vendor);
      if (by) {
        box.setAttribute('aria-describedby', by);
      } else {
        box.removeAttribute('aria-describedby');
      }
    });
  }

  function paintAllVendors() {
    list.querySelectorAll('.consent-vendors').forEach(paintVendors);
  }

  // the texts that do not depend on the state
  function paintTexts() {
    document.querySelectorAll('[data-consent-text]').forEach((e) => {
      const text = T()[e.dataset.consentText];
      if (typeof text === 'string') {
        e.textContent = text;
      }
    });
  }

  function paintIntro() {
    intro.textContent = T().intro;
    if (state && state.reconsent && decided(state)) {
      intro.textContent = T().reconsent(state.policy_version,
        state.current_policy_version) + T().intro;
    }
  }

  // an announced policy version: told ahead, nothing asked again
  function paintPolicyNext() {
    const s = state;
    policyNote.hidden = !(s && s.next_policy_version);
    if (policyNote.hidden) {
      return;
    }
    const date = new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB',
      { dateStyle: 'long', timeZone: 'UTC' })
      .format(new Date(s.next_policy_effective * 1000));
    policyNote.textContent = T().policyNext(s.next_policy_version, date);
  }

  function render(s) {
    state = s;

    gpcNote.hidden = !s.gpc;
    paintIntro();
    paintPolicyNext();

    // a decision can always be withdrawn; one is needed before closing
    buttons.withdraw.hidden = !decided(s);
    buttons.close.hidden = s.reconsent;

    document.dispatchEvent(new CustomEvent('consentchange', { detail: s }));
  }

  function expand(on) {
    form.hidden = !on;
    buttons.save.hidden = !on;
    buttons.choose.setAttribute('aria-expanded', String(on));

    if (on) {
      loadVendors();
      const first = list.querySelector('input:not([disabled])');
      (first || buttons.save).focus();
    }
  }

  function open(moveFocus) {
    startDraft(state);       // the state's choices, not unsaved clicks
    renderPurposes();
    banner.hidden = false;
    opener.hidden = true;
    expand(false);
    if (moveFocus) {
      title.focus();
    }
  }

  function close() {
    const hadFocus = banner.contains(document.activeElement);

    expand(false);
    banner.hidden = true;
    opener.hidden = false;
    say(null, message);
    if (hadFocus) {
      opener.focus();
    }
  }

  function setBusy(on) {
    busy = on;
    banner.setAttribute('aria-busy', String(on));
    // aria-disabled, not disabled: the focused button keeps the focus
    for (const b of Object.values(buttons)) {
      b.setAttribute('aria-disabled', String(on));
    }
  }

  /* ---- language ---- */

  function storedLanguage() {
    try {
      const l = window.localStorage.getItem(LANG_KEY);
      return l && own(TEXTS, l) ? l : null;
    } catch (e) {
      return null;   // storage off: the browser's languages decide
    }
  }

  // the first of the browser's languages this banner speaks
  function browserLanguage() {
    const prefs = Array.isArray(navigator.languages)
      && navigator.languages.length ? navigator.languages
      : [navigator.language || ''];

    for (const tag of prefs) {
      const primary = String(tag).toLowerCase().split('-')[0];
      if (own(TEXTS, primary)) {
        return primary;
      }
    }
    return 'en';
  }

  function setLanguage(l, remember) {
    lang = l;
    document.documentElement.lang = l;

    if (remember) {
      try {
        window.localStorage.setItem(LANG_KEY, l);
      } catch (e) {
        // not remembered: the switch still applies to this page
      }
    }

    langSwitch && langSwitch.querySelectorAll('button[data-lang]')
      .forEach((b) => {
        b.setAttribute('aria-pressed', String(b.dataset.lang === l));
      });

    paintTexts();
    paintIntro();
    paintPolicyNext();
    paintSaid();
    if (state && draft) {
      renderPurposes();   // from the draft: unsaved choices stay
    }

    document.dispatchEvent(new CustomEvent('consentlanguage',
      { detail: { lang: l } }));
  }

  if (langSwitch) {
    langSwitch.hidden = false;
    langSwitch.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-lang]');
      if (b && own(TEXTS, b.dataset.lang)) {
        setLanguage(b.dataset.lang, true);
      }
    });
  }

  /*
   * What refused companies' scripts keep in localStorage (the "storage"
   * keys of their "@vendor" lines: a name, or a prefix ending in '*')
   * goes with their cookies: a company is refused when none of the
   * purposes it is listed under is granted, or it was switched off.
   */
  async function forgetRefusedStorage(s) {
    await loadVendors();
    if (vendorsLoad !== 'ready' || !s) {
      return;
    }

    const granted = new Set(s.purposes || []);
    const switchedOff = new Set(s.vendors_refused || []);
    const kept = new Set();
    const patterns = new Map();

    vendors.forEach((list, purpose) => {
      list.forEach((v) => {
        if (granted.has(purpose) && !switchedOff.has(v.id)) {
          kept.add(v.id);
        }
        if (Array.isArray(v.storage)) {
          patterns.set(v.id, v.storage.filter((k) => typeof k === 'string'));
        }
      });
    });

    let keys;
    try {
      keys = Object.keys(window.localStorage);
    } catch (e) {
      return;   // no storage to clear
    }

    patterns.forEach((list, id) => {
      if (kept.has(id)) {
        return;
      }
      list.forEach((p) => {
        const prefix = p.endsWith('*') ? p.slice(0, -1) : null;
        keys.filter((k) => (prefix !== null ? k.startsWith(prefix) : k === p))
          .forEach((k) => window.localStorage.removeItem(k));
      });
    });
  }

  /* ---- actions ---- */

  async function write(method, choice, done) {
    if (busy) {
      return;
    }

    setBusy(true);
    say(() => T().saving, message);

    try {
      const body = method === 'POST'
        ? { purposes: choice.purposes,
          policy_version: state.current_policy_version,
          vendors_refused: choice.vendors_refused }
        : undefined;
      render(await call(method, body));
      close();
      say(done, status);
      forgetRefusedStorage(state);
    } catch (e) {
      // nothing was recorded: the banner stays open with the reason
      say(e.text || (() => e.message), message);
    } finally {
      setBusy(false);
    }
  }

  function saveChoice() {
    const purposes = chosen();
    return { purposes: purposes, vendors_refused: refusedFor(purposes) };
  }

  // accepting all accepts every company too; rejecting all leaves none
  const actions = {
    accept: () => write('POST',
      { purposes: optional(state), vendors_refused: [] },
      () => T().savedAll),
    reject: () => write('POST', { purposes: [], vendors_refused: [] },
      () => T().savedNone),
    save: () => write('POST', saveChoice(), () => T().savedChoice),
    withdraw: () => write('DELETE', undefined, () => T().withdrawn),
    choose: () => expand(form.hidden),
    close: () => close()
  };

  banner.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-consent]');
    if (b && state && !busy) {
      actions[b.dataset.consent]();
    }
  });

  // a purpose's "N companies": open or close its list
  list.addEventListener('click', (ev) => {
    const t = ev.target.closest('button[data-toggle]');
    if (t && draft) {
      showPanel(t.closest('.consent-vendors'),
        t.getAttribute('aria-expanded') !== 'true');
    }
  });

  list.addEventListener('change', (ev) => {
    const box = ev.target;

    if (!draft || box.type !== 'checkbox') {
      return;
    }

    if (box.dataset.vendor !== undefined) {
      // one state per company, in every list that shows it
      if (box.checked) {
        draft.refused.delete(box.dataset.vendor);
      } else {
        draft.refused.add(box.dataset.vendor);
      }
      paintAllVendors();
    } else if (box.dataset.purpose !== undefined) {
      if (box.checked) {
        draft.purposes.add(box.dataset.purpose);
      } else {
        draft.purposes.delete(box.dataset.purpose);
      }
      const slot = box.parentNode.querySelector('.consent-vendors');
      slot && paintVendors(slot);
    }
  });

  // Enter in the form saves instead of reloading the page
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (state && !busy) {
      actions.save();
    }
  });

  banner.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && state && !state.reconsent && !busy) {
      close();
    }
  });

  opener.addEventListener('click', () => {
    if (state) {
      say(null, status);
      open(true);
    } else {
      load(true);
    }
  });

  async function load(moveFocus) {
    try {
      render(await call('GET'));
    } catch (e) {
      // without a state nothing can be offered; the opener retries
      opener.hidden = false;
      const why = e.text || (() => e.message);
      say(() => T().loadFailed(why()), status);
      return;
    }

    if (state.reconsent) {
      open(moveFocus);   // on page load: no focus stealing
    } else {
      opener.hidden = false;
    }
  }

  setLanguage(storedLanguage() || browserLanguage(), false);

  // after every deferred script: their consentchange listeners are set
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => load(false));
  } else {
    load(false);
  }
}());
