// The callback console: the morning queue, listening to the message, claim, dial from my seat,
// record the outcome, release. Every refusal shows the API's own message.

import { get, getBlob, openEventStream, post } from './api.js';
import {
  CALLBACK_STATE_ZH, DASH, OUTCOMES, OUTCOME_NEEDS_DEPARTMENT, OUTCOME_ZH, PRIORITY_ZH, RESOLUTION_ZH,
  boundSeat, formatDateTime,
} from './format.js';
import {
  $, act, el, loadIdentity, newestReply, replaceChildren, say, sayError, setText, showConnection,
  startPage,
} from './ui.js';

const SEAT_KEY = 'hotline.seat';
const REFRESH_DEBOUNCE_MS = 250;
const EDITABLE = 'input, textarea, select, [contenteditable="true"]';

const view = {
  me: null, // {name, role}
  items: [], // CallbackOut[]
  selectedId: null,
  detail: null, // CallbackDetail
  audioUrl: null,
  // Live events refetch the queue and the detail; an answer overtaken by a newer one is dropped.
  queueReplies: newestReply(),
  detailReplies: newestReply(),
};

// Queue -------------------------------------------------------------------------------------

function stateText(item) {
  const state = CALLBACK_STATE_ZH[item.state] || item.state;
  if (item.state === 'closed' && item.resolution) {
    return `${state}（${RESOLUTION_ZH[item.resolution] || item.resolution}）`;
  }
  return state;
}

function isMine(item) {
  return Boolean(view.me && item.state === 'claimed' && item.claimed_by === view.me.name);
}

function itemButton(item) {
  const current = item.id === view.selectedId;
  return el('button', {
    type: 'button', class: 'cb-item', dataset: { id: String(item.id), priority: item.priority },
    'aria-current': current ? 'true' : 'false',
    on: { click: () => select(item.id), keydown: onItemKey },
  },
  el('span', { class: 'cb-line' },
    item.priority === 'urgent' ? el('span', { class: 'badge urgent', text: PRIORITY_ZH.urgent }) : null,
    el('span', { class: 'cb-number', text: item.number || '号码未知' }),
    item.citizen_name ? el('span', { class: 'cb-name', text: item.citizen_name }) : null,
    el('span', { class: 'badge', text: stateText(item) }),
    isMine(item) ? el('span', { class: 'badge mine', text: '我已认领' }) : null),
  el('span', { class: 'cb-line' },
    `应回拨 ${formatDateTime(item.due_at)}`, ` · 已拨 ${item.attempts} 次`,
    item.department ? ` · ${item.department}` : ''),
  item.transcript_excerpt ? el('span', { class: 'cb-excerpt', text: item.transcript_excerpt }) : null);
}

function renderQueue() {
  const list = $('#queue');
  const focusedId = document.activeElement && document.activeElement.closest('#queue')
    ? document.activeElement.dataset.id : null;
  replaceChildren(list, view.items.map((item) => el('li', {}, itemButton(item))));
  const open = view.items.filter((item) => item.state !== 'closed').length;
  setText($('#queue-count'), String(open));
  $('#queue-empty').hidden = view.items.length > 0;
  // One tab stop for the whole list (roving tabindex); arrows and J/K move within it.
  const buttons = [...list.querySelectorAll('.cb-item')];
  const stop = buttons.find((b) => b.dataset.id === String(view.selectedId)) || buttons[0];
  for (const button of buttons) button.tabIndex = button === stop ? 0 : -1;
  if (focusedId) {
    const again = buttons.find((b) => b.dataset.id === focusedId) || stop;
    if (again) again.focus();
  }
}

async function loadQueue() {
  const closed = $('#show-closed').checked;
  const ticket = view.queueReplies.begin();
  let items;
  try {
    items = await get(`/api/callbacks${closed ? '?include_closed=true' : ''}`);
  } catch (error) {
    sayError('读取回拨队列失败', error);
    return;
  }
  if (!view.queueReplies.accept(ticket)) return;
  view.items = items;
  renderQueue();
}

function moveSelection(step, focus = true) {
  if (!view.items.length) return;
  const focused = document.activeElement && document.activeElement.closest('#queue .cb-item');
  const from = focused ? Number(focused.dataset.id) : view.selectedId;
  const index = view.items.findIndex((item) => item.id === from);
  const next = Math.min(view.items.length - 1, Math.max(0, index + step));
  select(view.items[next].id, { focus });
}

function onItemKey(event) {
  const moves = { ArrowDown: 1, ArrowUp: -1 };
  if (event.key in moves) {
    event.preventDefault();
    moveSelection(moves[event.key]);
  } else if (event.key === 'Home' || event.key === 'End') {
    event.preventDefault();
    const item = event.key === 'Home' ? view.items[0] : view.items[view.items.length - 1];
    if (item) select(item.id, { focus: true });
  }
}

// Detail ------------------------------------------------------------------------------------

async function select(id, { focus = false } = {}) {
  if (view.selectedId !== id) resetAudio();
  view.selectedId = id;
  renderQueue();
  if (focus) {
    const button = $(`#queue .cb-item[data-id="${id}"]`);
    if (button) button.focus();
  }
  await loadDetail(id);
}

async function loadDetail(id) {
  const ticket = view.detailReplies.begin();
  let detail;
  try {
    detail = await get(`/api/callbacks/${id}`);
  } catch (error) {
    sayError('读取回拨详情失败', error);
    return;
  }
  // A refetch begun before a claim must not show the callback unclaimed again after it.
  if (view.selectedId !== id || !view.detailReplies.accept(ticket)) return;
  showDetail(detail);
  setText($('#d-name'), detail.citizen_name || DASH);
  try {
    const voicemail = await get(`/api/voicemails/${detail.voicemail_id}`);
    if (view.selectedId !== id) return;
    const explanation = $('#d-explanation');
    explanation.hidden = !voicemail.explanation_zh;
    setText(explanation, voicemail.explanation_zh ? `研判说明：${voicemail.explanation_zh}` : '');
  } catch {
    // the triage's explanation is a nicety; the callback stands without it
  }
}

function reasonText(reason) {
  if (reason && typeof reason === 'object') return reason.text_zh || reason.message || '其他原因';
  return String(reason);
}

function showDetail(detail) {
  const previous = view.detail && view.detail.id === detail.id ? view.detail.history : [];
  view.detail = { ...detail, history: detail.history || previous || [] };
  const d = view.detail;
  $('#detail-empty').hidden = true;
  $('#detail-body').hidden = false;
  setText($('#detail-title'), `回拨 #${d.id}`);
  setText($('#d-state'), stateText(d));
  setText($('#d-number'), d.number || DASH);
  setText($('#d-priority'), PRIORITY_ZH[d.priority] || d.priority);
  setText($('#d-received'), formatDateTime(d.received_at));
  setText($('#d-due'), formatDateTime(d.due_at));
  setText($('#d-attempts'), `${d.attempts} 次`);
  setText($('#d-claim'), d.claimed_by
    ? `${d.claimed_by}${isMine(d) ? '（我）' : ''}，${formatDateTime(d.claim_expires_at)} 前有效`
    : DASH);
  setText($('#d-department'), d.department || DASH);
  setText($('#d-reasons'), (d.reasons || []).map(reasonText).join('；') || DASH);
  setText($('#d-transcript'), d.transcript_excerpt || '（没有转写）');
  if (d.department) $('#outcome-department').placeholder = d.department;
  replaceChildren($('#d-history'), (d.history || []).map((h) => el('tr', {},
    el('td', { text: String(h.attempt) }),
    el('td', { text: formatDateTime(h.recorded_at) }),
    el('td', { text: h.seat_id ? `${h.staff}（${h.seat_id}）` : h.staff }),
    el('td', { text: OUTCOME_ZH[h.outcome] || h.outcome }),
    el('td', { text: [h.department, h.note].filter(Boolean).join('：') }))));
  const mine = isMine(d);
  $('#claim').disabled = d.state !== 'queued';
  $('#release').disabled = !mine;
  $('#dial').disabled = !mine;
  for (const control of $('#outcome-form').elements) control.disabled = !mine;
  syncDepartmentField();
}

function syncDepartmentField() {
  const department = $('#outcome-department');
  const needed = $('#outcome').value === OUTCOME_NEEDS_DEPARTMENT && !$('#outcome').disabled;
  department.disabled = !needed;
  department.required = needed;
  if (needed && !department.value && view.detail && view.detail.department) {
    department.value = view.detail.department;
  }
}

// Audio -------------------------------------------------------------------------------------

function resetAudio() {
  const player = $('#player');
  player.pause();
  player.removeAttribute('src');
  player.hidden = true;
  if (view.audioUrl) URL.revokeObjectURL(view.audioUrl);
  view.audioUrl = null;
}

async function listen() {
  const d = view.detail;
  if (!d) return;
  await act($('#listen'), '读取录音失败', async () => {
    const blob = await getBlob(d.audio_url);
    resetAudio();
    view.audioUrl = URL.createObjectURL(blob);
    const player = $('#player');
    player.src = view.audioUrl;
    player.hidden = false;
    say(`正在播放回拨 #${d.id} 的留言`);
    player.play().catch(() => {}); // autoplay may be refused; the controls are there
  });
}

// Actions -----------------------------------------------------------------------------------

function afterChange(row, message) {
  view.detailReplies.accept(view.detailReplies.begin());
  showDetail(row);
  say(message);
  loadQueue();
  loadDetail(row.id);
}

async function claimNext() {
  await act($('#claim-next'), '认领失败', async () => {
    const row = await post('/api/callbacks/claim-next');
    view.selectedId = row.id;
    resetAudio();
    afterChange(row, `已认领回拨 #${row.id}（${row.number || '号码未知'}）`);
    $('#outcome').focus();
  });
}

async function claim() {
  const d = view.detail;
  await act($('#claim'), '认领失败', async () => {
    const row = await post(`/api/callbacks/${d.id}/claim`);
    afterChange(row, `已认领回拨 #${row.id}`);
    $('#outcome').focus();
  });
}

async function release() {
  const d = view.detail;
  await act($('#release'), '释放失败', async () => {
    const row = await post(`/api/callbacks/${d.id}/release`);
    afterChange(row, `已释放回拨 #${row.id}，它回到了队列`);
    $('#claim').focus();
  });
}

async function dial() {
  const d = view.detail;
  const seat = $('#my-seat').value.trim();
  if (!seat) {
    say('请先填写“我的座席”（工号）', { error: true });
    $('#my-seat').focus();
    return;
  }
  await act($('#dial'), '拨打失败', async () => {
    const row = await post(`/api/callbacks/${d.id}/dial`, { seat_id: seat });
    afterChange(row, `正在呼叫 ${seat} 号座席的话机，接起后将拨打市民 ${row.number || ''}`);
  });
}

async function recordOutcome(event) {
  event.preventDefault();
  const d = view.detail;
  const outcome = $('#outcome').value;
  if (!outcome) {
    say('请选择回拨结果', { error: true });
    $('#outcome').focus();
    return;
  }
  const body = { outcome };
  if (outcome === OUTCOME_NEEDS_DEPARTMENT) body.department = $('#outcome-department').value.trim();
  const note = $('#outcome-note').value.trim();
  if (note) body.note = note;
  await act($('#outcome-submit'), '记录结果失败', async () => {
    const row = await post(`/api/callbacks/${d.id}/outcome`, body);
    $('#outcome-form').reset();
    const then = row.state === 'closed'
      ? `回拨已结束（${RESOLUTION_ZH[row.resolution] || row.resolution}）`
      : `将于 ${formatDateTime(row.due_at)} 后重拨`;
    afterChange(row, `已记录回拨 #${row.id}：${OUTCOME_ZH[outcome]}，${then}`);
    const current = $(`#queue .cb-item[data-id="${row.id}"]`) || $('#claim-next');
    current.focus();
  });
}

// Page --------------------------------------------------------------------------------------

function onShortcut(event) {
  if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
  if (event.target.closest && event.target.closest(EDITABLE)) return;
  if ($('#app').hidden) return;
  const actions = {
    n: () => claimNext(),
    r: () => refresh(),
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    l: () => listen(),
  };
  const action = actions[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    action();
  }
}

async function refresh() {
  await loadQueue();
  if (view.selectedId !== null) await loadDetail(view.selectedId);
}

function debounced(action, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, ms);
  };
}

async function loadDepartments() {
  try {
    const departments = await get('/api/threeway/departments');
    replaceChildren($('#departments'), departments.map((d) => el('option', { value: d.name })));
  } catch {
    // Without the bridge the list is unavailable; the field still takes a typed name.
  }
}

async function loadMe() {
  view.me = await loadIdentity();
  if (!view.me) return;
  const seat = $('#my-seat');
  const saved = localStorage.getItem(SEAT_KEY);
  seat.value = boundSeat(view.me) || saved || '';
  seat.readOnly = boundSeat(view.me) !== '';
}

startPage(async () => {
  $('#outcome').replaceChildren(el('option', { value: '', text: '请选择结果' }),
    ...OUTCOMES.map(([value, text]) => el('option', { value, text })));
  $('#outcome').addEventListener('change', syncDepartmentField);
  $('#outcome-form').addEventListener('submit', recordOutcome);
  $('#claim-next').addEventListener('click', claimNext);
  $('#refresh').addEventListener('click', refresh);
  $('#claim').addEventListener('click', claim);
  $('#release').addEventListener('click', release);
  $('#dial').addEventListener('click', dial);
  $('#listen').addEventListener('click', listen);
  $('#show-closed').addEventListener('change', loadQueue);
  $('#my-seat').addEventListener('change', (event) => {
    localStorage.setItem(SEAT_KEY, event.target.value.trim());
  });
  document.addEventListener('keydown', onShortcut);
  await loadMe();
  await loadQueue();
  loadDepartments();
  const refreshSoon = debounced(refresh, REFRESH_DEBOUNCE_MS);
  openEventStream({
    onEvent: (kind) => {
      if (kind === 'callbacks' || kind === 'voicemails') refreshSoon();
    },
    onConnect: refreshSoon,
    onResync: refreshSoon,
    onStatus: showConnection,
  });
});
