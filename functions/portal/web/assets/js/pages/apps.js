// 申报应用: a vendor's applications (seed §3): declare, edit, submit for review, see the
// decision and the reviewer's reason, and, once approved, view the appCode and appSecret
// (only in an explicit view, never on a page otherwise) and rotate the secret.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, put, query } from '../api.js';
import {
  statusTag, fmtTime, table, pager, field, rules, check, showErrors, busy, toast, linkTo, kv,
  confirmAction, openDialog, copyButton, errorBox,
} from '../ui.js';

export async function render(ctx) {
  if (ctx.view === 'list') return list(ctx);
  if (ctx.view === 'form') return form(ctx);
  return detail(ctx);
}

const STATUSES = ['draft', 'pending', 'approved', 'rejected'];

function levelText(a) {
  return a.needs_user_info ? t('level.' + a.user_info_level) : t('apps.noUserInfo');
}

async function list(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const status = ctx.query.get('status') || '';
  const data = await get('/api/v1/apps' + query({ page, page_size: 20, status }));
  const filter = h('select', { id: 'filter-status', onchange: (e) => ctx.setQuery({ status: e.target.value, page: '' }) },
    h('option', { value: '' }, t('common.all')),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, t('status.app.' + s))));
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('apps.title')), h('p.sub', t('apps.sub'))),
      linkTo('/console/apps/new', t('apps.new'), { class: 'btn btn-primary', id: 'new-app' })),
    h('section.card',
      h('div.toolbar', field({ name: 'status', label: t('common.status'), input: filter })),
      table([
        { label: t('apps.name'), cell: (a) => linkTo('/console/apps/' + a.id, a.name, { dataset: { link: '', app: a.id } }) },
        { label: t('apps.contact'), cell: (a) => a.contact_name },
        { label: t('apps.level'), cell: levelText },
        { label: t('apps.declaredAt'), cell: (a) => fmtTime(a.declared_at || a.created_at) },
        { label: t('common.status'), cell: (a) => statusTag('app', a.status) },
        { label: t('common.actions'), class: 'actions', cell: (a) => linkTo('/console/apps/' + a.id, t('common.view')) },
      ], data.items, t('apps.empty')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}

async function form(ctx) {
  const id = ctx.params.id;
  const a = id ? await get('/api/v1/apps/' + id) : null;
  const name = h('input', { type: 'text', maxlength: 100, value: a ? a.name : '' });
  const contact = h('input', { type: 'text', maxlength: 50, value: a ? a.contact_name : '' });
  const mobile = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric', value: a ? a.contact_mobile : '' });
  const needs = (v) => h('input', { type: 'radio', name: 'needs_user_info', value: v, checked: a ? String(a.needs_user_info) === v : v === 'true' });
  const yes = needs('true');
  const no = needs('false');
  const needsSet = h('fieldset.choices', h('label', yes, t('common.yes')), h('label', no, t('common.no')));
  const level = h('select', {},
    h('option', { value: '' }, t('common.choose')),
    ['basic', 'identity', 'real_name'].map((l) => h('option', { value: l, selected: a && a.user_info_level === l }, `${t('level.' + l)} — ${t('level.' + l + '.fields')}`)));
  const levelField = field({ name: 'user_info_level', label: t('apps.level'), required: true, hint: t('apps.levelHint'), input: level });
  const syncLevel = () => { levelField.hidden = !yes.checked; };
  yes.addEventListener('change', syncLevel);
  no.addEventListener('change', syncLevel);
  syncLevel();
  const description = h('textarea', { maxlength: 2000, rows: 5 }, a ? a.description : '');
  const save = h('button', { type: 'submit', value: 'save', id: 'save-app' }, t('apps.saveDraft'));
  const submitBtn = h('button.btn-primary', { type: 'submit', value: 'submit', id: 'save-submit-app' }, t('apps.saveSubmit'));
  const f = h('form.form', { novalidate: true, id: 'app-form' },
    a && a.status === 'rejected' ? rejection(a) : null,
    field({ name: 'name', label: t('apps.name'), required: true, hint: t('apps.nameHint'), input: name }),
    field({ name: 'contact_name', label: t('apps.contact'), required: true, input: contact }),
    field({ name: 'contact_mobile', label: t('apps.mobile'), required: true, hint: t('apps.mobileHint'), input: mobile }),
    field({ name: 'needs_user_info', label: t('apps.needsUserInfo'), required: true, input: needsSet }),
    levelField,
    field({ name: 'description', label: t('apps.description'), required: true, hint: t('apps.descriptionHint'), input: description }),
    h('div.form-actions', save, a && a.status === 'pending' ? null : submitBtn, linkTo(id ? '/console/apps/' + id : '/console/apps', t('common.cancel'), { class: 'btn' })));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const andSubmit = e.submitter === submitBtn;
    const body = {
      name: name.value.trim(), contact_name: contact.value.trim(), contact_mobile: mobile.value.trim(),
      needs_user_info: yes.checked, user_info_level: yes.checked ? level.value : '', description: description.value.trim(),
    };
    const problems = {
      name: rules.line(body.name, 2, 100), contact_name: rules.line(body.contact_name, 1, 50),
      contact_mobile: rules.mobile(body.contact_mobile), description: rules.text(body.description, 10, 2000),
      user_info_level: body.needs_user_info && !body.user_info_level ? t('v.required') : '',
      needs_user_info: yes.checked || no.checked ? '' : t('v.required'),
    };
    if (!check(f, problems)) return;
    busy(e.submitter || save, async () => {
      try {
        const saved = id ? await put('/api/v1/apps/' + id, body) : await post('/api/v1/apps', body);
        if (andSubmit) await post('/api/v1/apps/' + saved.id + '/submit');
        toast(t(andSubmit ? 'apps.submitted' : 'apps.saved'));
        ctx.go('/console/apps/' + saved.id);
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t(id ? 'apps.editTitle' : 'apps.newTitle')), h('p.sub', t('apps.formSub')))),
    h('section.card', f));
}

function rejection(a) {
  return h('div.alert.alert-error', { id: 'reject-reason', role: 'note' }, h('strong', t('apps.rejectedBecause')), a.reject_reason);
}

async function detail(ctx) {
  const id = ctx.params.id;
  const a = await get('/api/v1/apps/' + id);
  const actions = h('div.form-actions');
  if (['draft', 'pending', 'rejected'].includes(a.status)) {
    actions.append(linkTo(`/console/apps/${id}/edit`, t('common.edit'), { class: 'btn', id: 'edit-app' }));
  }
  if (['draft', 'rejected'].includes(a.status)) {
    const b = h('button.btn-primary', { type: 'button', id: 'submit-app' }, t(a.status === 'rejected' ? 'apps.resubmit' : 'apps.submit'));
    b.addEventListener('click', async () => {
      if (!await confirmAction({ title: t('apps.submitConfirmTitle'), message: t('apps.submitConfirm'), confirmLabel: t('apps.submit') })) return;
      busy(b, async () => {
        try {
          await post(`/api/v1/apps/${id}/submit`);
          toast(t('apps.submitted'));
          ctx.go('/console/apps/' + id, { replace: true });
        } catch (err) {
          toast(err.message, 'error');
        }
      });
    });
    actions.append(b);
  }
  const parts = [
    h('div.page-head',
      h('div', h('h1', a.name), h('p.sub', statusTag('app', a.status))),
      linkTo('/console/apps', t('common.backToList'), { class: 'btn' })),
  ];
  if (a.status === 'rejected') parts.push(rejection(a));
  if (a.status === 'pending') parts.push(h('div.alert.alert-info', t('apps.pendingNote')));
  parts.push(h('section.card', h('h2', t('apps.declaration')),
    kv([
      [t('apps.name'), a.name],
      [t('apps.declaredAt'), fmtTime(a.declared_at || a.created_at)],
      [t('apps.contact'), a.contact_name],
      [t('apps.mobile'), a.contact_mobile],
      [t('apps.needsUserInfo'), a.needs_user_info ? t('common.yes') : t('common.no')],
      a.needs_user_info ? [t('apps.level'), `${t('level.' + a.user_info_level)} (${t('level.' + a.user_info_level + '.fields')})`] : null,
      [t('apps.description'), a.description],
      [t('common.status'), statusTag('app', a.status)],
      a.app_code ? ['appCode', h('code', { id: 'app-code' }, a.app_code)] : null,
    ]), actions));
  if (a.status === 'approved') parts.push(credentials(ctx, a));
  clear(ctx.main, parts);
}

// AppCode 和 AppSecret 查看: the secrets are fetched only when asked for (each view is
// audit-logged) and shown in a dialog that leaves the page when closed.
function credentials(ctx, a) {
  const view = h('button.btn-primary', { type: 'button', id: 'view-credentials' }, t('creds.view'));
  view.addEventListener('click', () => busy(view, async () => {
    try {
      const c = await get(`/api/v1/apps/${a.id}/credentials`);
      showCredentials(c);
    } catch (err) {
      toast(err.message, 'error');
    }
  }));
  const env = h('select', { id: 'rotate-env' }, h('option', { value: 'test' }, t('creds.env.test')), h('option', { value: 'production' }, t('creds.env.production')));
  const overlap = h('input', { type: 'number', min: 0, max: 720, value: 24, id: 'rotate-overlap' });
  const rotate = h('button.btn-danger', { type: 'submit', id: 'rotate-secret' }, t('creds.rotate'));
  const f = h('form.form', { novalidate: true, id: 'rotate-form' },
    h('div.grid-2',
      field({ name: 'environment', label: t('creds.environment'), input: env }),
      field({ name: 'overlap_hours', label: t('creds.overlap'), hint: t('creds.overlapHint'), input: overlap })),
    h('div.form-actions', rotate));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const hours = Number(overlap.value);
    if (!check(f, { overlap_hours: Number.isInteger(hours) && hours >= 0 && hours <= 720 ? '' : t('v.range', { min: 0, max: 720 }) })) return;
    if (!await confirmAction({ title: t('creds.rotateTitle'), message: t('creds.rotateConfirm', { hours }), confirmLabel: t('creds.rotate'), danger: true })) return;
    busy(rotate, async () => {
      try {
        const r = await post(`/api/v1/apps/${a.id}/secrets`, { environment: env.value, overlap_hours: hours });
        showCredentials({ app_code: a.app_code, secrets: r.secrets }, r.new);
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  return h('section.card', { id: 'credentials' },
    h('h2', t('creds.title')),
    h('p.muted', t('creds.intro')),
    h('div.form-actions', view),
    h('h3', t('creds.rotateTitle')),
    h('p.muted', t('creds.rotateIntro')),
    f);
}

function showCredentials(c, fresh) {
  const rows = c.secrets.map((s) => h('div.field', { dataset: { secretEnv: s.environment } },
    h('span.label', `${t('creds.env.' + s.environment)} appSecret${fresh && fresh.id === s.id ? ' · ' + t('creds.new') : ''}`),
    h('div.secret-box', h('code.secret', s.secret), copyButton(s.secret)),
    h('div.hint', [t('creds.created', { at: fmtTime(s.created_at) }), s.expires_at ? t('creds.expires', { at: fmtTime(s.expires_at) }) : null,
      s.last_used_at ? t('creds.lastUsed', { at: fmtTime(s.last_used_at) }) : t('creds.neverUsed')].filter(Boolean).join(' · '))));
  openDialog({
    title: t('creds.title'),
    body: [
      h('div.alert.alert-warn', t('creds.warning')),
      h('div.field', h('span.label', 'appCode'), h('div.secret-box', h('code', { id: 'dlg-app-code' }, c.app_code), copyButton(c.app_code)), h('div.hint', t('creds.appCodeHint'))),
      rows,
      h('p.hint', t('creds.secretHint')),
    ],
    actions: [{ label: t('common.close'), id: 'close', kind: 'primary' }],
  });
}

export { errorBox };
