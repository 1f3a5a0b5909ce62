// Building the DOM without HTML strings: the pages never assign markup, so text from the
// API can only ever be text (and the CSP's Trusted Types forbid markup sinks anyway).

/** h('tag.class', {attrs, onclick: fn, dataset: {}}, ...children) */
export function h(tag, attrs, ...children) {
  return build(document.createElement.bind(document), tag, attrs, children);
}

const SVG = 'http://www.w3.org/2000/svg';

/** svg('rect', {x: 1}) makes an SVG element. */
export function svg(tag, attrs, ...children) {
  return build((name) => document.createElementNS(SVG, name), tag, attrs, children);
}

function build(create, tag, attrs, children) {
  const [name, ...classes] = tag.split('.');
  const el = create(name || 'div');
  if (classes.length) el.setAttribute('class', classes.join(' '));
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'class') {
      el.setAttribute('class', [el.getAttribute('class'), v].filter(Boolean).join(' '));
    } else if (k === 'text') {
      el.textContent = v;
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple' || k === 'required') {
      el[k] = !!v;
      if (v === true && k !== 'checked' && k !== 'selected') el.setAttribute(k, '');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** clear(el, ...children) empties el and puts children in. */
export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
