// Two languages, one dictionary each (i18n/zh-CN.js is the reference; Chinese is the
// platform's language, English is offered). t('key', {name}) fills {name} placeholders.
import zh from './i18n/zh-CN.js';
import en from './i18n/en.js';

const dicts = { 'zh-CN': zh, en };
const KEY = 'jlb.lang';
let lang = dicts[localStorage.getItem(KEY)] ? localStorage.getItem(KEY) : 'zh-CN';
document.documentElement.lang = lang;

const missing = new Set();

export function t(key, params) {
  if (!(key in zh) && !missing.has(key)) {
    // Recorded where the browser tests look, so a forgotten key fails them.
    missing.add(key);
    document.documentElement.dataset.i18nMissing = [...missing].join(' ');
    console.warn('i18n: no text for', key);
  }
  let s = dicts[lang][key] ?? zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
  return s;
}

/** has reports whether the dictionary has a key (for values with an optional label). */
export const has = (key) => key in zh;

export const currentLang = () => lang;
export const languages = () => Object.keys(dicts);

export function setLang(l) {
  if (!dicts[l] || l === lang) return;
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
  translate(document);
  window.dispatchEvent(new CustomEvent('jlb:lang', { detail: l }));
}

/** translate fills the static markup: data-i18n (text), data-i18n-placeholder, -title, -aria-label. */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['placeholder', 'title', 'aria-label']) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
  }
  if (root === document && document.body.dataset.i18nTitle) document.title = t(document.body.dataset.i18nTitle);
}

/** langSwitch draws the 中文 / EN switch. */
export function langSwitch(h) {
  const wrap = h('span.lang-switch', { role: 'group', 'aria-label': 'Language / 语言' });
  const draw = () => {
    wrap.replaceChildren(...languages().map((l) => h('button', {
      type: 'button', 'aria-pressed': String(l === lang), lang: l, dataset: { lang: l }, onclick: () => setLang(l),
    }, l === 'en' ? 'EN' : '中文')));
  };
  draw();
  window.addEventListener('jlb:lang', draw);
  return wrap;
}
