// The public portal home: the sign-in entry top right, and the floating box to contact
// the platform's staff.
import { h, $ } from './dom.js';
import { t, translate, langSwitch } from './i18n.js';
import { get } from './api.js';

let config = { contact: {} };

function drawContact() {
  const box = $('#contact-details');
  const { phone, email } = config.contact || {};
  const lines = [];
  if (phone) lines.push(h('div', t('home.contactPhone'), ' ', h('a', { href: 'tel:' + phone }, phone)));
  if (email) lines.push(h('div', t('home.contactEmail'), ' ', h('a', { href: 'mailto:' + email }, email)));
  if (!lines.length) lines.push(t('home.contactFallback'));
  box.replaceChildren(...lines);
}

async function start() {
  translate(document);
  $('#lang').append(langSwitch(h));
  const toggle = $('#contact-toggle');
  toggle.addEventListener('click', () => {
    const panel = $('#contact-panel');
    panel.hidden = !panel.hidden;
    toggle.setAttribute('aria-expanded', String(!panel.hidden));
  });
  window.addEventListener('jlb:lang', drawContact);
  try {
    config = await get('/portal-config.json');
  } catch {
    // the defaults
  }
  drawContact();
  try {
    const me = await get('/api/v1/me', { quiet: true });
    const entry = $('#sign-in-entry');
    entry.href = '/console/';
    entry.dataset.i18n = 'home.toConsole';
    entry.textContent = t('home.toConsole') + ' · ' + me.login;
  } catch {
    // not signed in: the sign-in entry stays
  }
}

start();
