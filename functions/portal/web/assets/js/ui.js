// Shared pieces of the console: status tags, tables, pagination, dialogs, forms with field
// errors (the client's checks and the server's invalid_params), uploads with progress.
import { h, clear } from './dom.js';
import { t } from './i18n.js';
import { ApiError, putFile, fileType, post } from './api.js';

// Status → tag colour, per kind of thing.
const COLOURS = {
  app: { draft: 'grey', pending: 'orange', approved: 'green', rejected: 'red' },
  service: { testing: 'blue', applied: 'orange', approved: 'purple', live_requested: 'orange', live: 'green', offline: 'grey' },
  grant: { none: 'grey', draft: 'grey', pending: 'orange', granted: 'green', rejected: 'red', revoked: 'red' },
  vendor: { active: 'green', disabled: 'red' },
  todo: { open: 'blue', done: 'green', cancelled: 'grey' },
  delivery: { pending: 'orange', delivered: 'green', failed: 'red' },
};

export function statusTag(kind, status) {
  const colour = (COLOURS[kind] || {})[status] || 'grey';
  return h('span.tag.tag-' + colour, { dataset: { status } }, t(`status.${kind}.${status}`));
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDate(iso) {
  return iso ? fmtTime(iso).slice(0, 10) : '—';
}

/** toast shows a short message in the corner. */
export function toast(message, kind = 'ok') {
  let box = document.querySelector('.toasts');
  if (!box) {
    box = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const el = h('div.toast.' + kind, message);
  box.append(el);
  setTimeout(() => el.remove(), 4000);
}

export const loading = () => h('div.loading', t('common.loading'));

export function errorBox(err) {
  const detail = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
  return h('div.alert.alert-error', { role: 'alert' }, h('strong', t('common.error')), detail);
}

/** table draws rows under columns: [{label, cell(row) → Node|string, class}]. */
export function table(columns, rows, emptyText) {
  const head = h('tr', columns.map((c) => h('th', { scope: 'col' }, c.label)));
  const body = rows.length
    ? rows.map((r) => h('tr', columns.map((c) => h('td', { class: c.class }, c.cell(r)))))
    : [h('tr', h('td.empty', { colspan: columns.length }, emptyText || t('common.empty')))];
  return h('div.table-wrap', h('table.data', h('thead', head), h('tbody', body)));
}

/** pager draws "page x of y" with previous / next for a {page, page_size, total} answer. */
export function pager(p, go) {
  const pages = Math.max(1, Math.ceil((p.total || 0) / (p.page_size || 20)));
  return h('nav.pager', { 'aria-label': t('common.pagination') },
    h('span', t('common.total', { total: p.total || 0 })),
    h('button.btn-sm', { type: 'button', disabled: p.page <= 1, dataset: { page: 'prev' }, onclick: () => go(p.page - 1) }, t('common.prev')),
    h('span', t('common.pageOf', { page: p.page, pages })),
    h('button.btn-sm', { type: 'button', disabled: p.page >= pages, dataset: { page: 'next' }, onclick: () => go(p.page + 1) }, t('common.next')));
}

/**
 * openDialog shows a modal <dialog>; it is removed from the page when closed, so nothing it
 * showed (a secret, a password) stays in the document.
 */
export function openDialog({ title, body, actions = [], wide = false, onClose }) {
  const dlg = h('dialog', { 'aria-labelledby': 'dlg-title', class: wide ? 'wide' : null });
  let closed = false;
  const close = (value) => {
    if (closed) return;
    closed = true;
    if (dlg.open) dlg.close();
    dlg.remove();
    if (onClose) onClose(value);
  };
  const footer = h('div.dialog-actions', actions.map((a) => h('button', {
    type: 'button', class: a.kind ? 'btn-' + a.kind : null, dataset: { action: a.id || '' },
    onclick: () => (a.onclick ? a.onclick(close) : close(a.value)),
  }, a.label)));
  dlg.append(h('div.dialog-head', h('h2', { id: 'dlg-title' }, title)), h('div.dialog-body', body), footer);
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(null); });
  document.body.append(dlg);
  dlg.showModal();
  return { el: dlg, close, body: dlg.querySelector('.dialog-body'), footer };
}

/** confirmAction asks before a destructive or irreversible step; resolves true or false. */
export function confirmAction({ title, message, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    openDialog({
      title, body: h('p', message), onClose: (v) => resolve(v === true),
      actions: [
        { label: t('common.cancel'), id: 'cancel', value: false },
        { label: confirmLabel || t('common.confirm'), id: 'confirm', kind: danger ? 'danger solid' : 'primary', value: true },
      ],
    });
  });
}

/**
 * reasonDialog asks for a reason (2-1000 characters unless said otherwise) and runs
 * submit(reason); the server's problem shows in the dialog. Resolves submit's result, or
 * null when cancelled.
 */
export function reasonDialog({ title, message, label, confirmLabel, danger = true, min = 2, max = 1000, submit }) {
  return new Promise((resolve) => {
    const input = h('textarea', { id: 'f-reason', name: 'reason', maxlength: max, rows: 4 });
    const form = h('form.form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
      message ? h('p', message) : null,
      field({ name: 'reason', label: label || t('common.reason'), required: true, hint: t('common.reasonHint', { min, max }), input }));
    let result = null;
    const d = openDialog({
      title, body: form, onClose: () => resolve(result),
      actions: [
        { label: t('common.cancel'), id: 'cancel', value: null },
        {
          label: confirmLabel || t('common.confirm'), id: 'confirm', kind: danger ? 'danger solid' : 'primary',
          onclick: async (close) => {
            clearErrors(form);
            const v = input.value.trim();
            const problem = rules.text(v, min, max);
            if (problem) return setError(form, 'reason', problem);
            try {
              result = await submit(v);
              close(result);
            } catch (err) {
              showErrors(form, err);
            }
          },
        },
      ],
    });
    setTimeout(() => input.focus(), 0);
    void d;
  });
}

// Forms ------------------------------------------------------------------------------

/** field wraps an input with its label, hint and the place for its error. */
export function field({ name, label, required = false, hint, input, id }) {
  const fid = id || 'f-' + name.replace(/[^\w-]/g, '-');
  if (input && !input.id && input.tagName !== 'FIELDSET' && input.tagName !== 'DIV') input.id = fid;
  if (input && input.name !== undefined && !input.name && input.tagName !== 'FIELDSET') input.name = name;
  const labelEl = input && (input.tagName === 'FIELDSET' || input.tagName === 'DIV')
    ? h('span.label', { class: required ? 'req' : null, id: fid + '-label' }, label)
    : h('label', { for: input ? input.id : fid, class: required ? 'req' : null }, label);
  if (input && (input.tagName === 'FIELDSET' || input.tagName === 'DIV')) input.setAttribute('aria-labelledby', fid + '-label');
  const err = h('div.error', { dataset: { errorFor: name }, id: fid + '-error', role: 'alert' });
  if (input && input.setAttribute) input.setAttribute('aria-describedby', fid + '-error');
  return h('div.field', { dataset: { field: name } }, labelEl, input, hint ? h('div.hint', hint) : null, err);
}

/** The client's checks: each returns '' or the reason, in the page's language. */
export const rules = {
  text(v, min, max) {
    const n = [...(v || '')].length;
    if (!v || !v.trim()) return t('v.required');
    if (n < min) return t('v.min', { min });
    if (n > max) return t('v.max', { max });
    return '';
  },
  line(v, min, max) {
    const r = rules.text(v, min, max);
    if (r) return r;
    return /[\r\n\t]/.test(v) ? t('v.line') : '';
  },
  mobile(v) {
    if (!v) return t('v.required');
    return /^1[3-9][0-9]{9}$/.test(v) ? '' : t('v.mobile');
  },
  login(v) {
    if (!v) return t('v.required');
    return /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/.test(v) ? '' : t('v.login');
  },
  password(v, login) {
    const n = [...(v || '')].length;
    if (n < 10) return t('v.passwordShort');
    if (n > 128) return t('v.max', { max: 128 });
    if (login && v === login) return t('v.passwordLogin');
    return '';
  },
  url(v, required = true) {
    if (!v) return required ? t('v.required') : '';
    let u;
    try { u = new URL(v); } catch { return t('v.url'); }
    if (u.username || u.password) return t('v.urlCreds');
    if (v.includes('#')) return t('v.urlFragment');
    if (u.protocol === 'https:') return '';
    if (u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1')) return '';
    return t('v.https');
  },
};

/** check runs {name: reason} client checks; shows them and reports whether all passed. */
export function check(form, problems) {
  clearErrors(form);
  let ok = true;
  for (const [name, reason] of Object.entries(problems)) {
    if (reason) {
      setError(form, name, reason);
      ok = false;
    }
  }
  if (!ok) {
    const first = form.querySelector('[aria-invalid=true]');
    if (first && first.focus) first.focus();
  }
  return ok;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const alert = form.querySelector(':scope > .form-alert');
  if (alert) alert.remove();
}

export function setError(form, name, reason) {
  const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
  if (!slot) return false;
  slot.textContent = reason;
  const f = slot.closest('[data-field]');
  const input = f && f.querySelector('input:not([type=checkbox]):not([type=radio]), select, textarea, fieldset');
  if (input) input.setAttribute('aria-invalid', 'true');
  return true;
}

/**
 * showErrors puts a failed request's problem next to the fields it names (invalid_params);
 * what names no field on the form, and problems without fields, go in an alert on top.
 */
export function showErrors(form, err) {
  clearErrors(form);
  const loose = [];
  if (err instanceof ApiError && err.params.length) {
    for (const p of err.params) {
      if (!setError(form, p.name, p.reason) && !setError(form, p.name.replace(/\[\d+\].*$/, ''), `${p.name}: ${p.reason}`)) {
        loose.push(`${p.name}: ${p.reason}`);
      }
    }
  }
  if (!(err instanceof ApiError) || !err.params.length || loose.length) {
    const box = h('div.alert.alert-error.form-alert', { role: 'alert' }, h('strong', t('common.error')),
      err instanceof ApiError ? err.message : String(err), loose.length ? h('div', loose.join('; ')) : null);
    form.prepend(box);
  }
  const first = form.querySelector('[aria-invalid=true]');
  if (first && first.focus) first.focus();
}

/** busy disables a button while a promise runs. */
export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

/** copyButton copies text to the clipboard. */
export function copyButton(text, label) {
  return h('button.btn-sm', {
    type: 'button', dataset: { copy: '' },
    onclick: async (e) => {
      const btn = e.currentTarget;
      try {
        await navigator.clipboard.writeText(text);
        btn.textContent = t('common.copied');
      } catch {
        btn.textContent = t('common.copyFailed');
      }
      setTimeout(() => { btn.textContent = label || t('common.copy'); }, 1500);
    },
  }, label || t('common.copy'));
}

/**
 * uploader is a file picker with a progress bar: start(file) asks the platform for a
 * presigned PUT, the bytes go to the object store, then the platform checks and attaches.
 */
export function uploader({ name, label, accept, hint, status, start, onDone, allowEmpty = false }) {
  const input = h('input', { type: 'file', accept, id: 'f-' + name, name });
  const bar = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': label });
  const state = h('span.muted', { dataset: { uploadState: name } }, status || '');
  const err = h('div.error', { dataset: { errorFor: name }, role: 'alert' });
  const button = h('button.btn-sm', { type: 'button', dataset: { upload: name } }, t('upload.start'));
  button.addEventListener('click', () => busy(button, async () => {
    err.textContent = '';
    const file = input.files[0];
    if (!file) {
      err.textContent = t('upload.choose');
      return;
    }
    if (file.size === 0 && !allowEmpty) {
      err.textContent = t('upload.empty');
      return;
    }
    bar.hidden = false;
    bar.value = 0;
    state.textContent = t('upload.sending');
    try {
      const up = await start({ file, type: fileType(file) });
      await putFile(up, file, (p) => { bar.value = Math.round(p * 100); });
      state.textContent = t('upload.checking');
      const result = await post(up.complete_url);
      state.textContent = t('upload.done', { name: file.name });
      input.value = '';
      if (onDone) onDone(result);
    } catch (e) {
      bar.hidden = true;
      state.textContent = '';
      err.textContent = e instanceof ApiError && e.params.length ? e.params.map((p) => `${p.name}: ${p.reason}`).join('; ') : e.message;
    }
  }));
  return h('div.upload', { dataset: { field: name } },
    h('div.upload-head', h('label', { for: 'f-' + name }, h('strong', label)), state),
    h('div.inline', input, button), bar, hint ? h('div.hint', hint) : null, err);
}

/** linkTo makes an in-console link handled by the router. */
export function linkTo(path, text, attrs = {}) {
  return h('a', { href: path, dataset: { link: '' }, ...attrs }, text);
}

export function section(title, ...children) {
  return h('section.card', h('h2', title), ...children);
}

export function kv(pairs) {
  return h('dl.kv', pairs.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v === '' || v === undefined || v === null ? '—' : v)]));
}

export { clear };
