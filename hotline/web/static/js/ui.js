// DOM helpers shared by the pages: safe element building (text only, never HTML), the status
// line, the live-connection badge, the server clock, and the token form that guards each page.

import {
  ApiError, adoptFragmentToken, clearToken, closeAllStreams, get, getToken, onUnauthorized, setToken,
} from './api.js';

/**
 * Build an element. Strings among `children` become text nodes (data is never parsed as HTML).
 * attrs: `class`, `text`, `dataset` {k: v}, `on` {event: handler}, boolean/properties
 * (`disabled`, `hidden`, `value`, `checked`, `selected`), anything else as an attribute.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (['disabled', 'hidden', 'value', 'checked', 'selected', 'required'].includes(key)) {
      node[key] = value;
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// Status line -------------------------------------------------------------------------------

/** Say something in the page's aria-live status line; errors are marked as such. */
export function say(message, { error = false } = {}) {
  const line = $('#message');
  if (!line) return;
  line.classList.toggle('error', error);
  line.textContent = message;
}

/** The API's own message for a refusal (`error.message`), prefixed with what failed. */
export function sayError(what, error) {
  if (error instanceof ApiError) {
    say(`${what}：${error.message}`, { error: true });
  } else if (error && error.name !== 'AbortError') {
    say(`${what}：${error.message || error}`, { error: true });
  }
}

/** Who the token is (GET /api/me), shown in the header's #whoami; null when it cannot be read. */
export async function loadIdentity() {
  let me;
  try {
    me = await get('/api/me');
  } catch (error) {
    sayError('读取身份失败', error);
    return null;
  }
  setText($('#whoami'), `${me.name}（${me.role}）`);
  return me;
}

/**
 * Orders overlapping answers for one part of a page. A page refetches on every live event, so a
 * GET begun before a change can answer after it; `begin()` numbers a request when it is sent and
 * `accept(ticket)` is true only if nothing begun later has been shown yet. A reply to the user's own
 * action takes `accept(begin())` when it arrives: it is newer than every request still on its way.
 */
export function newestReply() {
  let begun = 0;
  let shown = 0;
  return {
    begin: () => {
      begun += 1;
      return begun;
    },
    accept(ticket) {
      if (ticket <= shown) return false;
      shown = ticket;
      return true;
    },
  };
}

/**
 * Run `action` once at a time per button (a second press while it runs is ignored) and report
 * the API's message if it is refused. The button's `disabled` state is left to the page.
 */
export async function act(button, what, action) {
  if (button) {
    if (button.getAttribute('aria-busy') === 'true') return undefined;
    button.setAttribute('aria-busy', 'true');
  }
  try {
    return await action();
  } catch (error) {
    sayError(what, error);
    return undefined;
  } finally {
    if (button) button.removeAttribute('aria-busy');
  }
}

// Server clock ------------------------------------------------------------------------------

let clockOffsetMs = 0;

/** Align timers with the server (from the stream's hello or a response's timestamp). */
export function setServerTime(iso) {
  const at = Date.parse(iso);
  if (!Number.isNaN(at)) clockOffsetMs = at - Date.now();
}

export function serverNow() {
  return Date.now() + clockOffsetMs;
}

// Live connection badge ---------------------------------------------------------------------

const CONNECTION_TEXT = {
  connecting: '正在连接实时数据…',
  live: '实时',
  closed: '实时数据已断开',
};

export function showConnection(state, info = {}) {
  const badge = $('#connection');
  if (!badge) return;
  badge.dataset.connection = state;
  if (state === 'waiting') {
    badge.textContent = `连接中断，${Math.max(1, Math.round(info.delay / 1000))} 秒后重连`;
  } else {
    badge.textContent = CONNECTION_TEXT[state] || state;
  }
}

// Token gate --------------------------------------------------------------------------------

function tokenGate() {
  let gate = $('#token-gate');
  if (gate) return gate;
  const input = el('input', {
    id: 'token-input', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'token-help token-message',
  });
  const message = el('p', { id: 'token-message', class: 'form-message', role: 'alert' });
  const form = el('form', { id: 'token-form', class: 'token-form' },
    el('label', { for: 'token-input', text: 'API 令牌' }),
    input,
    el('button', { type: 'submit', class: 'primary', text: '进入' }),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    message.textContent = '正在验证令牌…';
    try {
      await get('/api/me', { token, quiet401: true });
    } catch (error) {
      message.textContent = error instanceof ApiError ? `令牌不可用：${error.message}` : String(error);
      input.select();
      return;
    }
    setToken(token);
    window.location.reload();
  });
  gate = el('section', { id: 'token-gate', class: 'token-gate', 'aria-labelledby': 'token-title' },
    el('h2', { id: 'token-title', text: '请输入 API 令牌' }),
    el('p', { id: 'token-help', class: 'help' },
      '令牌由管理员用 “hotline token add” 创建，只保存在本浏览器中。',
      '大屏可用地址 #token=… 一次性传入。'),
    form);
  document.body.append(gate);
  return gate;
}

/** Hide the page and ask for a token; `reason` says why (for example the API's 401 message). */
export function showTokenGate(reason = '') {
  for (const part of [$('#app'), $('#connection'), $('#clock')]) {
    if (part) part.hidden = true;
  }
  const gate = tokenGate();
  gate.hidden = false;
  $('#token-message', gate).textContent = reason;
  $('#token-input', gate).focus();
}

function addTokenButton() {
  const slot = $('#token-slot');
  if (!slot || !getToken()) return;
  slot.replaceChildren(el('button', {
    type: 'button', class: 'link', text: '更换令牌',
    on: {
      click: () => {
        clearToken();
        window.location.reload();
      },
    },
  }));
}

/** The hall's pages in the order the top bar lists them: the one list every page's navigation shows. */
export const PAGES = Object.freeze([
  ['/wallboard', '大屏'], ['/screening', '筛选'], ['/callbacks', '回拨'], ['/operator', '座席'],
  ['/messages', '留言审核'], ['/reports', '报表'], ['/qa', '质检'],
]);

/** Fill the top bar's navigation from PAGES, marking the page shown. */
function fillNavigation() {
  const nav = document.querySelector('header nav[aria-label="页面"]');
  if (!nav) return;
  const here = location.pathname.replace(/\/+$/, '');
  replaceChildren(nav, ...PAGES.map(([href, label]) => el('a', {
    href, text: label, 'aria-current': href === here ? 'page' : null,
  })));
}

/**
 * Start a page: adopt a `#token=` fragment, ask for a token when there is none, and go back to
 * the token form (with the API's message) whenever the API answers 401.
 */
export function startPage(start) {
  fillNavigation();
  adoptFragmentToken();
  let signedOut = false;
  onUnauthorized((error) => {
    // Only the first 401 says why: requests still on their way then go out without a token and
    // would replace "revoked" with "a token is required". A new token reloads the page.
    if (signedOut) return;
    signedOut = true;
    clearToken();
    closeAllStreams();
    showTokenGate(`令牌无效或已被吊销：${error.message}`);
  });
  if (!getToken()) {
    showTokenGate();
    return;
  }
  addTokenButton();
  start();
}
