// 消息通知 and Webhook 设置: the vendor's inbox of decisions and the webhook endpoints they
// are delivered to (the notifications function; the menu shows these pages only when its
// API answers).
import { h, clear } from '../dom.js';
import { t, has } from '../i18n.js';
import { get, post, del, query } from '../api.js';
import {
  statusTag, fmtTime, table, pager, field, rules, check, showErrors, busy, toast, confirmAction, openDialog, copyButton,
} from '../ui.js';

export async function render(ctx) {
  return ctx.view === 'webhooks' ? webhooks(ctx) : inbox(ctx);
}

async function inbox(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const unread = ctx.query.get('unread') === 'true';
  const data = await get('/api/v1/notifications' + query({ page, page_size: 20, unread: unread ? 'true' : '' }));
  const reload = async () => { await ctx.refreshMenu(); ctx.go(location.pathname + location.search, { replace: true }); };
  const onlyUnread = h('input', { type: 'checkbox', id: 'only-unread', checked: unread, onchange: (e) => ctx.setQuery({ unread: e.target.checked ? 'true' : '', page: '' }) });
  const markAll = h('button', { type: 'button', id: 'mark-all-read', disabled: !data.unread }, t('notes.markAll'));
  markAll.addEventListener('click', () => busy(markAll, async () => {
    await post('/api/v1/notifications/read-all');
    reload();
  }));
  const items = data.items.map((m) => h('div.item-card', { class: m.read_at ? null : 'unread', dataset: { note: m.id } },
    h('strong', m.title), h('div', m.body),
    h('div.meta', fmtTime(m.created_at), ' · ', eventName(m.event_type),
      m.link ? [' · ', h('a', { href: m.link, dataset: m.link.startsWith('/console/') ? { link: '' } : {} }, t('notes.open'))] : null,
      m.read_at ? null : [' · ', h('button.btn-link', {
        type: 'button', onclick: async () => { await post(`/api/v1/notifications/${m.id}/read`); reload(); },
      }, t('notes.markRead'))])));
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('notes.title')), h('p.sub', t('notes.sub', { unread: data.unread || 0 }))), markAll),
    h('section.card',
      h('div.toolbar', h('label.inline', onlyUnread, t('notes.onlyUnread'))),
      items.length ? h('div.templates', items) : h('p.empty', t('notes.empty')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}

function eventName(type) {
  const key = 'notes.type.' + type.replace(/^cn\.jinlaiban\.openplatform\./, '').replace(/\.v\d+$/, '');
  return has(key) ? t(key) : type;
}

function showSecret(e) {
  openDialog({
    title: t('hooks.secretTitle'),
    body: [h('div.alert.alert-warn', t('hooks.secretOnce')), h('div.secret-box', h('code.secret', e.secret), copyButton(e.secret)), h('p.hint', t('hooks.verifyHint'))],
    actions: [{ label: t('common.close'), id: 'close', kind: 'primary' }],
  });
}

async function webhooks(ctx) {
  const data = await get('/api/v1/webhooks');
  const reload = () => ctx.go(location.pathname + location.search, { replace: true });
  const url = h('input', { type: 'url', maxlength: 2048, placeholder: 'https://' });
  const description = h('input', { type: 'text', maxlength: 200 });
  const add = h('button.btn-primary', { type: 'submit', id: 'add-webhook' }, t('hooks.add'));
  const f = h('form.form', { novalidate: true, id: 'webhook-form' },
    field({ name: 'url', label: t('hooks.url'), required: true, hint: t('hooks.urlHint'), input: url }),
    field({ name: 'description', label: t('hooks.description'), input: description }),
    h('div.form-actions', add));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!check(f, { url: rules.url(url.value.trim()), description: description.value ? rules.line(description.value, 1, 200) : '' })) return;
    busy(add, async () => {
      try {
        const created = await post('/api/v1/webhooks', { url: url.value.trim(), description: description.value.trim() });
        showSecret(created);
        reload();
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  const rows = table([
    { label: t('hooks.url'), cell: (e) => h('code', e.url) },
    { label: t('hooks.description'), cell: (e) => e.description || '—' },
    { label: t('common.createdAt'), cell: (e) => fmtTime(e.created_at) },
    { label: t('hooks.rotation'), cell: (e) => (e.previous_secret_valid_until ? t('hooks.previousUntil', { at: fmtTime(e.previous_secret_valid_until) }) : '—') },
    {
      label: t('common.actions'), class: 'actions', cell: (e) => [
        h('button.btn-sm', { type: 'button', onclick: () => deliveries(e) }, t('hooks.deliveries')), ' ',
        h('button.btn-sm', {
          type: 'button', onclick: async () => {
            if (!await confirmAction({ title: t('hooks.rotate'), message: t('hooks.rotateConfirm'), confirmLabel: t('hooks.rotate'), danger: true })) return;
            try { showSecret(await post(`/api/v1/webhooks/${e.id}/rotate-secret`)); reload(); } catch (err) { toast(err.message, 'error'); }
          },
        }, t('hooks.rotate')), ' ',
        h('button.btn-sm.btn-danger', {
          type: 'button', onclick: async () => {
            if (!await confirmAction({ title: t('hooks.delete'), message: t('hooks.deleteConfirm', { url: e.url }), confirmLabel: t('hooks.delete'), danger: true })) return;
            try { await del(`/api/v1/webhooks/${e.id}`); toast(t('hooks.deleted')); reload(); } catch (err) { toast(err.message, 'error'); }
          },
        }, t('hooks.delete')),
      ],
    },
  ], data.items, t('hooks.empty'));
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('hooks.title')), h('p.sub', t('hooks.sub')))),
    h('section.card', h('h2', t('hooks.list')), rows),
    h('section.card', h('h2', t('hooks.add')), f));
}

async function deliveries(e) {
  const body = h('div');
  let page = 1;
  const draw = async () => {
    const d = await get(`/api/v1/webhooks/${e.id}/deliveries` + query({ page, page_size: 10 }));
    clear(body, table([
      { label: t('hooks.event'), cell: (x) => eventName(x.event_type) },
      { label: t('common.status'), cell: (x) => statusTag('delivery', x.status) },
      { label: t('hooks.attempts'), cell: (x) => String(x.attempts) },
      { label: t('hooks.lastAnswer'), cell: (x) => x.last_status_code ? String(x.last_status_code) : (x.last_error || '—') },
      { label: t('common.createdAt'), cell: (x) => fmtTime(x.created_at) },
      {
        label: t('common.actions'), cell: (x) => h('button.btn-sm', {
          type: 'button', onclick: async () => {
            if (!await confirmAction({ title: t('hooks.redeliver'), message: t('hooks.redeliverConfirm'), confirmLabel: t('hooks.redeliver') })) return;
            try { await post(`/api/v1/webhooks/deliveries/${x.id}/redeliver`); toast(t('hooks.redelivered')); draw(); } catch (err) { toast(err.message, 'error'); }
          },
        }, t('hooks.redeliver')),
      },
    ], d.items, t('hooks.noDeliveries')), pager(d, (p) => { page = p; draw(); }));
  };
  openDialog({ title: t('hooks.deliveriesOf', { url: e.url }), body, actions: [{ label: t('common.close'), kind: 'primary' }] });
  await draw();
}
