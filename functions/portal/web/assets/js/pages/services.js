// 我的服务: the services a vendor lists under its approved applications (seed §4): the list
// with its next action, the form (with the pinyin code suggestion), the logo and the two
// test reports uploaded straight to the object store, applying for listing, the production
// address and asking to go live.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, put, query } from '../api.js';
import {
  statusTag, fmtTime, table, pager, field, rules, check, showErrors, busy, toast, linkTo, kv,
  confirmAction, uploader, clearErrors,
} from '../ui.js';

export async function render(ctx) {
  if (ctx.view === 'list') return list(ctx);
  if (ctx.view === 'form') return form(ctx);
  return detail(ctx);
}

const STATUSES = ['testing', 'applied', 'approved', 'live_requested', 'live', 'offline'];
const CHANNELS = ['app', 'wechat', 'alipay'];

async function approvedApps() {
  const r = await get('/api/v1/apps' + query({ status: 'approved', page_size: 100 }));
  return r.items;
}

function nextAction(s) {
  const to = '/console/services/' + s.id;
  switch (s.next_action) {
    case 'apply': return linkTo(to, t('services.next.apply'), { class: 'btn btn-sm btn-primary', dataset: { link: '', next: 'apply' } });
    case 'attach-reports': return linkTo(to, t('services.next.attach-reports'), { class: 'btn btn-sm', dataset: { link: '', next: 'attach-reports' } });
    case 'request-live': return linkTo(to, t('services.next.request-live'), { class: 'btn btn-sm btn-primary', dataset: { link: '', next: 'request-live' } });
    case 'complete-for-live': return linkTo(to, t('services.next.complete-for-live'), { class: 'btn btn-sm', dataset: { link: '', next: 'complete-for-live' } });
    case 'await-review': return h('span.muted', t('services.next.await-review'));
    default: return linkTo(to, t('common.view'));
  }
}

async function list(ctx) {
  const page = Number(ctx.query.get('page') || 1);
  const status = ctx.query.get('status') || '';
  const app = ctx.query.get('application_id') || '';
  const [apps, data] = await Promise.all([approvedApps(), get('/api/v1/services' + query({ page, page_size: 20, status, application_id: app }))]);
  const appSel = h('select', { id: 'filter-app', onchange: (e) => ctx.setQuery({ application_id: e.target.value, page: '' }) },
    h('option', { value: '' }, t('common.all')), apps.map((a) => h('option', { value: a.id, selected: a.id === app }, a.name)));
  const statusSel = h('select', { id: 'filter-status', onchange: (e) => ctx.setQuery({ status: e.target.value, page: '' }) },
    h('option', { value: '' }, t('common.all')), STATUSES.map((s) => h('option', { value: s, selected: s === status }, t('status.service.' + s))));
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('services.title')), h('p.sub', t('services.sub'))),
      apps.length ? linkTo('/console/services/new', t('services.new'), { class: 'btn btn-primary', id: 'new-service' }) : null),
    apps.length ? null : h('div.alert.alert-info', t('services.needApprovedApp')),
    h('section.card',
      h('div.toolbar', field({ name: 'application_id', label: t('services.app'), input: appSel }), field({ name: 'status', label: t('common.status'), input: statusSel })),
      table([
        { label: t('services.name'), cell: (s) => linkTo('/console/services/' + s.id, s.name, { dataset: { link: '', service: s.id } }) },
        { label: t('services.app'), cell: (s) => s.application.name },
        { label: t('services.channels'), cell: (s) => s.channels.map((c) => t('channel.' + c)).join('、') },
        { label: t('services.moduleCode'), cell: (s) => h('code', s.module_code) },
        { label: t('services.type'), cell: (s) => t('type.' + s.service_type) },
        { label: t('common.status'), cell: (s) => statusTag('service', s.status) },
        { label: t('common.createdAt'), cell: (s) => fmtTime(s.created_at) },
        { label: t('common.actions'), class: 'actions', cell: nextAction },
      ], data.items, t('services.empty')),
      pager(data, (p) => ctx.setQuery({ page: p }))));
}

async function form(ctx) {
  const id = ctx.params.id;
  const [apps, tags, s] = await Promise.all([approvedApps(), get('/api/v1/tags'), id ? get('/api/v1/services/' + id) : null]);
  const appSel = h('select', { disabled: !!s },
    h('option', { value: '' }, t('common.choose')),
    apps.map((a) => h('option', { value: a.id, selected: s ? s.application.id === a.id : ctx.query.get('application_id') === a.id }, a.name)));
  if (s && !apps.some((a) => a.id === s.application.id)) appSel.append(h('option', { value: s.application.id, selected: true }, s.application.name));
  const name = h('input', { type: 'text', maxlength: 60, value: s ? s.name : '' });
  const code = h('input', { type: 'text', id: 'f-module_callback_code', name: 'module_callback_code', maxlength: 32, value: s ? s.module_callback_code : '', class: 'mono', autocapitalize: 'characters' });
  const suggestion = h('span.hint', { id: 'code-suggestion' });
  const useSuggestion = h('button.btn-sm', { type: 'button', hidden: true, id: 'use-suggestion' }, t('services.useSuggestion'));
  let suggested = '';
  useSuggestion.addEventListener('click', () => { code.value = suggested; });
  let timer = 0;
  const suggest = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const v = name.value.trim();
      if (!v) {
        suggestion.textContent = '';
        useSuggestion.hidden = true;
        return;
      }
      try {
        const r = await get('/api/v1/services/callback-code' + query({ name: v }));
        suggested = r.module_callback_code;
        suggestion.textContent = t('services.suggestion', { code: suggested });
        useSuggestion.hidden = code.value === suggested;
        if (!code.value && !s) code.placeholder = suggested;
      } catch {
        suggestion.textContent = '';
      }
    }, 250);
  };
  name.addEventListener('input', suggest);
  const channels = h('fieldset.choices', CHANNELS.map((c) => h('label', h('input', { type: 'checkbox', name: 'channels', value: c, checked: s ? s.channels.includes(c) : c === 'app' }), t('channel.' + c))));
  const type = h('fieldset.choices', ['transaction', 'query'].map((v) => h('label', h('input', { type: 'radio', name: 'service_type', value: v, checked: s ? s.service_type === v : v === 'transaction' }), `${t('type.' + v)} — ${t('type.' + v + '.hint')}`)));
  const testURL = h('input', { type: 'url', maxlength: 2048, value: s ? s.test_url : '', placeholder: 'https://' });
  const prodURL = h('input', { type: 'url', maxlength: 2048, value: s && s.production_url ? s.production_url : '', placeholder: 'https://' });
  const tagSet = h('fieldset.choices', tags.items.map((tg) => h('label', h('input', { type: 'checkbox', name: 'tags', value: tg.slug, checked: s ? s.tags.includes(tg.slug) : false }), tg.name)));
  const description = h('textarea', { maxlength: 2000, rows: 5 }, s ? s.description : '');
  const save = h('button.btn-primary', { type: 'submit', id: 'save-service' }, t(id ? 'common.save' : 'services.create'));
  const f = h('form.form', { novalidate: true, id: 'service-form' },
    field({ name: 'application_id', label: t('services.app'), required: true, hint: t('services.appHint'), input: appSel }),
    field({ name: 'name', label: t('services.name'), required: true, hint: t('services.nameHint'), input: name }),
    field({ name: 'module_callback_code', label: t('services.callbackCode'), hint: t('services.callbackHint'), input: h('div', h('div.inline', code, useSuggestion), suggestion) }),
    field({ name: 'channels', label: t('services.channels'), required: true, input: channels }),
    field({ name: 'service_type', label: t('services.type'), required: true, input: type }),
    field({ name: 'test_url', label: t('services.testURL'), required: true, hint: t('services.urlHint'), input: testURL }),
    field({ name: 'production_url', label: t('services.productionURL'), hint: t('services.productionHint'), input: prodURL }),
    field({ name: 'tags', label: t('services.tags'), required: true, hint: t('services.tagsHint'), input: tagSet }),
    field({ name: 'description', label: t('services.description'), required: true, hint: t('services.descriptionHint'), input: description }),
    h('div.form-actions', save, linkTo(id ? '/console/services/' + id : '/console/services', t('common.cancel'), { class: 'btn' })));
  // The module_callback_code input lives inside a div: give the field's error to it.
  code.setAttribute('aria-describedby', 'f-module_callback_code-error');
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const picked = (n) => [...f.querySelectorAll(`input[name=${n}]:checked`)].map((i) => i.value);
    const body = {
      application_id: appSel.value, name: name.value.trim(), channels: picked('channels'), service_type: picked('service_type')[0] || '',
      module_callback_code: code.value.trim().toUpperCase(), test_url: testURL.value.trim(), production_url: prodURL.value.trim(),
      description: description.value.trim(), tags: picked('tags'),
    };
    const problems = {
      application_id: body.application_id ? '' : t('v.required'),
      name: rules.line(body.name, 2, 60),
      module_callback_code: !body.module_callback_code || /^[A-Z0-9]{1,32}$/.test(body.module_callback_code) ? '' : t('v.callbackCode'),
      channels: body.channels.length ? '' : t('v.chooseOne'),
      service_type: body.service_type ? '' : t('v.required'),
      test_url: rules.url(body.test_url),
      production_url: rules.url(body.production_url, false),
      tags: body.tags.length === 0 ? t('v.chooseOne') : body.tags.length > 5 ? t('v.tagsMax') : '',
      description: rules.text(body.description, 20, 2000),
    };
    if (!check(f, problems)) return;
    busy(save, async () => {
      try {
        const saved = id ? await put('/api/v1/services/' + id, body) : await post('/api/v1/services', body);
        toast(t('services.saved'));
        ctx.go('/console/services/' + saved.id);
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t(id ? 'services.editTitle' : 'services.newTitle')), h('p.sub', t('services.formSub')))),
    apps.length || s ? null : h('div.alert.alert-info', t('services.needApprovedApp')),
    h('section.card', f));
  if (!s && name.value) suggest();
}

function reportStatus(r) {
  if (!r.attached) return t('services.file.none');
  if (r.to_be_completed) return t('services.file.empty');
  return t('services.file.attached', { size: r.size });
}

async function detail(ctx) {
  const id = ctx.params.id;
  const [s, tags] = await Promise.all([get('/api/v1/services/' + id), get('/api/v1/tags')]);
  const tagName = (slug) => (tags.items.find((x) => x.slug === slug) || { name: slug }).name;
  const reload = () => ctx.go('/console/services/' + id, { replace: true });
  const filesEditable = s.status === 'testing' || s.status === 'approved';
  const parts = [
    h('div.page-head',
      h('div', h('h1', s.name), h('p.sub', statusTag('service', s.status), ' ', h('span.muted', t('services.moduleCode') + ' '), h('code', { id: 'module-code' }, s.module_code))),
      linkTo('/console/services', t('common.backToList'), { class: 'btn' })),
  ];
  if (s.status_reason) parts.push(h('div.alert.alert-error', { id: 'status-reason' }, h('strong', t('services.reason')), s.status_reason));
  parts.push(h('div.alert.alert-info', { id: 'next-step' }, t('services.nextHelp.' + s.next_action)));

  const actions = h('div.form-actions');
  if (s.status === 'testing') actions.append(linkTo(`/console/services/${id}/edit`, t('common.edit'), { class: 'btn', id: 'edit-service' }));
  if (s.status === 'testing') {
    const apply = h('button.btn-primary', { type: 'button', id: 'apply-service', disabled: !(s.reports.functional.attached && s.reports.security.attached) }, t('services.apply'));
    apply.addEventListener('click', async () => {
      if (!await confirmAction({ title: t('services.applyTitle'), message: t('services.applyConfirm'), confirmLabel: t('services.apply') })) return;
      busy(apply, async () => {
        try {
          await post(`/api/v1/services/${id}/apply`);
          toast(t('services.applied'));
          reload();
        } catch (err) {
          toast(err.message, 'error');
        }
      });
    });
    actions.append(apply);
  }
  if (s.status === 'approved') {
    const live = h('button.btn-primary', { type: 'button', id: 'request-live', disabled: s.next_action !== 'request-live' }, t('services.requestLive'));
    live.addEventListener('click', async () => {
      if (!await confirmAction({ title: t('services.requestLiveTitle'), message: t('services.requestLiveConfirm'), confirmLabel: t('services.requestLive') })) return;
      busy(live, async () => {
        try {
          await post(`/api/v1/services/${id}/request-live`);
          toast(t('services.liveRequested'));
          reload();
        } catch (err) {
          toast(err.message, 'error');
        }
      });
    });
    actions.append(live);
  }
  parts.push(h('section.card', h('h2', t('services.declaration')), kv([
    [t('services.app'), `${s.application.name}`],
    [t('services.channels'), s.channels.map((c) => t('channel.' + c)).join('、')],
    [t('services.type'), t('type.' + s.service_type)],
    [t('services.callbackCode'), h('code', s.module_callback_code)],
    [t('services.moduleCode'), h('code', s.module_code)],
    [t('services.testURL'), s.test_url],
    [t('services.productionURL'), s.production_url || t('services.notSet')],
    [t('services.tags'), s.tags.map(tagName).join('、')],
    [t('services.description'), s.description],
    [t('common.createdAt'), fmtTime(s.created_at)],
  ]), actions));

  // Files: the logo and the two reports (an empty report is accepted for now, seed §4.3.7).
  const start = (kind) => ({ file, type }) => post(`/api/v1/services/${id}/uploads`, { kind, content_type: type, size: file.size, filename: file.name });
  const logoImg = h('img.logo-preview', { alt: t('services.logo'), id: 'logo-preview', src: '/assets/img/no-logo.svg' });
  if (s.logo.attached) {
    get(`/api/v1/services/${id}/files/logo`).then((r) => { logoImg.src = r.url; logoImg.dataset.attached = 'true'; }).catch(() => {});
  }
  const logoStatus = s.logo.attached ? (s.logo.size ? t('services.file.attached', { size: s.logo.size }) : t('services.file.uploaded')) : t('services.file.none');
  const files = h('section.card', { id: 'files' }, h('h2', t('services.files')),
    filesEditable ? null : h('p.muted', t('services.filesLocked')),
    h('div.files',
      h('div.file-row', logoImg, filesEditable ? uploader({
        name: 'logo', label: t('services.logo'), accept: 'image/png,image/jpeg,image/svg+xml,.png,.jpg,.jpeg,.svg',
        hint: t('services.logoHint'), status: logoStatus, start: start('logo'), onDone: reload,
      }) : h('p', h('strong', t('services.logo')), ' ', logoStatus)),
      ...['functional', 'security'].map((r) => {
        const kind = r + '_report';
        const rep = s.reports[r];
        return h('div.file-row', h('span.logo-preview.file-icon', { 'aria-hidden': 'true' }, 'PDF'),
          h('div',
            filesEditable ? uploader({
              name: kind, label: t('services.' + kind), accept: '.pdf,.doc,.docx,.zip,application/pdf,application/msword,application/zip',
              hint: t('services.reportHint'), status: reportStatus(rep), allowEmpty: true, start: start(kind), onDone: reload,
            }) : h('p', h('strong', t('services.' + kind)), ' ', reportStatus(rep)),
            h('div.file-extra',
              rep.to_be_completed ? h('span.tag.tag-orange', { dataset: { toBeCompleted: kind } }, t('services.toBeCompleted')) : null,
              rep.attached ? h('button.btn-link', { type: 'button', onclick: () => download(id, kind) }, t('services.download')) : null)));
      })));
  parts.push(files);

  if (s.status === 'testing' || s.status === 'approved') {
    const url = h('input', { type: 'url', value: s.production_url || '', maxlength: 2048, placeholder: 'https://' });
    const saveURL = h('button', { type: 'submit', id: 'save-production-url' }, t('common.save'));
    const f = h('form.form', { novalidate: true, id: 'production-form' },
      field({ name: 'production_url', label: t('services.productionURL'), required: true, hint: t('services.productionHint'), input: url }),
      h('div.form-actions', saveURL));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!check(f, { production_url: rules.url(url.value.trim()) })) return;
      busy(saveURL, async () => {
        try {
          await put(`/api/v1/services/${id}/production-url`, { production_url: url.value.trim() });
          clearErrors(f);
          toast(t('services.saved'));
          reload();
        } catch (err) {
          showErrors(f, err);
        }
      });
    });
    parts.push(h('section.card', h('h2', t('services.productionTitle')), h('p.muted', t('services.productionIntro')), f));
  }
  clear(ctx.main, parts);
}

async function download(id, kind) {
  try {
    const r = await get(`/api/v1/services/${id}/files/${kind}`);
    window.open(r.url, '_blank', 'noopener');
  } catch (err) {
    toast(err.message, 'error');
  }
}
