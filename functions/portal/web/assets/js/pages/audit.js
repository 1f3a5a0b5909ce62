// 审计日志: who did what to which subject, when (sign-ins of secrets views, decisions,
// account changes); filtered by action prefix, subject and time.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, query } from '../api.js';
import { table, pager, field, check, fmtTime, errorBox } from '../ui.js';

const toLocalInput = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

export async function render(ctx) {
  const q = ctx.query;
  const page = Number(q.get('page') || 1);
  const filters = { action: q.get('action') || '', subject_type: q.get('subject_type') || '', subject_id: q.get('subject_id') || '', actor_id: q.get('actor_id') || '', from: q.get('from') || '', to: q.get('to') || '' };
  const action = h('input', { type: 'search', value: filters.action, placeholder: 'application.' });
  const subjectType = h('select', {}, ['', 'application', 'service', 'capability', 'account', 'tag', 'citizen'].map((s) => h('option', { value: s, selected: s === filters.subject_type }, s || t('common.all'))));
  const subjectID = h('input', { type: 'search', value: filters.subject_id, maxlength: 100 });
  const actorID = h('input', { type: 'search', value: filters.actor_id, maxlength: 36 });
  const from = h('input', { type: 'datetime-local', value: toLocalInput(filters.from) });
  const to = h('input', { type: 'datetime-local', value: toLocalInput(filters.to) });
  const search = h('button.btn-primary', { type: 'submit', id: 'audit-search' }, t('audit.search'));
  const reset = h('button', { type: 'button', onclick: () => ctx.go('/console/audit') }, t('audit.reset'));
  const f = h('form.form', { novalidate: true, id: 'audit-form' },
    h('div.grid-2',
      field({ name: 'action', label: t('audit.action'), hint: t('audit.actionHint'), input: action }),
      field({ name: 'subject_type', label: t('audit.subjectType'), input: subjectType }),
      field({ name: 'subject_id', label: t('audit.subjectID'), input: subjectID }),
      field({ name: 'actor_id', label: t('audit.actorID'), input: actorID }),
      field({ name: 'from', label: t('audit.from'), input: from }),
      field({ name: 'to', label: t('audit.to'), input: to })),
    h('div.form-actions', search, reset));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const iso = (v) => (v ? new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
    if (!check(f, {
      actor_id: actorID.value && actorID.value.length !== 36 ? t('audit.badActor') : '',
      to: from.value && to.value && new Date(from.value) > new Date(to.value) ? t('audit.badRange') : '',
    })) return;
    ctx.setQuery({ action: action.value.trim(), subject_type: subjectType.value, subject_id: subjectID.value.trim(), actor_id: actorID.value.trim(), from: iso(from.value), to: iso(to.value), page: '' });
  });
  let results;
  try {
    const data = await get('/api/v1/admin/audit' + query({ page, page_size: 20, ...filters }));
    results = [table([
      { label: t('audit.at'), cell: (e) => fmtTime(e.at) },
      { label: t('audit.actor'), cell: (e) => [e.actor_login || e.actor_id || '—', h('span.muted', ` (${e.actor_role})`)] },
      { label: t('audit.action'), cell: (e) => h('code', e.action) },
      { label: t('audit.subject'), cell: (e) => [e.subject_type, ' ', h('code', e.subject_id)] },
      { label: t('audit.detail'), cell: (e) => (e.detail && Object.keys(e.detail).length ? h('code', JSON.stringify(e.detail)) : '—') },
    ], data.items, t('audit.empty')), pager(data, (p) => ctx.setQuery({ page: p }))];
  } catch (err) {
    results = [errorBox(err)];
  }
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('audit.title')), h('p.sub', t('audit.sub')))),
    h('section.card', f),
    h('section.card', { id: 'audit-results' }, results));
}
