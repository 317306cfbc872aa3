// Helpers of the Tidemark web UI's scripts: building elements, formatting figures, calling the
// REST API with the token when the page has one. Loaded first; the others use these names.
'use strict';

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
  return el;
}

const $ = (sel) => document.querySelector(sel);
const fmtInt = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtRate = (n) => (n === null || n === undefined ? '–' : n >= 100 ? fmtInt(n) : n.toFixed(1));
const fmtMs = (n) => (n === null || n === undefined ? '–' : n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);
const fmtTime = (t) => (t === null || t === undefined ? '–' : new Date(t).toLocaleTimeString('en-GB'));
function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
const MAX_WATERMARK = 8640000000000000;
function fmtWatermark(w) {
  if (w === null || w === undefined) return 'none';
  if (w >= MAX_WATERMARK) return 'end';
  const d = new Date(w);
  return Number.isNaN(d.getTime()) || w < 946684800000 ? String(w) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({ errors: [`HTTP ${res.status}`] }));
  if (!res.ok) throw new Error((json.errors ?? [`HTTP ${res.status}`]).join('; '));
  return json;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function say(text, kind = 'info') {
  const m = $('#message');
  m.className = kind;
  m.textContent = text;
}
