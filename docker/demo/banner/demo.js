/*
 * The demo page around the banner (not part of the banner): shows what
 * the proxy decided, and lets the visitor set a few tracking cookies the
 * way a site's analytics and ad scripts would, then see which of them
 * the proxy let through to the origin (the demo origin, behind "/",
 * echoes the Cookie header it received).
 */
(function () {
  'use strict';

  const SAMPLE = ['_ga=GA1.1.1.1', '_gid=GA1.1.2.2', '_fbp=fb.1.1.1',
                  '_gcl_au=1.1.1.1', 'demo_session=abc'];

  const field = (name) => document.querySelector('#decided [data-field="'
    + name + '"]');
  const jar = document.getElementById('demo-jar');
  const origin = document.getElementById('demo-origin');

  function show(name, text) {
    field(name).textContent = text;
  }

  document.addEventListener('consentchange', (ev) => {
    const s = ev.detail;

    show('purposes', s.purposes.join(', '));
    show('source', s.source);
    show('regime', s.regime);
    show('region', s.region === null ? '(none: default regime)' : s.region);
    show('gpc', s.gpc ? 'on (advertising and sharing stay off)' : 'off');
    show('policy', (s.policy_version === null ? 'no decision'
      : 'decided under ' + s.policy_version) + ', current '
      + s.current_policy_version + (s.reconsent ? ' (asking again)' : ''));
    show('updated', s.updated === null ? '-'
      : new Date(s.updated * 1000).toLocaleString());
    show('subject', s.subject === null ? '(none yet)' : s.subject);

    ask();
  });

  function showJar() {
    jar.textContent = document.cookie || '(none)';
  }

  async function ask() {
    try {
      const res = await fetch('/', { credentials: 'same-origin',
                                     cache: 'no-store' });
      origin.textContent = (await res.text()).trim();
    } catch (e) {
      origin.textContent = 'could not reach the origin: ' + e.message;
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

  showJar();
}());
