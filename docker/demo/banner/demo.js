/*
 * The demo page around the banner (not part of the banner): shows what
 * the proxy decided, and lets the visitor set a few tracking cookies the
 * way a site's analytics and ad scripts would, then see which of them
 * the proxy let through to the origin (the demo origin, behind "/",
 * echoes the Cookie header it received).
 *
 * It speaks the banner's language: <html lang> as banner.js set it, and
 * again on each "consentlanguage" event.  Elements with
 * data-demo-text="key" get TEXTS[lang][key]; `...` in a text is code.
 */
(function () {
  'use strict';

  const SAMPLE = ['_ga=GA1.1.1.1', '_gid=GA1.1.2.2', '_fbp=fb.1.1.1',
                  '_gcl_au=1.1.1.1', 'demo_session=abc'];

  const TEXTS = {
    en: {
      title: 'Demo shop - ngx_consent_module',
      heading: 'Demo shop',
      lead: 'A page served by nginx with `ngx_consent_module` in front.'
        + ' The consent banner talks to `/consent`; the proxy enforces'
        + ' whatever you choose on every request.',
      decided: 'What the proxy decided',
      purposes: 'Purposes',
      refused: 'Companies refused',
      source: 'Source',
      regime: 'Regime',
      region: 'Region',
      gpc: 'Global Privacy Control',
      policy: 'Policy version',
      updated: 'Recorded',
      subject: 'Subject',
      origin: 'What reached the origin',
      originText: 'Tracking cookies a site\'s scripts would set. The proxy'
        + ' strips the ones you did not agree to before the request goes to'
        + ' the origin, and expires them in your browser.',
      set: 'Set sample tracking cookies',
      ask: 'Ask the origin',
      jarText: 'Cookies this page\'s scripts can see (the consent cookie is'
        + ' HttpOnly, so it is not among them):',
      answer: 'The origin\'s answer:',
      none: 'none',
      noRegion: '(none: default regime)',
      gpcOn: 'on (advertising and sharing stay off)',
      gpcOff: 'off',
      version: (s) => (s.policy_version === null ? 'no decision'
        : 'decided under ' + s.policy_version) + ', current '
        + s.current_policy_version + (s.reconsent ? ' (asking again)' : ''),
      noSubject: '(none yet)',
      noCookies: '(none)',
      unreachable: 'could not reach the origin: '
    },
    ja: {
      title: 'デモショップ - ngx_consent_module',
      heading: 'デモショップ',
      lead: '`ngx_consent_module` を組み込んだ nginx を前段に置いて配信している'
        + 'ページです。同意バナーは `/consent` と通信し、プロキシはあなたの選択を'
        + 'すべてのリクエストに適用します。',
      decided: 'プロキシの判定',
      purposes: '利用目的',
      refused: '拒否した事業者',
      source: '判定の根拠',
      regime: '規制の枠組み',
      region: '地域',
      gpc: 'グローバル・プライバシー・コントロール',
      policy: 'ポリシーのバージョン',
      updated: '記録日時',
      subject: '識別子（サブジェクト）',
      origin: 'オリジンに届いたもの',
      originText: 'サイトのスクリプトが設定するようなトラッキングCookieです。'
        + 'プロキシは、同意されていないものをオリジンへのリクエストから取り除き、'
        + 'ブラウザでも期限切れにします。',
      set: 'サンプルのトラッキングCookieを設定',
      ask: 'オリジンに問い合わせる',
      jarText: 'このページのスクリプトから見えるCookie（同意Cookieは HttpOnly'
        + ' のため含まれません）：',
      answer: 'オリジンの応答：',
      none: 'なし',
      noRegion: '（なし：デフォルトの枠組み）',
      gpcOn: 'オン（広告と第三者提供はオフのまま）',
      gpcOff: 'オフ',
      version: (s) => (s.policy_version === null ? '未選択'
        : 'バージョン' + s.policy_version + 'で選択') + '、現在はバージョン'
        + s.current_policy_version + (s.reconsent ? '（再同意を依頼中）' : ''),
      noSubject: '（まだありません）',
      noCookies: '（なし）',
      unreachable: 'オリジンに接続できませんでした：'
    }
  };

  let lang = 'en';
  const T = () => TEXTS[lang];

  let last = null;   // the last consentchange's state

  const field = (name) => document.querySelector('#decided [data-field="'
    + name + '"]');
  const jar = document.getElementById('demo-jar');
  const origin = document.getElementById('demo-origin');

  function show(name, text) {
    field(name).textContent = text;
  }

  // a text with `code` spans, as nodes (no markup parsed)
  function fill(el, text) {
    el.textContent = '';
    text.split('`').forEach((part, i) => {
      if (i % 2) {
        const code = document.createElement('code');
        code.textContent = part;
        el.append(code);
      } else if (part) {
        el.append(part);
      }
    });
  }

  function translate() {
    const l = document.documentElement.lang;
    lang = Object.prototype.hasOwnProperty.call(TEXTS, l) ? l : 'en';

    document.title = T().title;
    document.querySelectorAll('[data-demo-text]').forEach((el) => {
      const text = T()[el.dataset.demoText];
      if (typeof text === 'string') {
        fill(el, text);
      }
    });
    if (last) {
      showState(last);
    }
    showJar();
  }

  function showState(s) {
    show('purposes', s.purposes.join(', '));
    // absent where the module predates per-company refusals
    show('refused', !Array.isArray(s.vendors_refused) ? '-'
      : s.vendors_refused.length ? s.vendors_refused.join(', ') : T().none);
    show('source', s.source);
    show('regime', s.regime);
    show('region', s.region === null ? T().noRegion : s.region);
    show('gpc', s.gpc ? T().gpcOn : T().gpcOff);
    show('policy', T().version(s));
    show('updated', s.updated === null ? '-'
      : new Date(s.updated * 1000).toLocaleString(lang));
    show('subject', s.subject === null ? T().noSubject : s.subject);
  }

  document.addEventListener('consentchange', (ev) => {
    last = ev.detail;
    showState(last);
    ask();
  });

  document.addEventListener('consentlanguage', translate);

  function showJar() {
    jar.textContent = document.cookie || T().noCookies;
  }

  async function ask() {
    try {
      const res = await fetch('/', { credentials: 'same-origin',
                                     cache: 'no-store' });
      origin.textContent = (await res.text()).trim();
    } catch (e) {
      origin.textContent = T().unreachable + e.message;
    }
    // the answer may have expired rejected cookies
    showJar();
  }

  document.getElementById('demo-set').addEventListener('click', () => {
    for (const c of SAMPLE) {
      document.cookie = c + '; path=/; max-age=3600; samesite=lax';
    }
    showJar();
  });

  document.getElementById('demo-ask').addEventListener('click', ask);

  translate();
}());
