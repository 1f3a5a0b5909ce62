// 厂商账号: administrators issue vendor accounts (no self sign-up), disable and re-enable
// them with a reason, and reset their password. Initial passwords are shown once.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, query } from '../api.js';
import {
  statusTag, fmtTime, table, pager, field, rules, check, showErrors, busy, toast, confirmAction, reasonDialog, openDialog, copyButton,
} from '../ui.js';

function showPassword(title, login, password) {
  openDialog({
    title,
    body: [
      h('div.alert.alert-warn', t('vendors.passwordOnce')),
      h('div.field', h('span.label', t('login.login')), h('div.secret-box', h('code', login))),
      h('div.field', h('span.label', t('vendors.initialPassword')), h('div.secret-box', h('code', { id: 'initial-password' }, password), copyButton(password))),
      h('p.hint', t('vendors.passwordHint')),
    ],
    actions: [{ label: t('common.close'), id: 'close', kind: 'primary' }],
  });
}

export async function render(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const data = await get('/api/v1/admin/vendors' + query({ page, page_size: 20 }));
  const reload = () => ctx.go(location.pathname + location.search, { replace: true });

  const company = h('input', { type: 'text', maxlength: 100 });
  const contact = h('input', { type: 'text', maxlength: 50 });
  const mobile = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric' });
  const login = h('input', { type: 'text', maxlength: 32, autocomplete: 'off' });
  const initial = h('input', { type: 'text', maxlength: 128, autocomplete: 'off' });
  const issue = h('button.btn-primary', { type: 'submit', id: 'issue-vendor' }, t('vendors.issue'));
  const f = h('form.form', { novalidate: true, id: 'vendor-form' },
    h('div.grid-2',
      field({ name: 'company_name', label: t('vendors.company'), required: true, input: company }),
      field({ name: 'login', label: t('login.login'), required: true, hint: t('vendors.loginHint'), input: login }),
      field({ name: 'contact_name', label: t('apps.contact'), required: true, input: contact }),
      field({ name: 'contact_mobile', label: t('apps.mobile'), required: true, input: mobile }),
      field({ name: 'initial_password', label: t('vendors.initialPassword'), hint: t('vendors.initialHint'), input: initial })),
    h('div.form-actions', issue));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {
      company_name: company.value.trim(), contact_name: contact.value.trim(), contact_mobile: mobile.value.trim(), login: login.value.trim(),
    };
    if (initial.value) body.initial_password = initial.value;
    const problems = {
      company_name: rules.line(body.company_name, 2, 100), contact_name: rules.line(body.contact_name, 1, 50),
      contact_mobile: rules.mobile(body.contact_mobile), login: rules.login(body.login),
      initial_password: initial.value ? rules.password(initial.value, body.login) : '',
    };
    if (!check(f, problems)) return;
    busy(issue, async () => {
      try {
        const v = await post('/api/v1/admin/vendors', body);
        f.reset();
        showPassword(t('vendors.issued'), v.login, v.initial_password);
        reload();
      } catch (err) {
        showErrors(f, err);
      }
    });
  });

  const actions = (v) => {
    const out = [];
    if (v.status === 'active') {
      out.push(h('button.btn-sm.btn-danger', {
        type: 'button', dataset: { disable: v.login }, onclick: async () => {
          const r = await reasonDialog({
            title: t('vendors.disable'), message: t('vendors.disableConfirm', { login: v.login }), confirmLabel: t('vendors.disable'),
            min: 2, max: 500, submit: (reason) => post(`/api/v1/admin/vendors/${v.id}/disable`, { reason }),
          });
          if (r) { toast(t('vendors.disabled')); reload(); }
        },
      }, t('vendors.disable')));
    } else {
      out.push(h('button.btn-sm', {
        type: 'button', dataset: { enable: v.login }, onclick: async () => {
          if (!await confirmAction({ title: t('vendors.enable'), message: t('vendors.enableConfirm', { login: v.login }), confirmLabel: t('vendors.enable') })) return;
          try { await post(`/api/v1/admin/vendors/${v.id}/enable`); toast(t('vendors.enabled')); reload(); } catch (err) { toast(err.message, 'error'); }
        },
      }, t('vendors.enable')));
    }
    out.push(' ', h('button.btn-sm', {
      type: 'button', dataset: { reset: v.login }, onclick: async () => {
        if (!await confirmAction({ title: t('vendors.reset'), message: t('vendors.resetConfirm', { login: v.login }), confirmLabel: t('vendors.reset'), danger: true })) return;
        try {
          const r = await post(`/api/v1/admin/vendors/${v.id}/password-reset`);
          showPassword(t('vendors.resetDone'), v.login, r.initial_password);
        } catch (err) { toast(err.message, 'error'); }
      },
    }, t('vendors.reset')));
    return out;
  };

  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('vendors.title')), h('p.sub', t('vendors.sub')))),
    h('section.card', h('h2', t('vendors.issueTitle')), f),
    h('section.card', h('h2', t('vendors.list')),
      table([
        { label: t('vendors.company'), cell: (v) => v.company_name },
        { label: t('login.login'), cell: (v) => h('code', v.login) },
        { label: t('apps.contact'), cell: (v) => `${v.contact_name} ${v.contact_mobile}` },
        { label: t('common.status'), cell: (v) => [statusTag('vendor', v.status), v.must_change_password ? [' ', h('span.tag.tag-orange', t('vendors.mustChange'))] : null, v.disabled_reason ? h('div.hint', v.disabled_reason) : null] },
        { label: t('common.createdAt'), cell: (v) => fmtTime(v.created_at) },
        { label: t('common.actions'), class: 'actions', cell: actions },
      ], data.items, t('vendors.empty')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}
