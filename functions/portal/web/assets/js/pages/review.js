// The administrators' review desk: applications, service listings and going live (with the
// machine pre-checks), capabilities. Every decision asks first; rejections need a reason.
import { h, clear } from '../dom.js';
import { t, has } from '../i18n.js';
import { get, post, query } from '../api.js';
import { statusTag, fmtTime, table, pager, field, busy, toast, linkTo, kv, confirmAction, reasonDialog } from '../ui.js';

export async function render(ctx) {
  switch (ctx.view) {
    case 'apps': return apps(ctx);
    case 'app': return app(ctx);
    case 'services': return services(ctx);
    case 'service': return service(ctx);
    case 'grants': return grants(ctx);
    default: return grant(ctx);
  }
}

function statusFilter(ctx, kind, statuses, current, allLabel) {
  return field({
    name: 'status', label: t('common.status'),
    input: h('select', { id: 'filter-status', onchange: (e) => ctx.setQuery({ status: e.target.value, page: '' }) },
      statuses.map((s) => h('option', { value: s, selected: s === current }, s === 'all' ? allLabel : t(`status.${kind}.${s}`)))),
  });
}

function history(decisions) {
  if (!decisions || !decisions.length) return h('p.muted', t('review.noHistory'));
  return h('ul.history', decisions.map((d) => h('li',
    h('strong', t('decision.' + d.decision)), ' · ', d.admin_login, ' · ', h('span.muted', fmtTime(d.created_at)),
    d.reason ? h('div', d.reason) : null)));
}

// A decision button: plain ones confirm, ones that need a reason ask for it.
function decision({ id, label, danger = false, needReason = false, confirm, path, done }) {
  const b = h('button', { type: 'button', class: danger ? 'btn-danger' : 'btn-primary', dataset: { decision: id } }, label);
  b.addEventListener('click', async () => {
    if (needReason) {
      const r = await reasonDialog({ title: label, message: confirm, confirmLabel: label, danger, submit: (reason) => post(path, { reason }) });
      if (r) done(r);
      return;
    }
    if (!await confirmAction({ title: label, message: confirm, confirmLabel: label, danger })) return;
    busy(b, async () => {
      try {
        done(await post(path));
      } catch (err) {
        toast(err.message, 'error');
      }
    });
  });
  return b;
}

// Applications -----------------------------------------------------------------------

async function apps(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const status = ctx.query.get('status') || 'pending';
  const data = await get(`/api/v1/admin/applications?page=${page}&page_size=20&status=${status === 'all' ? '' : encodeURIComponent(status)}`);
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('review.appsTitle')), h('p.sub', t('review.appsSub')))),
    h('section.card',
      h('div.toolbar', statusFilter(ctx, 'app', ['pending', 'approved', 'rejected', 'draft', 'all'], status, t('common.all'))),
      table([
        { label: t('apps.name'), cell: (a) => linkTo('/console/review/apps/' + a.id, a.name, { dataset: { link: '', app: a.id } }) },
        { label: t('review.vendor'), cell: (a) => a.vendor.company_name },
        { label: t('apps.level'), cell: (a) => (a.needs_user_info ? t('level.' + a.user_info_level) : t('apps.noUserInfo')) },
        { label: t('review.submittedAt'), cell: (a) => fmtTime(a.submitted_at) },
        { label: t('common.status'), cell: (a) => statusTag('app', a.status) },
        { label: t('common.actions'), class: 'actions', cell: (a) => linkTo('/console/review/apps/' + a.id, a.status === 'pending' ? t('review.review') : t('common.view')) },
      ], data.items, t('review.emptyQueue')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}

async function app(ctx) {
  const id = ctx.params.id;
  const a = await get('/api/v1/admin/applications/' + id);
  const back = () => ctx.go('/console/review/apps/' + id, { replace: true });
  const actions = h('div.form-actions');
  if (a.status === 'pending') {
    actions.append(
      decision({ id: 'approve', label: t('review.approve'), confirm: t('review.approveAppConfirm', { name: a.name }), path: `/api/v1/admin/applications/${id}/approve`, done: () => { toast(t('review.approved')); back(); } }),
      decision({ id: 'reject', label: t('review.reject'), danger: true, needReason: true, confirm: t('review.rejectAppConfirm'), path: `/api/v1/admin/applications/${id}/reject`, done: () => { toast(t('review.rejected')); back(); } }));
  }
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', a.name), h('p.sub', statusTag('app', a.status))), linkTo('/console/review/apps', t('common.backToList'), { class: 'btn' })),
    h('section.card', h('h2', t('apps.declaration')), kv([
      [t('review.vendor'), `${a.vendor.company_name} (${a.vendor.login})`],
      [t('apps.declaredAt'), fmtTime(a.declared_at)],
      [t('review.submittedAt'), fmtTime(a.submitted_at)],
      [t('apps.contact'), a.contact_name],
      [t('apps.mobile'), a.contact_mobile],
      [t('apps.needsUserInfo'), a.needs_user_info ? t('common.yes') : t('common.no')],
      a.needs_user_info ? [t('apps.level'), `${t('level.' + a.user_info_level)} (${t('level.' + a.user_info_level + '.fields')})`] : null,
      [t('apps.description'), a.description],
      a.reject_reason ? [t('review.lastReason'), a.reject_reason] : null,
      a.app_code ? ['appCode', h('code', a.app_code)] : null,
    ]), actions),
    a.status === 'approved' ? h('section.card', h('h2', t('menu.testCitizens')), h('p', linkTo('/console/test-citizens?app=' + id, t('review.manageTesters')))) : null,
    h('section.card', h('h2', t('review.history')), history(a.decisions)));
}

// Services ---------------------------------------------------------------------------

async function services(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const status = ctx.query.get('status') || 'queue';
  const q = { page, page_size: 20 };
  let path = '/api/v1/admin/services' + query(q);
  if (status !== 'queue') path += '&status=' + (status === 'all' ? '' : status);
  const data = await get(path);
  const sel = h('select', { id: 'filter-status', onchange: (e) => ctx.setQuery({ status: e.target.value === 'queue' ? '' : e.target.value, page: '' }) },
    h('option', { value: 'queue', selected: status === 'queue' }, t('review.servicesQueue')),
    ['applied', 'live_requested', 'testing', 'approved', 'live', 'offline'].map((s) => h('option', { value: s, selected: s === status }, t('status.service.' + s))),
    h('option', { value: 'all', selected: status === 'all' }, t('common.all')));
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('review.servicesTitle')), h('p.sub', t('review.servicesSub')))),
    h('section.card',
      h('div.toolbar', field({ name: 'status', label: t('common.status'), input: sel })),
      table([
        { label: t('services.name'), cell: (s) => linkTo('/console/review/services/' + s.id, s.name, { dataset: { link: '', service: s.id } }) },
        { label: t('services.app'), cell: (s) => s.application.name },
        { label: t('services.type'), cell: (s) => t('type.' + s.service_type) },
        { label: t('review.request'), cell: (s) => (s.status === 'applied' ? t('review.listingRequest') : s.status === 'live_requested' ? t('review.liveRequest') : '—') },
        { label: t('common.status'), cell: (s) => statusTag('service', s.status) },
        { label: t('common.updatedAt'), cell: (s) => fmtTime(s.updated_at) },
        { label: t('common.actions'), class: 'actions', cell: (s) => linkTo('/console/review/services/' + s.id, ['applied', 'live_requested'].includes(s.status) ? t('review.review') : t('common.view')) },
      ], data.items, t('review.emptyQueue')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}

const SERVICE_DECISIONS = {
  applied: [['approve-listing', false, false], ['reject-listing', true, true]],
  live_requested: [['approve-live', false, false], ['reject-live', true, true]],
  live: [['take-offline', true, true]],
  offline: [['bring-online', true, false]],
};

async function service(ctx) {
  const id = ctx.params.id;
  const [s, tags] = await Promise.all([get('/api/v1/admin/services/' + id), get('/api/v1/admin/tags')]);
  const tagName = (slug) => (tags.items.find((x) => x.slug === slug) || { name: slug }).name;
  const back = () => ctx.go('/console/review/services/' + id, { replace: true });
  const actions = h('div.form-actions', (SERVICE_DECISIONS[s.status] || []).map(([name, needReason, danger]) => decision({
    id: name, label: t('decision.' + name), danger, needReason, confirm: t('review.confirm.' + name, { name: s.name }),
    path: `/api/v1/admin/services/${id}/${name}`, done: () => { toast(t('review.decided')); back(); },
  })));
  const checks = h('ul.checks', { id: 'pre-checks' }, (s.pre_checks || []).map((c) => h('li', { class: c.ok ? 'ok' : 'bad', dataset: { check: c.code, ok: String(c.ok) } },
    h('span.mark', { 'aria-hidden': 'true' }, c.ok ? '✓' : '!'),
    h('div', h('strong', has('check.' + c.code) ? t('check.' + c.code) : c.code), h('div.hint', c.detail)))));
  const files = s.files || {};
  const fileLinks = ['logo', 'functional_report', 'security_report'].map((k) => [t('services.' + k),
    files[k] ? h('a', { href: files[k].url, target: '_blank', rel: 'noopener', dataset: { file: k } }, files[k].filename || t('services.download')) : t('services.file.none')]);
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', s.name), h('p.sub', statusTag('service', s.status))), linkTo('/console/review/services', t('common.backToList'), { class: 'btn' })),
    h('div.grid-2',
      h('section.card', h('h2', t('review.preChecks')), h('p.muted', t('review.preChecksIntro')), checks),
      h('section.card', h('h2', t('services.files')), files.logo ? h('img.logo-preview', { src: files.logo.url, alt: t('services.logo'), id: 'review-logo' }) : null, kv(fileLinks))),
    h('section.card', h('h2', t('services.declaration')), kv([
      [t('services.app'), `${s.application.name} (${s.application.app_code || '—'})`],
      [t('services.channels'), s.channels.map((c) => t('channel.' + c)).join('、')],
      [t('services.type'), t('type.' + s.service_type)],
      [t('services.callbackCode'), h('code', s.module_callback_code)],
      [t('services.moduleCode'), h('code', s.module_code)],
      [t('services.testURL'), s.test_url],
      [t('services.productionURL'), s.production_url || t('services.notSet')],
      [t('services.tags'), s.tags.map(tagName).join('、')],
      [t('services.description'), s.description],
      s.status_reason ? [t('review.lastReason'), s.status_reason] : null,
    ]), actions),
    h('section.card', h('h2', t('review.history')), history(s.decisions)));
}

// Capabilities -----------------------------------------------------------------------

async function grants(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const status = ctx.query.get('status') || 'pending';
  const data = await get('/api/v1/admin/capabilities' + query({ page, page_size: 20, status }));
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('review.grantsTitle')), h('p.sub', t('review.grantsSub')))),
    h('section.card',
      h('div.toolbar', statusFilter(ctx, 'grant', ['pending', 'granted', 'rejected', 'revoked'], status)),
      table([
        { label: t('review.capability'), cell: (g) => linkTo('/console/review/capabilities/' + g.id, t('cap.' + g.capability), { dataset: { link: '', grant: g.id, capability: g.capability, app: g.application_id } }) },
        { label: t('services.app'), cell: (g) => g.application_name },
        { label: t('review.requestedAt'), cell: (g) => fmtTime(g.requested_at) },
        { label: t('common.status'), cell: (g) => statusTag('grant', g.status) },
        { label: t('common.actions'), class: 'actions', cell: (g) => linkTo('/console/review/capabilities/' + g.id, g.status === 'pending' ? t('review.review') : t('common.view')) },
      ], data.items, t('review.emptyQueue')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}

async function grant(ctx) {
  const id = ctx.params.id;
  const g = await get('/api/v1/admin/capabilities/' + id);
  const back = () => ctx.go('/console/review/capabilities/' + id, { replace: true });
  const actions = h('div.form-actions');
  const name = t('cap.' + g.capability);
  if (g.status === 'pending') {
    actions.append(
      decision({ id: 'grant', label: t('decision.grant'), confirm: t('review.confirm.grant', { name, app: g.application_name }), path: `/api/v1/admin/capabilities/${id}/grant`, done: () => { toast(t('review.decided')); back(); } }),
      decision({ id: 'reject', label: t('decision.reject'), danger: true, needReason: true, confirm: t('review.confirm.rejectGrant'), path: `/api/v1/admin/capabilities/${id}/reject`, done: () => { toast(t('review.decided')); back(); } }));
  }
  if (g.status === 'granted') {
    actions.append(decision({ id: 'revoke', label: t('decision.revoke'), danger: true, needReason: true, confirm: t('review.confirm.revoke', { name }), path: `/api/v1/admin/capabilities/${id}/revoke`, done: () => { toast(t('review.decided')); back(); } }));
  }
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', `${name} · ${g.application_name}`), h('p.sub', statusTag('grant', g.status))), linkTo('/console/review/capabilities', t('common.backToList'), { class: 'btn' })),
    h('section.card', kv([
      [t('review.capability'), name],
      [t('services.app'), g.application_name],
      [t('review.requestedAt'), fmtTime(g.requested_at)],
      g.capability === 'sms' ? [t('caps.sign'), g.sms_sign_name] : null,
      g.capability === 'sms' ? [t('caps.form'), g.form ? h('a', { href: g.form.url, target: '_blank', rel: 'noopener', id: 'sms-form-link' }, t('services.download')) : t('caps.formMissing')] : null,
      g.reason ? [t('review.lastReason'), g.reason] : null,
    ]),
    g.templates && g.templates.length ? table([
      { label: t('caps.tplCode'), cell: (x) => h('code', x.code) },
      { label: t('caps.tplName'), cell: (x) => x.name },
      { label: t('caps.tplContent'), cell: (x) => x.content },
    ], g.templates) : null, actions),
    h('section.card', h('h2', t('review.history')), history(g.decisions)));
}
