// 标签: the themes services are filed under (seed §7.2); vendors choose from this list.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { table, field, rules, check, showErrors, busy, toast, confirmAction } from '../ui.js';

export async function render(ctx) {
  const data = await get('/api/v1/admin/tags');
  const reload = () => ctx.go(location.pathname, { replace: true });
  const slug = h('input', { type: 'text', maxlength: 40, class: 'mono', placeholder: 'housing-fund' });
  const name = h('input', { type: 'text', maxlength: 20, placeholder: '住房公积金' });
  const order = h('input', { type: 'number', value: 0, step: 1 });
  const add = h('button.btn-primary', { type: 'submit', id: 'add-tag' }, t('tags.add'));
  const f = h('form.form', { novalidate: true, id: 'tag-form' },
    h('div.grid-2',
      field({ name: 'slug', label: t('tags.slug'), required: true, hint: t('tags.slugHint'), input: slug }),
      field({ name: 'name', label: t('tags.name'), required: true, input: name }),
      field({ name: 'sort_order', label: t('tags.order'), input: order })),
    h('div.form-actions', add));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { slug: slug.value.trim(), name: name.value.trim(), sort_order: Number(order.value || 0) };
    if (!check(f, {
      slug: /^[a-z0-9][a-z0-9-]{1,39}$/.test(body.slug) ? '' : t('v.slug'),
      name: rules.line(body.name, 1, 20),
      sort_order: Number.isInteger(body.sort_order) ? '' : t('v.integer'),
    })) return;
    busy(add, async () => {
      try {
        await post('/api/v1/admin/tags', body);
        toast(t('tags.added'));
        reload();
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('tags.title')), h('p.sub', t('tags.sub')))),
    h('section.card', h('h2', t('tags.list')), table([
      { label: t('tags.name'), cell: (x) => x.name },
      { label: t('tags.slug'), cell: (x) => h('code', x.slug) },
      { label: t('tags.order'), cell: (x) => String(x.sort_order) },
      {
        label: t('common.actions'), class: 'actions', cell: (x) => h('button.btn-sm.btn-danger', {
          type: 'button', onclick: async () => {
            if (!await confirmAction({ title: t('tags.delete'), message: t('tags.deleteConfirm', { name: x.name }), confirmLabel: t('tags.delete'), danger: true })) return;
            try { await del('/api/v1/admin/tags/' + encodeURIComponent(x.slug)); toast(t('tags.deleted')); reload(); } catch (err) { toast(err.message, 'error'); }
          },
        }, t('tags.delete')),
      },
    ], data.items, t('tags.empty'))),
    h('section.card', h('h2', t('tags.add')), f));
}
