// The super-app simulator: a phone-sized shell where a test citizen signs in with an SMS
// code, opens the services they may open through the real single sign-on path (in a frame,
// under the platform's bottom bar), and reads their messages and to-dos. It answers the
// JS-SDK's calls from the framed page and checks the page title against the service name.
import { h, clear, $, $$ } from './dom.js';
import { t, translate, langSwitch } from './i18n.js';
import { get, post, ApiError } from './api.js';
import { fmtTime, rules, field, check, showErrors, busy, statusTag } from './ui.js';

const METHODS = ['setTitle', 'openLink', 'close', 'setUIStyle', 'getTicket'];
const state = { signedIn: false, tab: 'home', open: null, origin: null, uiStyle: 'normal', devSMS: false, services: [] };
const body = () => $('#sim-body');

function log(kind, text) {
  const li = h('li', { dataset: { log: kind } }, h('span.muted', fmtTime(new Date().toISOString()).slice(11) + ' '), text);
  $('#sim-log').prepend(li);
}

function setTitle(text) {
  $('#sim-title').textContent = text;
}

async function probe() {
  try {
    const r = await get('/api/v1/citizen/services', { quiet: true });
    state.signedIn = true;
    state.services = r.items;
  } catch (err) {
    state.signedIn = false;
    if (err instanceof ApiError && err.status === 404) state.disabled = true;
  }
  try {
    await get('/api/v1/dev/sms?mobile=', { quiet: true });
  } catch (err) {
    state.devSMS = err instanceof ApiError && err.status === 422; // the route is there (development SMS provider)
  }
}

function draw() {
  const tabbar = $('#tabbar');
  tabbar.hidden = !state.signedIn;
  $('#sim-back').hidden = !state.open;
  $('#sim-close').hidden = !state.open;
  for (const b of $$('#tabbar button')) b.setAttribute('aria-current', !state.open && b.dataset.tab === state.tab ? 'page' : 'false');
  if (state.disabled) {
    setTitle(t('sim.appName'));
    clear(body(), h('div.sim-pad', h('div.alert.alert-warn', t('sim.disabled'))));
    return;
  }
  if (!state.signedIn) return drawSignIn();
  if (state.open) return; // the service frame stays as it is
  setTitle(t('sim.appName'));
  ({ home: drawHome, messages: drawMessages, todos: drawTodos, me: drawMe })[state.tab]();
}

function drawSignIn() {
  setTitle(t('sim.signInTitle'));
  const mobile = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric', placeholder: '13800000001', value: sessionStorage.getItem('jlb.sim.mobile') || '' });
  const code = h('input', { type: 'text', maxlength: 6, inputmode: 'numeric', autocomplete: 'one-time-code' });
  const send = h('button', { type: 'button', id: 'sim-send-code' }, t('sim.sendCode'));
  const fetchCode = h('button.btn-sm', { type: 'button', id: 'sim-read-code', hidden: !state.devSMS }, t('sim.readCode'));
  const submit = h('button.btn-primary', { type: 'submit', id: 'sim-sign-in' }, t('sim.signIn'));
  const note = h('div.hint', { id: 'sim-code-note' });
  const f = h('form.form', { novalidate: true, id: 'sim-login' },
    field({ name: 'mobile', label: t('sim.mobile'), required: true, input: mobile }),
    h('div.form-actions', send),
    field({ name: 'code', label: t('sim.code'), required: true, input: code }),
    h('div.alert.alert-info', t('sim.devHint'), ' ', fetchCode),
    note,
    h('div.form-actions', submit));
  send.addEventListener('click', () => {
    if (!check(f, { mobile: rules.mobile(mobile.value.trim()) })) return;
    busy(send, async () => {
      try {
        await post('/api/v1/citizen/login-code', { mobile: mobile.value.trim() }, { quiet: true });
        note.textContent = t('sim.codeSent');
        sessionStorage.setItem('jlb.sim.mobile', mobile.value.trim());
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  fetchCode.addEventListener('click', () => busy(fetchCode, async () => {
    if (!check(f, { mobile: rules.mobile(mobile.value.trim()) })) return;
    try {
      const r = await get('/api/v1/dev/sms?mobile=' + encodeURIComponent(mobile.value.trim()), { quiet: true });
      const last = r.items.find((m) => m.template_code === 'LOGIN_CODE');
      if (last) {
        code.value = last.params.code;
        note.textContent = t('sim.codeRead', { at: fmtTime(last.created_at) });
      } else {
        note.textContent = t('sim.noCode');
      }
    } catch (err) {
      showErrors(f, err);
    }
  }));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!check(f, { mobile: rules.mobile(mobile.value.trim()), code: /^\d{6}$/.test(code.value.trim()) ? '' : t('sim.codeRule') })) return;
    busy(submit, async () => {
      try {
        await post('/api/v1/citizen/sessions', { mobile: mobile.value.trim(), code: code.value.trim() }, { quiet: true });
        sessionStorage.setItem('jlb.sim.mobile', mobile.value.trim());
        log('signin', t('sim.log.signedIn', { mobile: mobile.value.trim() }));
        await probe();
        state.tab = 'home';
        draw();
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  clear(body(), h('div.sim-pad', h('h2', t('sim.welcome')), f));
}

async function drawHome() {
  clear(body(), h('div.sim-pad', h('div.loading', t('common.loading'))));
  try {
    state.services = (await get('/api/v1/citizen/services')).items;
  } catch (err) {
    return handle(err);
  }
  if (state.open || state.tab !== 'home') return;
  clear(body(), h('div.sim-pad', { id: 'sim-home' },
    h('h2', t('sim.services')),
    state.services.length ? state.services.map((s) => h('button.service-tile', { type: 'button', dataset: { module: s.module_code }, onclick: () => openService(s) },
      h('span.ico', { 'aria-hidden': 'true' }, s.name.slice(0, 1)),
      h('span', h('span.name', s.name), h('span.desc', s.description),
        h('span.tag.' + (s.environment === 'production' ? 'tag-green' : 'tag-blue'), t('sim.env.' + s.environment))))) : h('p.empty', t('sim.noServices'))));
}

async function drawMessages() {
  clear(body(), h('div.sim-pad', h('div.loading', t('common.loading'))));
  let r;
  try {
    r = await get('/api/v1/citizen/messages?page_size=50');
  } catch (err) {
    return handle(err);
  }
  if (state.open || state.tab !== 'messages') return;
  clear(body(), h('div.sim-pad', { id: 'sim-messages' },
    h('h2', t('sim.messages', { unread: r.unread || 0 })),
    r.items.length ? r.items.map((m) => h('div.item-card', { class: m.read ? null : 'unread', dataset: { message: m.id } },
      h('strong', m.title), h('div', m.body),
      h('div.meta', m.application.name, ' · ', fmtTime(m.created_at)),
      m.read ? null : h('button.btn-link', { type: 'button', onclick: async () => { await post(`/api/v1/citizen/messages/${m.id}/read`); drawMessages(); } }, t('sim.markRead')))) : h('p.empty', t('sim.noMessages'))));
}

async function drawTodos() {
  clear(body(), h('div.sim-pad', h('div.loading', t('common.loading'))));
  let r;
  try {
    r = await get('/api/v1/citizen/todos?status=all&page_size=50');
  } catch (err) {
    return handle(err);
  }
  if (state.open || state.tab !== 'todos') return;
  clear(body(), h('div.sim-pad', { id: 'sim-todos' },
    h('h2', t('sim.todos')),
    r.items.length ? r.items.map((x) => h('div.item-card', { dataset: { todo: x.id } },
      h('div', h('strong', x.title), ' ', statusTag('todo', x.status), x.overdue ? [' ', h('span.tag.tag-red', t('sim.overdue'))] : null),
      x.description ? h('div', x.description) : null,
      h('div.meta', x.application.name, x.due_at ? ' · ' + t('sim.due', { at: fmtTime(x.due_at) }) : ''))) : h('p.empty', t('sim.noTodos'))));
}

function drawMe() {
  const mobile = sessionStorage.getItem('jlb.sim.mobile') || '';
  const style = (s) => h('button', { type: 'button', 'aria-pressed': String(state.uiStyle === s), dataset: { style: s }, onclick: () => { applyStyle(s); drawMe(); } }, t('sim.style.' + s));
  clear(body(), h('div.sim-pad', { id: 'sim-me' },
    h('h2', t('sim.me')),
    h('div.item-card', h('strong', t('sim.mobile')), h('div', mobile ? mobile.slice(0, 3) + '****' + mobile.slice(7) : '—')),
    h('div.item-card', h('strong', t('sim.uiStyle')), h('div.form-actions', style('normal'), style('elder'))),
    h('div.form-actions', h('button', { type: 'button', id: 'sim-switch-user', onclick: () => { state.signedIn = false; draw(); } }, t('sim.switchUser')))));
}

function applyStyle(s) {
  state.uiStyle = s;
  $('#screen').classList.toggle('elder', s === 'elder');
}

function handle(err) {
  if (err instanceof ApiError && err.status === 401) {
    state.signedIn = false;
    draw();
    return;
  }
  clear(body(), h('div.sim-pad', h('div.alert.alert-error', err.message)));
}

// Opening a service: the frame goes through GET /api/v1/sso/open, which sends it on to the
// service's address with a fresh ticket, exactly as the super-app does.
function openService(s) {
  state.open = { module: s.module_code, name: s.name, title: null };
  state.origin = null;
  setTitle(s.name);
  log('open', t('sim.log.open', { name: s.name }));
  const warning = h('div.sim-warning', { id: 'sim-title-warning', hidden: true, role: 'alert' });
  const frame = h('iframe.service-frame', {
    id: 'service-frame', title: s.name, src: '/api/v1/sso/open?module_code=' + encodeURIComponent(s.module_code),
    sandbox: 'allow-scripts allow-forms allow-same-origin allow-popups allow-popups-to-escape-sandbox',
    referrerpolicy: 'no-referrer', allow: '',
  });
  clear(body(), h('div.frame-wrap', warning, frame));
  draw();
}

function closeService() {
  if (!state.open) return;
  log('close', t('sim.log.close', { name: state.open.name }));
  state.open = null;
  state.origin = null;
  draw();
}

function titleCheck(title) {
  const o = state.open;
  if (!o || o.title === title) return; // reported again (ready, then setTitle): nothing new
  o.title = title;
  setTitle(title || o.name);
  const warning = $('#sim-title-warning');
  const matches = title === o.name;
  if (warning) {
    warning.hidden = matches;
    warning.textContent = matches ? '' : t('sim.titleMismatch', { title, name: o.name });
  }
  log(matches ? 'title-ok' : 'title-mismatch', matches ? t('sim.log.titleOk', { title }) : t('sim.log.titleMismatch', { title, name: o.name }));
  post('/api/v1/citizen/title-check', { module_code: o.module, title }, { quiet: true }).catch(() => {});
}

// The JS-SDK's calls from the framed page: only from that frame, and only from the origin
// its first call came from (the service's own page after the sign-on redirect).
window.addEventListener('message', async (e) => {
  const frame = $('#service-frame');
  if (!state.open || !frame || e.source !== frame.contentWindow) return;
  const m = e.data;
  if (!m || m.jlb !== 'req' || typeof m.method !== 'string') return;
  if (state.origin === null && m.method === 'ready') state.origin = e.origin;
  if (e.origin !== state.origin) {
    log('refused', t('sim.log.refused', { origin: e.origin }));
    return;
  }
  const reply = (result, error) => e.source.postMessage({ jlb: 'res', id: m.id, result, error }, e.origin);
  const p = m.params || {};
  try {
    switch (m.method) {
      case 'ready':
        reply({ shell: 'jinlaiban-simulator', methods: METHODS, ui_style: state.uiStyle, module_code: state.open.module });
        log('ready', t('sim.log.ready', { title: p.title || '' }));
        titleCheck(String(p.title || ''));
        break;
      case 'setTitle':
        reply(null);
        titleCheck(String(p.title || ''));
        break;
      case 'openLink':
        window.open(String(p.url), '_blank', 'noopener');
        log('link', t('sim.log.link', { url: p.url }));
        reply(null);
        break;
      case 'close':
        reply(null);
        closeService();
        break;
      case 'setUIStyle':
        if (p.style !== 'normal' && p.style !== 'elder') throw Object.assign(new Error('style must be normal or elder'), { code: 'bad-style' });
        applyStyle(p.style);
        log('style', t('sim.log.style', { style: t('sim.style.' + p.style) }));
        reply(null);
        break;
      case 'getTicket': {
        const r = await post('/api/v1/citizen/tickets', { module_code: state.open.module }, { quiet: true });
        log('ticket', t('sim.log.ticket'));
        reply({ ticket: r.ticket, expires_at: r.expires_at, environment: r.environment });
        break;
      }
      default:
        reply(undefined, { code: 'unknown-method', message: 'The super-app has no method ' + m.method + '.' });
    }
  } catch (err) {
    reply(undefined, { code: err.code || 'error', message: err.message });
  }
});

async function start() {
  translate(document);
  $('#lang').append(langSwitch(h));
  for (const b of $$('#tabbar button')) {
    b.addEventListener('click', () => {
      state.open = null;
      state.tab = b.dataset.tab;
      draw();
    });
  }
  $('#sim-back').addEventListener('click', closeService);
  $('#sim-close').addEventListener('click', closeService);
  window.addEventListener('jlb:lang', () => { if (!state.open) draw(); });
  const tick = () => { const d = new Date(); $('#clock').textContent = `${d.getHours()}:${String(d.getMinutes()).padStart(2, '0')}`; };
  tick();
  setInterval(tick, 30000);
  await probe();
  draw();
  document.body.dataset.ready = 'true';
}

start();
