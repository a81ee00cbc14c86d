/*
 * An example consent banner for ngx_consent_module: plain ES2017, no
 * framework, no build step, no external resources.
 *
 * It only talks to the consent API (/consent): GET the visitor's state,
 * POST a choice, DELETE to withdraw.  The server records the decision in
 * Redis and sets the signed, HttpOnly consent cookie itself; this script
 * sets no cookie and keeps no state of its own.
 *
 * Markup it expects (see index.html): #consent-banner (role="dialog")
 * holding #consent-title, #consent-intro, #consent-gpc, #consent-form
 * with #consent-purposes, buttons with data-consent="accept", "reject",
 * "choose", "save", "withdraw", "close", and the live region
 * #consent-message; outside it the #consent-open button and the live
 * region #consent-status.  Every new state is also dispatched on document
 * as a "consentchange" event (detail: the API's JSON) for the rest of the
 * page.
 */
(function () {
  'use strict';

  const API = '/consent';

  // what a Global Privacy Control signal keeps off, whatever is chosen
  const GPC_OFF = ['advertising', 'sharing'];

  // labels of the standard purposes; purposes the operator added with
  // consent_purpose are shown by name
  const PURPOSES = {
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
  };

  const $ = (id) => document.getElementById(id);
  const banner = $('consent-banner');
  const title = $('consent-title');
  const intro = $('consent-intro');
  const gpcNote = $('consent-gpc');
  const form = $('consent-form');
  const list = $('consent-purposes');
  const message = $('consent-message');
  const status = $('consent-status');
  const opener = $('consent-open');
  const introText = intro.textContent.trim();

  const buttons = {};
  banner.querySelectorAll('button[data-consent]').forEach((b) => {
    buttons[b.dataset.consent] = b;
  });

  let state = null;   // the API's last answer
  let busy = false;

  /* ---- the API ---- */

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
      throw new Error('Could not reach the server. Nothing was recorded.');
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

    throw new Error(explain(res.status, data));
  }

  function explain(code, data) {
    const error = data && typeof data.error === 'string' ? data.error : '';

    switch (code) {
    case 503:
      return 'The consent store is unavailable, so nothing was recorded.'
        + ' Please try again in a moment.';
    case 403:
      return 'The server refused this as a cross-site request'
        + (error ? ' (' + error + ')' : '') + '. Nothing was recorded.';
    case 400:
      return 'The server rejected the request'
        + (data && data.field ? ' (' + data.field + ')' : '')
        + (error ? ': ' + error : '') + '. Nothing was recorded.';
    default:
      return 'Unexpected answer from the server (HTTP ' + code + ')'
        + (error ? ': ' + error : '') + '.';
    }
  }

  /* ---- rendering ---- */

  const decided = (s) => s.policy_version !== null
    && s.policy_version !== undefined;
  const gpcLocked = (s, name) => s.gpc && GPC_OFF.includes(name);

  function say(text, where) {
    message.textContent = where === message ? text : '';
    status.textContent = where === status ? text : '';
  }

  function renderPurposes(s) {
    list.textContent = '';

    for (const name of s.available) {
      const id = 'consent-p-' + name;
      const [label, text] = PURPOSES[name] || [name, ''];
      const row = document.createElement('div');
      const box = document.createElement('input');
      const lab = document.createElement('label');

      row.className = 'consent-purpose';
      box.type = 'checkbox';
      box.id = id;
      box.value = name;
      lab.htmlFor = id;
      lab.textContent = label;

      if (name === 'necessary') {
        box.checked = true;
        box.disabled = true;
      } else if (gpcLocked(s, name)) {
        box.checked = false;
        box.disabled = true;
        lab.textContent += ' (off: Global Privacy Control)';
      } else {
        box.checked = s.purposes.includes(name);
      }

      row.append(box, lab);

      if (text) {
        const desc = document.createElement('span');
        desc.id = id + '-desc';
        desc.className = 'consent-desc';
        desc.textContent = text;
        box.setAttribute('aria-describedby', desc.id);
        row.append(desc);
      }

      list.append(row);
    }
  }

  function render(s) {
    state = s;

    gpcNote.hidden = !s.gpc;
    intro.textContent = introText;
    if (s.reconsent && decided(s)) {
      intro.textContent = 'Our privacy policy has changed since you chose'
        + ' (version ' + s.policy_version + ', now '
        + s.current_policy_version + '). Please choose again. ' + introText;
    }

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
      const first = list.querySelector('input:not([disabled])');
      (first || buttons.save).focus();
    }
  }

  function open(moveFocus) {
    renderPurposes(state);   // the state's choices, not unsaved clicks
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
    say('', message);
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

  /* ---- actions ---- */

  function optional(s) {
    return s.available.filter((n) => n !== 'necessary'
      && !gpcLocked(s, n));
  }

  function chosen() {
    return Array.from(list.querySelectorAll('input:checked:not([disabled])'),
      (box) => box.value);
  }

  async function write(method, purposes, done) {
    if (busy) {
      return;
    }

    setBusy(true);
    say('Saving\u2026', message);

    try {
      const body = method === 'POST'
        ? { purposes: purposes, policy_version: state.current_policy_version }
        : undefined;
      render(await call(method, body));
      close();
      say(done, status);
    } catch (e) {
      // nothing was recorded: the banner stays open with the reason
      say(e.message, message);
    } finally {
      setBusy(false);
    }
  }

  const actions = {
    accept: () => write('POST', optional(state), 'Saved: all purposes accepted.'),
    reject: () => write('POST', [], 'Saved: only necessary cookies.'),
    save: () => write('POST', chosen(), 'Saved: your choices.'),
    withdraw: () => write('DELETE', undefined,
      'Consent withdrawn: only necessary cookies from now on.'),
    choose: () => expand(form.hidden),
    close: () => close()
  };

  banner.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-consent]');
    if (b && state && !busy) {
      actions[b.dataset.consent]();
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
      say('', status);
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
      say('Could not load your privacy choices: ' + e.message, status);
      return;
    }

    if (state.reconsent) {
      open(moveFocus);   // on page load: no focus stealing
    } else {
      opener.hidden = false;
    }
  }

  // after every deferred script: their consentchange listeners are set
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => load(false));
  } else {
    load(false);
  }
}());
