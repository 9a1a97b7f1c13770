// The wallboard: fifty seat tiles, callers waiting and today's figures, kept live by the event
// stream. Events are applied as they arrive; on every (re)connect and on `resync` the full
// picture is fetched again.

import { get, openEventStream } from './api.js';
import {
  DASH, SEAT_STATES, SEAT_STATE_ZH, formatClock, formatCount, formatDuration, formatPercent,
  formatSeconds, secondsSince,
} from './format.js';
import {
  $, el, say, serverNow, setServerTime, setText, showConnection, startPage,
} from './ui.js';

const TICK_MS = 1000;
const STATUS_MIN_INTERVAL_MS = 3000; // figures follow events, at most this often
const STATUS_REFRESH_MS = 30000; // and at least this often (today's counters move with calls)

const seats = new Map(); // seat_id -> SeatOut as the API shows it
const tiles = new Map(); // seat_id -> {item, state, timer, note}
const eventAppliedAt = new Map(); // seat_id -> performance.now() of the last `seat` event
const queue = { waiting: null, oldestMs: null };

// Problems: what failed to load, until it loads again ----------------------------------------

const problems = new Map();

function problem(source, what = null, error = null) {
  if (what === null) problems.delete(source);
  else if (!error || error.name !== 'AbortError') problems.set(source, `${what}：${error.message}`);
  say([...problems.values()].join('；'), { error: problems.size > 0 });
}

// Tiles -------------------------------------------------------------------------------------

// With several PBXs (halls) the tiles stand under each hall's heading, with its counts; with one
// they are one list, as always. Grouping follows the seats' own `hall`.
const groups = new Map(); // PBX name -> {item, counts, list} (only while grouped)
let grouped = false;
let hallOrder = []; // PBX names in hotline.conf's order, as /api/status lists them
const TILE_COLUMNS = 10; // the wall screen's columns (hotline.css), for each hall's share of height

function hallOf(seat) {
  return seat.hall || '';
}

function place(item, list) {
  const seatId = item.dataset.seat;
  const next = [...list.children].find((other) => other !== item && other.dataset.seat > seatId);
  list.insertBefore(item, next || null);
}

function groupFor(seat) {
  const hall = hallOf(seat);
  let group = groups.get(hall);
  if (group) return group;
  const name = seat.hall_name || hall;
  const counts = el('span', { class: 'tile-hall-counts' });
  const list = el('ol', { class: 'tiles', 'aria-label': `${name}座席状态` });
  const item = el('li', { class: 'tile-hall', dataset: { hall } },
    el('h3', { class: 'tile-hall-head' }, el('span', { class: 'tile-hall-name', text: name }), counts),
    list);
  group = { item, counts, list };
  groups.set(hall, group);
  $('#tiles').append(item);
  orderGroups();
  return group;
}

function orderGroups() {
  const rank = (hall) => (hallOrder.includes(hall) ? hallOrder.indexOf(hall) : hallOrder.length);
  const box = $('#tiles');
  [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b)).forEach(([, group], index) => {
    if (box.children[index] !== group.item) box.insertBefore(group.item, box.children[index] || null);
  });
}

function tileFor(seat) {
  let tile = tiles.get(seat.seat_id);
  if (!tile) {
    const state = el('span', { class: 'tile-state' });
    const timer = el('span', { class: 'tile-timer', 'aria-label': '本状态持续时间' });
    const note = el('span', { class: 'tile-note' });
    const item = el('li', { class: 'tile', dataset: { seat: seat.seat_id } },
      el('span', { class: 'tile-seat', text: seat.seat_id }), state, timer, note);
    tile = { item, state, timer, note };
    tiles.set(seat.seat_id, tile);
  }
  const list = grouped ? groupFor(seat).list : $('#tiles');
  if (tile.item.parentNode !== list) place(tile.item, list);
  return tile;
}

// Group the tiles by hall when the seats name more than one, one list otherwise.
function setGrouped(on) {
  if (on === grouped) return;
  grouped = on;
  const box = $('#tiles');
  box.classList.toggle('grouped', on);
  box.replaceChildren();
  groups.clear();
  for (const seat of [...seats.values()].sort((a, b) => (a.seat_id < b.seat_id ? -1 : 1))) paintTile(seat);
}

function paintGroups() {
  if (!grouped) return;
  const byHall = new Map();
  for (const seat of seats.values()) {
    const counts = byHall.get(hallOf(seat)) || { total: 0 };
    counts.total += 1;
    counts[seat.state] = (counts[seat.state] || 0) + 1;
    byHall.set(hallOf(seat), counts);
  }
  const rows = [];
  for (const item of $('#tiles').children) { // in the order shown
    const hall = item.dataset.hall;
    const group = groups.get(hall);
    const counts = byHall.get(hall) || { total: 0 };
    const online = counts.total - (counts.offline || 0) - (counts.logged_out || 0);
    setText(group.counts, `共 ${counts.total} 席 · 在线 ${online} · 空闲 ${counts.available || 0}`
      + ` · 通话中 ${counts.on_call || 0} · 小休 ${counts.paused || 0}`);
    rows.push(`auto minmax(0, ${Math.max(1, Math.ceil(counts.total / TILE_COLUMNS))}fr)`);
  }
  $('#tiles').style.setProperty('--hall-rows', rows.join(' '));
}

function noteOf(seat) {
  if (seat.state === 'paused') return seat.pause_reason || '';
  if (seat.state === 'on_call' && seat.call && seat.call.three_way) return '三方通话';
  if (seat.state === 'wrap_up' && seat.wrapup_until) {
    const left = (Date.parse(seat.wrapup_until) - serverNow()) / 1000;
    return left > 0 ? `还剩 ${Math.ceil(left)} 秒` : '';
  }
  if (seat.state === 'offline' && seat.registered === false) return '话机未注册';
  return '';
}

function paintTile(seat) {
  const tile = tileFor(seat);
  const name = SEAT_STATE_ZH[seat.state] || seat.state;
  tile.item.dataset.state = seat.state;
  tile.item.dataset.hall = seat.hall || '';
  tile.item.classList.toggle('stale', Boolean(seat.stale));
  const hall = grouped && seat.hall_name ? `${seat.hall_name} ` : '';
  tile.item.setAttribute('aria-label',
    `${hall}${seat.seat_id}号座席 ${name}${seat.stale ? '（可能已过时）' : ''}`);
  setText(tile.state, name);
  setText(tile.note, noteOf(seat));
  setText(tile.timer, formatDuration(secondsSince(seat.state_since, serverNow())));
}

function applySeat(seat) {
  if (!seat || typeof seat.seat_id !== 'string') return;
  seats.set(seat.seat_id, seat);
  if (!grouped && [...seats.values()].some((other) => hallOf(other) !== hallOf(seat))) setGrouped(true);
  paintTile(seat);
  paintLegend();
  paintStale();
}

// While the link to the PBX is down the service keeps the last picture it had: say so, and
// since when, rather than show old states as if they were live.
function staleSince() {
  for (const seat of seats.values()) {
    if (seat.stale) return Date.parse(seat.stale_since);
  }
  return null;
}

function paintStale() {
  const since = staleSince();
  const banner = $('#stale');
  $('#tiles').classList.toggle('stale', since !== null);
  if (since === null) {
    banner.hidden = true;
    setText(banner, '');
    return;
  }
  const when = Number.isFinite(since) ? formatClock(new Date(since)) : DASH;
  const howLong = Number.isFinite(since) ? formatDuration((serverNow() - since) / 1000) : DASH;
  banner.hidden = false;
  setText(banner, `与交换机的连接已中断 ${howLong}：座席状态停在 ${when}，可能已过时`);
}

function paintLegend() {
  const counts = Object.fromEntries(SEAT_STATES.map((state) => [state, 0]));
  for (const seat of seats.values()) counts[seat.state] = (counts[seat.state] || 0) + 1;
  $('#legend').replaceChildren(...SEAT_STATES.map((state) =>
    el('li', { dataset: { state } }, `${SEAT_STATE_ZH[state]} ${counts[state]}`)));
  paintGroups();
}

async function loadSeats() {
  const started = performance.now();
  let list;
  try {
    list = await get('/api/seats');
  } catch (error) {
    problem('seats', '读取座席失败', error);
    return;
  }
  problem('seats');
  const listed = new Set();
  setGrouped(new Set(list.map(hallOf)).size > 1);
  for (const seat of list) {
    listed.add(seat.seat_id);
    // An event applied while this list was on its way is newer than the list.
    if ((eventAppliedAt.get(seat.seat_id) || 0) > started) continue;
    seats.set(seat.seat_id, seat);
    paintTile(seat);
  }
  for (const [seatId, tile] of tiles) {
    if (!listed.has(seatId)) {
      tile.item.remove();
      tiles.delete(seatId);
      seats.delete(seatId);
    }
  }
  for (const [hall, group] of groups) {
    if (!group.list.children.length) {
      group.item.remove();
      groups.delete(hall);
    }
  }
  paintLegend();
  paintStale();
}

// Figures -----------------------------------------------------------------------------------

function setQueue(waiting, oldestMs) {
  queue.waiting = waiting;
  queue.oldestMs = waiting ? oldestMs : null;
  paintQueue();
}

function paintQueue() {
  setText($('#fig-waiting'), formatCount(queue.waiting));
  const longest = queue.oldestMs === null ? (queue.waiting === 0 ? 0 : null)
    : (serverNow() - queue.oldestMs) / 1000;
  setText($('#fig-longest'), longest === null ? DASH : formatDuration(longest));
  $('#box-waiting').classList.toggle('alert', queue.waiting > 0);
  $('#box-longest').classList.toggle('alert', queue.waiting > 0);
}

function applyQueueEvent(data) {
  const waiting = Array.isArray(data.waiting) ? data.waiting : [];
  const joined = waiting.map((caller) => Date.parse(caller.joined_at)).filter(Number.isFinite);
  let oldest = joined.length ? Math.min(...joined) : null;
  if (oldest === null && Number.isFinite(data.longest_wait_seconds)) {
    oldest = serverNow() - data.longest_wait_seconds * 1000;
  }
  setQueue(waiting.length, oldest);
}

// Several PBXs (halls): one row each and the total, which is the answer's own figures.
function hallRow(name, part, total = false) {
  const seatsOf = part.seats || { by_state: {}, total: null };
  const online = seatsOf.total === null ? null
    : seatsOf.total - (seatsOf.by_state.offline || 0) - (seatsOf.by_state.logged_out || 0);
  const today = part.today || {};
  const link = total ? '' : (part.ami && part.ami.connected ? '已连接' : '未连接');
  const cells = [name, link,
    `${formatCount(seatsOf.by_state.available)}/${formatCount(seatsOf.by_state.on_call)}/${formatCount(online)}`,
    formatCount(part.queue ? part.queue.waiting : null),
    formatCount(part.calls ? part.calls.in_progress : null),
    formatCount(today.received), formatCount(today.answered), formatCount(today.abandoned),
    formatPercent(today.service_level)];
  return el('tr', { class: total ? 'hall-total' : '', dataset: { hall: total ? '' : part.name } },
    el('th', { scope: 'row', text: cells[0] }), ...cells.slice(1).map((text) => el('td', { text })));
}

function paintHalls(status) {
  const halls = Array.isArray(status.halls) ? status.halls : [];
  $('#halls').hidden = halls.length < 2;
  $('#app').classList.toggle('several-halls', halls.length > 1);
  if (halls.length < 2) return;
  hallOrder = halls.map((part) => part.name);
  orderGroups();
  paintGroups();
  $('#hall-rows').replaceChildren(...halls.map((part) => hallRow(part.display_name, part)),
    hallRow('合计', status, true));
}

function paintStatus(status) {
  if (status.generated_at) setServerTime(status.generated_at);
  paintHalls(status);
  if (status.queue) {
    const longest = status.queue.longest_wait_seconds;
    setQueue(status.queue.waiting, Number.isFinite(longest) ? serverNow() - longest * 1000 : null);
  }
  setText($('#fig-calls'), formatCount(status.calls ? status.calls.in_progress : null));
  const today = status.today || {};
  setText($('#fig-received'), formatCount(today.received));
  setText($('#fig-answered'), formatCount(today.answered));
  setText($('#fig-abandoned'), formatCount(today.abandoned));
  setText($('#fig-sl'), formatPercent(today.service_level));
  setText($('#sl-label'), Number.isFinite(today.service_level_seconds)
    ? `服务水平（${today.service_level_seconds} 秒）` : '服务水平');
  setText($('#fig-asa'), formatSeconds(today.average_speed_of_answer_seconds));
  const callbacks = status.callbacks && status.callbacks.by_state;
  setText($('#fig-callbacks'), formatCount(callbacks ? callbacks.queued : null));
}

async function loadStatus() {
  try {
    paintStatus(await get('/api/status'));
    problem('status');
  } catch (error) {
    problem('status', '读取话务数据失败', error);
  }
}

function throttled(action, minIntervalMs) {
  let last = 0;
  let timer = null;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      action();
    }, Math.max(0, last + minIntervalMs - Date.now()));
  };
}

const refreshStatusSoon = throttled(loadStatus, STATUS_MIN_INTERVAL_MS);

// Live --------------------------------------------------------------------------------------

async function refetchAll() {
  await Promise.all([loadSeats(), loadStatus()]);
}

function onEvent(kind, data) {
  switch (kind) {
    case 'seat':
      eventAppliedAt.set(data.seat_id, performance.now());
      applySeat(data);
      refreshStatusSoon();
      break;
    case 'queue':
      applyQueueEvent(data);
      break;
    case 'calls':
      setText($('#fig-calls'), formatCount(data.in_progress));
      refreshStatusSoon();
      break;
    case 'voicemails':
    case 'callbacks':
      refreshStatusSoon();
      break;
    default:
      break;
  }
}

function tick() {
  const now = serverNow();
  setText($('#clock'), formatClock(new Date(now)));
  for (const seat of seats.values()) {
    const tile = tiles.get(seat.seat_id);
    if (!tile) continue;
    setText(tile.timer, formatDuration(secondsSince(seat.state_since, now)));
    if (seat.state === 'wrap_up') setText(tile.note, noteOf(seat));
  }
  paintQueue();
  paintStale();
}

startPage(() => {
  tick();
  setInterval(tick, TICK_MS);
  setInterval(loadStatus, STATUS_REFRESH_MS);
  refetchAll();
  openEventStream({
    onEvent,
    onConnect: (hello) => {
      if (hello.server_time) setServerTime(hello.server_time);
      refetchAll();
    },
    onResync: () => refetchAll(),
    onStatus: showConnection,
  });
});
