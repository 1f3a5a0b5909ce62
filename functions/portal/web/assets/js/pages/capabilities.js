// 能力申请: the platform's capabilities for an approved application (seed §7.5, §7.7): SMS
// with the city's application form and the templates, application messages and to-dos;
// and the calls made per day, drawn as an SVG chart.
import { h, svg, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, query } from '../api.js';
import { statusTag, fmtTime, field, rules, check, showErrors, busy, toast, confirmAction, uploader, linkTo } from '../ui.js';

const CAPS = ['sms', 'message', 'todo'];
const editable = (status) => ['none', 'draft', 'rejected', 'revoked'].includes(status);

export async function render(ctx) {
  const apps = (await get('/api/v1/apps' + query({ status: 'approved', page_size: 100 }))).items;
  const head = h('div.page-head', h('div', h('h1', t('caps.title')), h('p.sub', t('caps.sub'))));
  if (!apps.length) {
    clear(ctx.main, head, h('div.alert.alert-info', t('caps.needApprovedApp'), ' ', linkTo('/console/apps', t('menu.apps'))));
    return;
  }
  const appID = apps.some((a) => a.id === ctx.query.get('app')) ? ctx.query.get('app') : apps[0].id;
  const sel = h('select', { id: 'cap-app', onchange: (e) => ctx.setQuery({ app: e.target.value }) },
    apps.map((a) => h('option', { value: a.id, selected: a.id === appID }, a.name)));
  const [caps, usage] = await Promise.all([
    get(`/api/v1/apps/${appID}/capabilities`),
    get(`/api/v1/apps/${appID}/usage` + query({ days: 30 })),
  ]);
  const reload = () => ctx.go(location.pathname + location.search, { replace: true });
  clear(ctx.main, head,
    h('section.card', h('div.toolbar', field({ name: 'app', label: t('services.app'), input: sel }))),
    h('div.grid-2', caps.items.map((c) => capCard(appID, c, reload))),
    usageCard(usage, 30));
}

function capCard(appID, c, reload) {
  const g = c.grant;
  const body = [
    h('div.card-head', h('h2', t('cap.' + c.capability)), statusTag('grant', c.status)),
    h('p.muted', t('cap.' + c.capability + '.intro')),
  ];
  if (g && g.reason && (c.status === 'rejected' || c.status === 'revoked')) {
    body.push(h('div.alert.alert-error', h('strong', t('caps.reason')), g.reason));
  }
  if (g && g.decided_at) body.push(h('p.hint', t('caps.decidedAt', { at: fmtTime(g.decided_at) })));
  if (c.capability === 'sms') {
    if (g && g.templates && g.templates.length && !editable(c.status)) {
      body.push(h('p', h('strong', t('caps.sign')), ' ', g.sms_sign_name),
        h('ul', g.templates.map((tp) => h('li', h('code', tp.code), ` ${tp.name}：${tp.content}`))));
    }
    if (editable(c.status)) body.push(smsForm(appID, g, reload));
  } else if (editable(c.status)) {
    const b = h('button.btn-primary', { type: 'button', dataset: { apply: c.capability } }, t('caps.apply'));
    b.addEventListener('click', async () => {
      if (!await confirmAction({ title: t('caps.applyTitle'), message: t('caps.applyConfirm', { name: t('cap.' + c.capability) }), confirmLabel: t('caps.apply') })) return;
      busy(b, async () => {
        try {
          await post(`/api/v1/apps/${appID}/capabilities`, { capability: c.capability });
          toast(t('caps.applied'));
          reload();
        } catch (err) {
          toast(err.message, 'error');
        }
      });
    });
    body.push(h('div.form-actions', b));
  }
  return h('section.card', { dataset: { capability: c.capability }, class: c.capability === 'sms' ? 'cap-sms' : null }, body);
}

function templateRow(tp, i, remove) {
  const code = h('input', { type: 'text', class: 'mono', maxlength: 24, placeholder: 'SMS_153055065', value: tp.code || '', dataset: { tpl: 'code' } });
  const name = h('input', { type: 'text', maxlength: 30, value: tp.name || '', dataset: { tpl: 'name' } });
  const content = h('input', { type: 'text', maxlength: 500, value: tp.content || '', placeholder: t('caps.tplContentPlaceholder'), dataset: { tpl: 'content' } });
  return h('div.template-row', { dataset: { row: String(i) } },
    field({ name: `templates[${i}].code`, label: t('caps.tplCode'), input: code }),
    field({ name: `templates[${i}].name`, label: t('caps.tplName'), input: name }),
    field({ name: `templates[${i}].content`, label: t('caps.tplContent'), input: content }),
    h('button.btn-link.btn-danger', { type: 'button', onclick: remove, 'aria-label': t('caps.tplRemove') }, '✕'));
}

function smsForm(appID, g, reload) {
  const sign = h('input', { type: 'text', maxlength: 12, value: g && g.sms_sign_name ? g.sms_sign_name : '晋来办' });
  let templates = g && g.templates && g.templates.length ? g.templates.map((x) => ({ ...x })) : [{ code: '', name: '', content: '' }];
  const rows = h('div.templates');
  const collect = () => [...rows.querySelectorAll('.template-row')].map((r) => ({
    code: r.querySelector('[data-tpl=code]').value.trim(), name: r.querySelector('[data-tpl=name]').value.trim(), content: r.querySelector('[data-tpl=content]').value.trim(),
  }));
  const draw = () => {
    rows.replaceChildren(...templates.map((tp, i) => templateRow(tp, i, () => {
      templates = collect();
      templates.splice(i, 1);
      if (!templates.length) templates.push({ code: '', name: '', content: '' });
      draw();
    })));
  };
  draw();
  const add = h('button.btn-sm', { type: 'button', id: 'add-template' }, t('caps.tplAdd'));
  add.addEventListener('click', () => {
    templates = collect();
    if (templates.length < 20) templates.push({ code: '', name: '', content: '' });
    draw();
  });
  const formState = h('span.muted', { id: 'sms-form-state' }, g && g.form_attached ? t('caps.formAttached') : t('caps.formMissing'));
  const upload = uploader({
    name: 'sms_form', label: t('caps.form'), accept: '.pdf,.png,.jpg,.jpeg,.doc,.docx', hint: t('caps.formHint'),
    start: ({ file, type }) => post(`/api/v1/apps/${appID}/capabilities/sms/form`, { content_type: type, size: file.size }),
    onDone: () => { formState.textContent = t('caps.formAttached'); },
  });
  const submit = h('button.btn-primary', { type: 'submit', id: 'apply-sms' }, t('caps.apply'));
  const f = h('form.form', { novalidate: true, id: 'sms-form' },
    field({ name: 'sms_sign_name', label: t('caps.sign'), required: true, hint: t('caps.signHint'), input: sign }),
    h('div.field', { dataset: { field: 'templates' } }, h('span.label.req', t('caps.templates')), h('div.hint', t('caps.templatesHint')), rows, h('div', add),
      h('div.error', { dataset: { errorFor: 'templates' } })),
    h('div.field', upload, formState),
    h('div.form-actions', submit));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const tpls = collect();
    const problems = { sms_sign_name: rules.line(sign.value.trim(), 2, 12), templates: tpls.length ? '' : t('v.required') };
    tpls.forEach((tp, i) => {
      problems[`templates[${i}].code`] = /^SMS_[0-9]{3,20}$/.test(tp.code) ? '' : t('v.templateCode');
      problems[`templates[${i}].name`] = rules.line(tp.name, 1, 30);
      problems[`templates[${i}].content`] = rules.text(tp.content, 2, 500);
    });
    if (!check(f, problems)) return;
    busy(submit, async () => {
      try {
        await post(`/api/v1/apps/${appID}/capabilities`, { capability: 'sms', sms_sign_name: sign.value.trim(), templates: tpls });
        toast(t('caps.applied'));
        reload();
      } catch (err) {
        showErrors(f, err);
      }
    });
  });
  return f;
}

// The usage chart: one bar group per day, one bar per capability, drawn in SVG.
function usageCard(usage, days) {
  const byDay = new Map();
  const today = new Date();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i);
    byDay.set(dayKey(d), { sms: 0, message: 0, todo: 0 });
  }
  let total = 0;
  for (const u of usage.items || []) {
    const k = (u.day || '').slice(0, 10);
    if (!byDay.has(k)) byDay.set(k, { sms: 0, message: 0, todo: 0 });
    byDay.get(k)[u.capability] = u.count;
    total += u.count;
  }
  const keys = [...byDay.keys()].sort().slice(-days);
  const max = Math.max(1, ...keys.flatMap((k) => CAPS.map((c) => byDay.get(k)[c])));
  const W = 720, H = 240, L = 40, B = 28, T = 12, R = 8;
  const plotW = W - L - R, plotH = H - B - T;
  const step = plotW / keys.length;
  const barW = Math.max(1, (step - 4) / CAPS.length);
  const nice = Math.max(4, niceMax(max));
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'usage-title', id: 'usage-chart' },
    svg('title', { id: 'usage-title' }, t('caps.usageTitle', { days })),
    [0, 0.5, 1].map((f) => {
      const y = T + plotH - f * plotH;
      return [svg('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'axis' }), svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, String(Math.round(f * nice)))];
    }),
    keys.map((k, i) => {
      const x0 = L + i * step + 2;
      const bars = CAPS.map((c, j) => {
        const v = byDay.get(k)[c];
        const bh = (v / nice) * plotH;
        return svg('rect', { x: x0 + j * barW, y: T + plotH - bh, width: barW, height: Math.max(0, bh), class: 'series-' + c, dataset: { day: k, capability: c, count: String(v) } },
          svg('title', {}, `${k} ${t('cap.' + c)}: ${v}`));
      });
      const label = i % 5 === 0 || i === keys.length - 1 ? svg('text', { x: x0 + step / 2 - 2, y: H - 8, 'text-anchor': 'middle' }, k.slice(5)) : null;
      return [bars, label];
    }));
  const legend = h('div.legend', CAPS.map((c) => h('span', h('span.swatch.swatch-' + c), t('cap.' + c))));
  return h('section.card', { id: 'usage' },
    h('div.card-head', h('h2', t('caps.usage')), h('span.muted', t('caps.usageTotal', { days, total }))),
    legend, chart,
    h('details', h('summary', t('caps.usageTable')),
      h('table.data', h('thead', h('tr', h('th', t('caps.day')), CAPS.map((c) => h('th', t('cap.' + c))))),
        h('tbody', keys.filter((k) => CAPS.some((c) => byDay.get(k)[c])).map((k) => h('tr', h('td', k), CAPS.map((c) => h('td', String(byDay.get(k)[c])))))))));
}

function dayKey(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
