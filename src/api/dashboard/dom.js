/* DOM helpers shared by every view. Text only, never HTML: nothing from the API is parsed as markup. */

export const $ = (id) => document.getElementById(id);

/** Tiny element builder: h('span', { class: 'x', dataset: { testid: 'y' } }, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Writes only on change, so a refresh that changed nothing does not disturb screen readers or selections. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function show(el, visible) {
  if (el.hidden === !!visible) el.hidden = !visible;
}

/** Prefix for element ids derived from a user id (ids are [A-Za-z0-9_.-], safe in an id attribute). */
export const domId = (userId, part) => 'm-' + userId + '-' + part;
