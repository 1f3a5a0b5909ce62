// 测试用户: the citizens an application's services in testing admit (seed §5.1: the vendor
// gives the administrator the mobile registered in the super-app and the appCode).
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { table, field, rules, check, showErrors, busy, toast, confirmAction, fmtTime } from '../ui.js';

export async function render(ctx) {
  const apps = (await get('/api/v1/admin/applications?status=approved&page_size=100')).items;
  const head = h('div.page-head', h('div', h('h1', t('testers.title')), h('p.sub', t('testers.sub'))));
  if (!apps.length) {
    clear(ctx.main, head, h('div.alert.alert-info', t('testers.noApps')));
    return;
  }
  const appID = apps.some((a) => a.id === ctx.query.get('app')) ? ctx.query.get('app') : apps[0].id;
  const app = apps.find((a) => a.id === appID);
  const sel = h('select', { id: 'tester-app', onchange: (e) => ctx.setQuery({ app: e.target.value }) },
    apps.map((a) => h('option', { value: a.id, selected: a.id === appID }, `${a.name} · ${a.vendor.company_name}`)));
  const list = await get(`/api/v1/admin/applications/${appID}/test-citizens`);
  const reload = () => ctx.go(location.pathname + location.search, { replace: true });
  const mobile = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric', placeholder: '13800000001' });
  const add = h('button.btn-primary', { type: 'submit', id: 'add-tester' }, t('testers.add'));
  const f = h('form.form', { novalidate: true, id: 'tester-form' },
    field({ name: 'mobile', label: t('testers.mobile'), required: true, hint: t('testers.mobileHint'), input: mobile }),
    h('div.form-actions', add));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!check(f, { mobile: rules.mobile(mobile.value.trim()) })) return;
    busy(add, async () => {
      try {
        await post(`/api/v1/admin/applications/${appID}/test-citizens`, { mobile: mobile.value.trim() });
        toast(t('testers.added'));
        reload();
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  clear(ctx.main, head,
    h('section.card', h('div.toolbar', field({ name: 'app', label: t('services.app'), input: sel })),
      h('p.muted', 'appCode ', h('code', app.app_code))),
    h('section.card', h('h2', t('testers.add')), f),
    h('section.card', h('h2', t('testers.list')), table([
      { label: t('testers.mobile'), cell: (c) => h('span', { dataset: { tester: c.mobile } }, c.mobile) },
      { label: t('testers.addedAt'), cell: (c) => fmtTime(c.added_at) },
      {
        label: t('common.actions'), class: 'actions', cell: (c) => h('button.btn-sm.btn-danger', {
          type: 'button', onclick: async () => {
            if (!await confirmAction({ title: t('testers.remove'), message: t('testers.removeConfirm', { mobile: c.mobile }), confirmLabel: t('testers.remove'), danger: true })) return;
            try { await del(`/api/v1/admin/applications/${appID}/test-citizens/${c.citizen_id}`); toast(t('testers.removed')); reload(); } catch (err) { toast(err.message, 'error'); }
          },
        }, t('testers.remove')),
      },
    ], list.items, t('testers.empty'))));
}
