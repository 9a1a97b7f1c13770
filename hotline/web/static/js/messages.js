// The written channels' audit page (网上民声, 市长信箱): the unaudited messages in the order they
// were written, each with its text (the matched words highlighted), the automatic checks, the
// suggested department preselected, and 审核通过 / 转办 / 退回 by keyboard. Text only, never HTML.
// The list follows the live feed (`messages` events): a message received while the page is open
// appears, and one another manager decided leaves the list, without a reload. A live refresh
// never refetches the open message, so what the manager picked in its form stays.

import { get, openEventStream, post } from './api.js';
import { DASH, formatDateTime } from './format.js';
import {
  $, act, el, loadIdentity, newestReply, replaceChildren, say, sayError, setText, showConnection,
  startPage,
} from './ui.js';

const EDITABLE = 'input, textarea, select, [contenteditable="true"]';
const REFRESH_DEBOUNCE_MS = 250;
const ACTION_ZH = { approve: '审核通过', transfer: '转办', return: '退回' };
const CHECKS = [
  ['substance', '内容', (c) => c.ok],
  ['advert', '广告', (c) => !c.is_advert],
  ['duplicate', '重复', (c) => c.of === null || c.of === undefined],
];

const view = {
  items: [],
  selectedId: null,
  detail: null,
  departments: [], // [{name, sections}]
  listReplies: newestReply(),
  detailReplies: newestReply(),
  decidedHere: new Set(), // ids this page decided: their leaving the list is no news
};

// Highlighting --------------------------------------------------------------------------------

/** The text as nodes: every occurrence of `words` in a <mark>, the rest as plain text. */
export function highlighted(text, words) {
  const marked = new Array(text.length).fill(false);
  for (const word of words.filter(Boolean)) {
    for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
      marked.fill(true, at, at + word.length);
    }
  }
  const nodes = [];
  let start = 0;
  for (let i = 1; i <= text.length; i += 1) {
    if (i === text.length || marked[i] !== marked[start]) {
      const piece = text.slice(start, i);
      nodes.push(marked[start] ? el('mark', { text: piece }) : piece);
      start = i;
    }
  }
  return nodes;
}

// List ------------------------------------------------------------------------------------------

function itemButton(item) {
  const best = item.suggestions[0];
  return el('button', {
    type: 'button', class: 'cb-item', dataset: { id: String(item.id) },
    'aria-current': item.id === view.selectedId ? 'true' : 'false',
    on: { click: () => select(item.id), keydown: onItemKey },
  },
  el('span', { class: 'cb-line' },
    el('span', { class: 'badge', text: item.channel }),
    el('span', { class: 'cb-name', text: item.author }),
    item.recommendation === 'return' ? el('span', { class: 'badge urgent', text: '建议退回' }) : null,
    item.contact.valid ? null : el('span', { class: 'badge urgent', text: '电话存疑' })),
  el('span', { class: 'cb-line' }, formatDateTime(item.written_at),
    best ? ` · 建议：${best.department}` : ''),
  el('span', { class: 'cb-excerpt', text: item.text }));
}

function renderList() {
  const list = $('#list');
  const hadFocus = Boolean(document.activeElement && document.activeElement.closest('#list'));
  replaceChildren(list, view.items.map((item) => el('li', {}, itemButton(item))));
  setText($('#list-count'), String(view.items.length));
  $('#list-empty').hidden = view.items.length > 0;
  const buttons = [...list.querySelectorAll('.cb-item')];
  const stop = buttons.find((b) => b.dataset.id === String(view.selectedId)) || buttons[0];
  for (const button of buttons) button.tabIndex = button === stop ? 0 : -1;
  if (hadFocus && stop) stop.focus(); // a refresh keeps the keyboard in the list
}

async function loadList() {
  const ticket = view.listReplies.begin();
  let items;
  try {
    items = await get('/api/messages/queue');
  } catch (error) {
    sayError('读取待审核留言失败', error);
    return;
  }
  if (!view.listReplies.accept(ticket)) return;
  view.items = items;
  if (view.selectedId !== null && !items.some((item) => item.id === view.selectedId)) {
    if (!view.decidedHere.has(view.selectedId)) say(`留言 #${view.selectedId} 已由其他人处理，已从列表移除`);
    view.selectedId = null;
  }
  renderList();
  if (view.selectedId === null && items.length) await select(items[0].id);
  if (!items.length) showDetail(null);
}

function moveSelection(step, { focus = true } = {}) {
  if (!view.items.length) return;
  const index = view.items.findIndex((item) => item.id === view.selectedId);
  const next = Math.min(view.items.length - 1, Math.max(0, index + step));
  select(view.items[next].id, { focus });
}

function onItemKey(event) {
  const moves = { ArrowDown: 1, ArrowUp: -1 };
  if (event.key in moves) {
    event.preventDefault();
    moveSelection(moves[event.key]);
  }
}

// Detail ----------------------------------------------------------------------------------------

async function select(id, { focus = false } = {}) {
  view.selectedId = id;
  renderList();
  if (focus) {
    const button = $(`#list .cb-item[data-id="${id}"]`);
    if (button) button.focus();
  }
  const ticket = view.detailReplies.begin();
  let detail;
  try {
    detail = await get(`/api/messages/${id}`);
  } catch (error) {
    sayError('读取留言失败', error);
    return;
  }
  if (view.detailReplies.accept(ticket) && view.selectedId === id) showDetail(detail);
}

function checkItem(label, ok, reason) {
  return el('li', { class: ok ? 'check ok' : 'check problem', dataset: { ok: String(ok) } },
    el('strong', { text: `${label}：` }), ok ? '通过，' : '有问题，', reason);
}

function showDetail(detail) {
  view.detail = detail;
  $('#detail-empty').hidden = Boolean(detail);
  $('#detail-body').hidden = !detail;
  if (!detail) {
    setText($('#detail-title'), '留言详情');
    return;
  }
  setText($('#detail-title'), `留言 #${detail.id}`);
  setText($('#m-channel'), detail.channel);
  setText($('#m-author'), detail.author);
  setText($('#m-contact'), detail.contact_number || DASH);
  setText($('#m-time'), formatDateTime(detail.written_at));
  setText($('#m-left-with'), detail.left_with || DASH);
  // The words that chose the suggested department (the runners-up's are in their reasons).
  const words = detail.suggestions.length ? detail.suggestions[0].words : [];
  replaceChildren($('#m-text'), highlighted(detail.text, words));
  replaceChildren($('#m-checks'),
    ...CHECKS.map(([key, label, passes]) => checkItem(label, passes(detail.checks[key]),
      detail.checks[key].reason)),
    checkItem('联系电话', detail.contact.valid, detail.contact.reason));
  setText($('#m-summary'), detail.summary);
  replaceChildren($('#m-suggestions'), detail.suggestions.map((s, index) => el('li', {},
    el('strong', { text: s.department + (s.section ? ` · ${s.section}` : '') }), `（${s.reason}）`,
    ' ',
    el('button', {
      type: 'button', class: 'link', text: index === 0 ? '已预选' : '选用',
      on: { click: () => choose(s.department, s.section) },
    }))));
  const best = detail.suggestions[0];
  choose(best ? best.department : '', best ? best.section : '');
  $('#m-reason').value = detail.recommendation === 'return' ? detail.summary.replace(/^建议退回：/, '') : '';
}

// Decision --------------------------------------------------------------------------------------

function fillSections(department, section = '') {
  const found = view.departments.find((d) => d.name === department);
  replaceChildren($('#m-section'), el('option', { value: '', text: '（不指定科室）' }),
    (found ? found.sections : []).map((name) => el('option', { value: name, text: name })));
  $('#m-section').value = section && found && found.sections.includes(section) ? section : '';
}

function choose(department, section) {
  $('#m-department').value = department;
  fillSections(department, section);
}

async function decide(action) {
  const detail = view.detail;
  if (!detail) return;
  const body = { action };
  const reason = $('#m-reason').value.trim();
  if (reason) body.reason = reason;
  if (action === 'transfer') {
    body.department = $('#m-department').value;
    if ($('#m-section').value) body.section = $('#m-section').value;
  }
  if (action === 'return' && !reason) {
    say('退回需要填写理由', { error: true });
    $('#m-reason').focus();
    return;
  }
  const button = $(`#${action}`);
  await act(button, `${ACTION_ZH[action]}失败`, async () => {
    view.decidedHere.add(detail.id); // before the answer: its live event may come first
    let done;
    try {
      done = await post(`/api/messages/${detail.id}/decision`, body);
    } catch (error) {
      view.decidedHere.delete(detail.id);
      throw error;
    }
    const where = done.department ? `至${done.department}${done.section ? ` · ${done.section}` : ''}` : '';
    say(`留言 #${done.id} 已${ACTION_ZH[action]}${where}`);
    const index = view.items.findIndex((item) => item.id === done.id);
    view.items = view.items.filter((item) => item.id !== done.id);
    const next = view.items[Math.min(index, view.items.length - 1)];
    view.selectedId = null;
    renderList();
    if (next) await select(next.id, { focus: true });
    else showDetail(null);
    await loadList();
  });
}

// Page --------------------------------------------------------------------------------------------

function debounced(action, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, ms);
  };
}

function onShortcut(event) {
  if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
  if (event.target.closest && event.target.closest(EDITABLE)) return;
  if ($('#app').hidden) return;
  const actions = {
    r: () => loadList(),
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    a: () => decide('approve'),
    z: () => decide('transfer'),
    t: () => decide('return'),
  };
  const action = actions[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    action();
  }
}

async function loadDepartments() {
  try {
    view.departments = await get('/api/messages/departments');
  } catch (error) {
    sayError('读取部门失败', error);
    return;
  }
  replaceChildren($('#m-department'),
    view.departments.map((d) => el('option', { value: d.name, text: d.name })));
}

startPage(async () => {
  $('#refresh').addEventListener('click', () => loadList());
  $('#approve').addEventListener('click', () => decide('approve'));
  $('#transfer').addEventListener('click', () => decide('transfer'));
  $('#return').addEventListener('click', () => decide('return'));
  $('#m-department').addEventListener('change', () => fillSections($('#m-department').value));
  $('#decision-form').addEventListener('submit', (event) => {
    event.preventDefault(); // Enter in the reason field returns the message; elsewhere it transfers
    decide(document.activeElement === $('#m-reason') ? 'return' : 'transfer');
  });
  document.addEventListener('keydown', onShortcut);
  if (!(await loadIdentity())) return;
  await loadDepartments();
  await loadList();
  const refreshSoon = debounced(loadList, REFRESH_DEBOUNCE_MS);
  openEventStream({
    onEvent: (kind) => {
      if (kind === 'messages') refreshSoon();
    },
    onConnect: refreshSoon,
    onResync: refreshSoon,
    onStatus: showConnection,
  });
});
