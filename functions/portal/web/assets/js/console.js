// The back office: sign-in, the left menu of the signed-in account's role, and a small
// router that draws each page into <main> (URLs under /console/, history API).
import { h, clear, $ } from './dom.js';
import { t, translate, langSwitch } from './i18n.js';
import { get, del, ApiError } from './api.js';
import { errorBox, loading } from './ui.js';

const pages = {
  login: () => import('./pages/login.js'),
  password: () => import('./pages/password.js'),
  apps: () => import('./pages/apps.js'),
  services: () => import('./pages/services.js'),
  capabilities: () => import('./pages/capabilities.js'),
  guide: () => import('./pages/guide.js'),
  notifications: () => import('./pages/notifications.js'),
  review: () => import('./pages/review.js'),
  vendors: () => import('./pages/vendors.js'),
  testers: () => import('./pages/testers.js'),
  tags: () => import('./pages/tags.js'),
  audit: () => import('./pages/audit.js'),
};

// [pattern, page module, view, roles]
const routes = [
  ['/console/login', 'login', 'login', null],
  ['/console/password', 'password', 'password', ['admin', 'vendor']],
  ['/console/apps', 'apps', 'list', ['vendor']],
  ['/console/apps/new', 'apps', 'form', ['vendor']],
  ['/console/apps/:id', 'apps', 'detail', ['vendor']],
  ['/console/apps/:id/edit', 'apps', 'form', ['vendor']],
  ['/console/services', 'services', 'list', ['vendor']],
  ['/console/services/new', 'services', 'form', ['vendor']],
  ['/console/services/:id', 'services', 'detail', ['vendor']],
  ['/console/services/:id/edit', 'services', 'form', ['vendor']],
  ['/console/capabilities', 'capabilities', 'page', ['vendor']],
  ['/console/guide', 'guide', 'page', ['vendor']],
  ['/console/notifications', 'notifications', 'inbox', ['vendor']],
  ['/console/webhooks', 'notifications', 'webhooks', ['vendor']],
  ['/console/review/apps', 'review', 'apps', ['admin']],
  ['/console/review/apps/:id', 'review', 'app', ['admin']],
  ['/console/review/services', 'review', 'services', ['admin']],
  ['/console/review/services/:id', 'review', 'service', ['admin']],
  ['/console/review/capabilities', 'review', 'grants', ['admin']],
  ['/console/review/capabilities/:id', 'review', 'grant', ['admin']],
  ['/console/vendors', 'vendors', 'list', ['admin']],
  ['/console/test-citizens', 'testers', 'page', ['admin']],
  ['/console/tags', 'tags', 'page', ['admin']],
  ['/console/audit', 'audit', 'page', ['admin']],
];

const menus = {
  vendor: [
    ['menu.vendorGroup'],
    ['/console/apps', 'menu.apps', '▤'],
    ['/console/services', 'menu.services', '◫'],
    ['/console/capabilities', 'menu.capabilities', '✉'],
    ['/console/guide', 'menu.guide', '⌘'],
    ['menu.noticeGroup', 'notifications'],
    ['/console/notifications', 'menu.notifications', '◔', 'notifications'],
    ['/console/webhooks', 'menu.webhooks', '⇄', 'notifications'],
  ],
  admin: [
    ['menu.reviewGroup'],
    ['/console/review/apps', 'menu.reviewApps', '▤'],
    ['/console/review/services', 'menu.reviewServices', '◫'],
    ['/console/review/capabilities', 'menu.reviewCapabilities', '✉'],
    ['menu.manageGroup'],
    ['/console/vendors', 'menu.vendors', '☺'],
    ['/console/test-citizens', 'menu.testCitizens', '☎'],
    ['/console/tags', 'menu.tags', '#'],
    ['/console/audit', 'menu.audit', '⌕'],
  ],
};

const home = { admin: '/console/review/apps', vendor: '/console/apps' };

const state = { me: null, features: { notifications: false }, unread: 0 };

function match(path) {
  const clean = path.replace(/\/+$/, '') || '/console';
  for (const [pattern, page, view, roles] of routes) {
    const pp = pattern.split('/');
    const cp = clean.split('/');
    if (pp.length !== cp.length) continue;
    const params = {};
    if (pp.every((seg, i) => (seg.startsWith(':') ? ((params[seg.slice(1)] = decodeURIComponent(cp[i])), true) : seg === cp[i]))) {
      return { page, view, roles, params };
    }
  }
  return null;
}

export function go(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

async function loadMe() {
  try {
    state.me = await get('/api/v1/me', { quiet: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) state.me = null;
    else throw err;
  }
  return state.me;
}

// Notifications come from another function: the menu shows them when its API answers.
async function probeFeatures() {
  state.features.notifications = false;
  if (!state.me || state.me.role !== 'vendor' || state.me.must_change_password) return;
  try {
    const r = await get('/api/v1/notifications?page_size=1', { quiet: true });
    state.features.notifications = true;
    state.unread = typeof r.unread === 'number' ? r.unread : 0;
  } catch {
    state.features.notifications = false;
  }
}

function drawChrome() {
  const me = state.me;
  const account = $('#account');
  const sidebar = $('#sidebar');
  if (!me || me.must_change_password) {
    account.hidden = !me;
    sidebar.hidden = true;
    $('#shell').classList.add('no-menu');
  } else {
    sidebar.hidden = false;
    $('#shell').classList.remove('no-menu');
  }
  if (me) {
    account.hidden = false;
    $('#account-login').textContent = me.login;
    $('#account-role').textContent = t('role.' + me.role);
  }
  if (me && !me.must_change_password) {
    const items = [];
    for (const [path, label, icon, feature] of menus[me.role] || []) {
      if (feature && !state.features[feature]) continue;
      if (path.startsWith('menu.')) {
        const groupFeature = label;
        if (groupFeature && !state.features[groupFeature]) continue;
        items.push(h('div.group', t(path)));
        continue;
      }
      const current = location.pathname === path || location.pathname.startsWith(path + '/');
      items.push(h('a', { href: path, dataset: { link: '', menu: path.split('/').slice(2).join('-') }, 'aria-current': current ? 'page' : null },
        h('span.icon', { 'aria-hidden': 'true' }, icon), h('span', t(label)),
        path === '/console/notifications' && state.unread ? h('span.badge', { 'aria-label': t('menu.unread') }, String(state.unread)) : null));
    }
    clear(sidebar, items);
  }
}

let rendering = 0;

export async function render() {
  const ticket = ++rendering;
  const main = $('#main');
  const path = location.pathname;
  let route = match(path);
  if (path === '/console' || path === '/console/') route = null;
  if (state.me === null && (!route || route.page !== 'login')) {
    const next = path.startsWith('/console/') && path !== '/console/' ? '?next=' + encodeURIComponent(path + location.search) : '';
    history.replaceState(null, '', '/console/login' + next);
    route = match('/console/login');
  } else if (state.me && state.me.must_change_password && (!route || route.page !== 'password')) {
    history.replaceState(null, '', '/console/password');
    route = match('/console/password');
  } else if (state.me && (!route || route.page === 'login' || (route.roles && !route.roles.includes(state.me.role)))) {
    history.replaceState(null, '', home[state.me.role]);
    route = match(home[state.me.role]);
  }
  drawChrome();
  $('#sidebar').classList.remove('open');
  clear(main, loading());
  const ctx = {
    main, params: route.params, query: new URLSearchParams(location.search), me: state.me, go, view: route.view,
    // signedIn is called by the sign-in and password pages once the session changed.
    signedIn: async (next) => {
      await loadMe();
      await probeFeatures();
      go(next && next.startsWith('/console/') ? next : (state.me ? home[state.me.role] : '/console/login'), { replace: true });
    },
    refreshMenu: async () => { await probeFeatures(); drawChrome(); },
    setQuery: (params) => {
      const q = new URLSearchParams(location.search);
      for (const [k, v] of Object.entries(params)) {
        if (v === '' || v === null || v === undefined) q.delete(k);
        else q.set(k, v);
      }
      const s = q.toString();
      go(location.pathname + (s ? '?' + s : ''));
    },
  };
  try {
    const mod = await pages[route.page]();
    if (ticket !== rendering) return;
    await mod.render(ctx);
  } catch (err) {
    if (ticket !== rendering) return;
    if (err instanceof ApiError && (err.code === 'unauthenticated' || err.code === 'password-change-required')) return;
    clear(main, errorBox(err));
  }
  if (ticket === rendering) {
    document.body.dataset.page = route.page + '-' + route.view;
    main.dataset.ready = path;
  }
}

async function start() {
  translate(document);
  $('#lang').append(langSwitch(h));
  $('#sign-out').addEventListener('click', async () => {
    try {
      await del('/api/v1/sessions/current', { quiet: true });
    } catch {
      // signed out already
    }
    state.me = null;
    state.features.notifications = false;
    go('/console/login', { replace: true });
  });
  $('#menu-toggle').addEventListener('click', () => {
    const open = $('#sidebar').classList.toggle('open');
    $('#menu-toggle').setAttribute('aria-expanded', String(open));
  });
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-link]');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    go(a.getAttribute('href'));
  });
  window.addEventListener('popstate', render);
  window.addEventListener('jlb:lang', () => render());
  window.addEventListener('jlb:auth', async (e) => {
    if (e.detail === 'unauthenticated') state.me = null;
    else await loadMe();
    render();
  });
  try {
    await loadMe();
    await probeFeatures();
  } catch (err) {
    clear($('#main'), errorBox(err));
    return;
  }
  render();
}

start();
