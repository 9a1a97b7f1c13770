// The operator panel: my seat (login, pause with a reason, resume, logout), my current call and
// three-way calls by department. The seat is the one the token is bound to (GET /api/me); a team
// lead, an admin (or a monitor, read-only) chooses one.

import { get, openEventStream, post } from './api.js';
import {
  DASH, PARTY_ROLE_ZH, PARTY_STATE_ZH, PAUSE_REASONS, SEAT_STATE_ZH, THREEWAY_FINAL, THREEWAY_STATE_ZH,
  boundSeat, formatDateTime, formatDuration, secondsSince,
} from './format.js';
import {
  $, act, el, loadIdentity, newestReply, replaceChildren, say, sayError, serverNow, setServerTime, setText,
  showConnection, startPage,
} from './ui.js';

const SEAT_KEY = 'hotline.seat';
const TICK_MS = 1000;
const SESSION_POLL_MS = 1000;

const view = {
  me: null,
  seatId: '',
  seat: null, // SeatOut
  departments: [],
  session: null, // SessionOut
  pollTimer: null,
  // A seat refetch overtaken by a live seat event or an action's reply is dropped.
  seatReplies: newestReply(),
};

const canAct = () => Boolean(view.me && view.me.role !== 'monitor');
const callLive = () => Boolean(view.seat && view.seat.call && view.seat.call.linkedid && !view.seat.call.ended_at);
const sessionOpen = () => Boolean(view.session && !THREEWAY_FINAL.has(view.session.state));

// My seat -----------------------------------------------------------------------------------

function renderSeat() {
  const seat = view.seat;
  setText($('#seat-id'), view.seatId ? `${view.seatId} 号` : '');
  const chip = $('#seat-state');
  if (!seat) {
    delete chip.dataset.state;
    setText(chip, DASH);
  } else {
    chip.dataset.state = seat.state;
    setText(chip, SEAT_STATE_ZH[seat.state] || seat.state);
  }
  // The link to the PBX is down: this is the last state known, not necessarily the current one.
  const stale = $('#seat-stale');
  stale.hidden = !(seat && seat.stale);
  setText(stale, seat && seat.stale
    ? `与交换机的连接已中断（${formatDateTime(seat.stale_since)} 起），座席状态可能已过时` : '');
  setText($('#seat-registered'), !seat || seat.registered === null ? DASH
    : seat.registered ? '已注册' : '未注册（话机离线）');
  setText($('#seat-member'), !seat ? DASH : seat.logged_in ? '已签入' : '未签入');
  setText($('#seat-pause'), seat && seat.paused
    ? `${seat.pause_reason || '未说明'}（${formatDateTime(seat.paused_since)} 起）` : DASH);
  const acting = canAct() && Boolean(seat);
  $('#login').disabled = !acting || seat.logged_in;
  $('#logout').disabled = !acting || !seat.logged_in;
  $('#resume').disabled = !acting || !seat.paused;
  for (const control of $('#pause-form').elements) control.disabled = !acting || !seat.logged_in || seat.paused;
  renderCall();
  renderDepartments();
  tick();
}

function applySeat(seat) {
  view.seat = seat;
  renderSeat();
}

async function loadSeat() {
  if (!view.seatId) return;
  const ticket = view.seatReplies.begin();
  try {
    const seat = await get(`/api/seats/${encodeURIComponent(view.seatId)}`);
    if (seat.seat_id === view.seatId && view.seatReplies.accept(ticket)) applySeat(seat);
  } catch (error) {
    view.seat = null;
    renderSeat();
    sayError(`读取 ${view.seatId} 号座席失败`, error);
  }
}

async function seatAction(button, action, what, body = undefined) {
  await act(button, `${what}失败`, async () => {
    const result = await post(`/api/seats/${encodeURIComponent(view.seatId)}/${action}`, body);
    view.seatReplies.accept(view.seatReplies.begin()); // newer than any refetch on its way
    applySeat(result.seat);
    const pbx = result.pbx_message ? `（PBX：${result.pbx_message}）` : '';
    say(`${what}成功${pbx}`);
  });
}

function pause(event) {
  event.preventDefault();
  const other = $('#pause-other').value.trim();
  const reason = other || $('#pause-reason').value;
  seatAction($('#pause'), 'pause', `小休（${reason}）`, { reason }).then(() => {
    $('#pause-other').value = '';
    if (!$('#resume').disabled) $('#resume').focus();
  });
}

// My call -----------------------------------------------------------------------------------

function renderCall() {
  const call = view.seat && view.seat.call;
  $('#call-empty').hidden = Boolean(call);
  $('#call-facts').hidden = !call;
  setText($('#call-title'), call && call.ended_at ? '刚结束的通话' : '当前通话');
  if (!call) return;
  setText($('#call-number'), call.citizen_number || '未显示号码');
  setText($('#call-name'), call.citizen_name || DASH);
  setText($('#call-started'), formatDateTime(call.started_at));
  setText($('#call-wait'), Number.isFinite(call.queue_wait_seconds)
    ? formatDuration(call.queue_wait_seconds) : DASH);
  setText($('#call-threeway'), call.three_way ? '是' : '否');
}

function tick() {
  const now = serverNow();
  const seat = view.seat;
  setText($('#seat-since'), seat && seat.state_since
    ? `已持续 ${formatDuration(secondsSince(seat.state_since, now))}` : '');
  const call = seat && seat.call;
  if (call) {
    const end = call.ended_at ? Date.parse(call.ended_at) : now;
    setText($('#call-duration'), call.started_at
      ? formatDuration(secondsSince(call.started_at, end)) : DASH);
  }
}

// Three-way ---------------------------------------------------------------------------------

function renderDepartments() {
  const startable = canAct() && callLive() && !sessionOpen();
  replaceChildren($('#departments'), view.departments.map((department) => {
    const onDuty = department.on_duty_now || [];
    return el('li', {},
      el('span', {},
        el('strong', { text: department.name }),
        el('span', { class: 'help', text: onDuty.length ? ` 值班：${onDuty.join('、')}` : ' 暂无值班专家' })),
      el('button', {
        type: 'button', class: 'primary', text: '邀请专家',
        'aria-label': `邀请${department.name}的值班专家加入通话`,
        disabled: !startable || onDuty.length === 0,
        on: { click: (event) => startThreeWay(event.currentTarget, department.name) },
      }));
  }));
  if (!view.departments.length) {
    $('#departments').append(el('li', { class: 'empty', text: '没有可邀请的部门' }));
  }
}

async function loadDepartments() {
  try {
    view.departments = await get('/api/threeway/departments');
  } catch (error) {
    view.departments = [];
    sayError('读取部门失败', error);
  }
  renderDepartments();
}

function renderSession() {
  const session = view.session;
  $('#session').hidden = !session;
  renderDepartments();
  if (!session) return;
  setText($('#session-id'), session.department ? `· ${session.department}` : '');
  const state = THREEWAY_STATE_ZH[session.state] || session.state;
  setText($('#session-state'), session.reason ? `${state}：${session.reason}` : state);
  replaceChildren($('#parties'), session.participants.map((party) => el('li', {},
    `${PARTY_ROLE_ZH[party.role] || party.role} ${party.name}：${PARTY_STATE_ZH[party.state] || party.state}`,
    party.reason ? `（${party.reason}）` : '')));
  const acting = canAct() && !THREEWAY_FINAL.has(session.state);
  $('#tw-cancel').disabled = !acting || session.state !== 'dialling';
  $('#tw-drop').disabled = !acting || session.state !== 'conference';
  $('#tw-leave').disabled = !acting || session.state !== 'conference';
  $('#tw-end').disabled = !acting;
}

function showSession(session) {
  const before = view.session ? view.session.state : null;
  view.session = session;
  renderSession();
  // A session's progress changes the call (three-way or not) without moving the seat's state,
  // so no `seat` event may come: read the seat again whenever the session moves.
  if (session && before !== null && before !== session.state) loadSeat();
  clearTimeout(view.pollTimer);
  if (session && !THREEWAY_FINAL.has(session.state)) {
    view.pollTimer = setTimeout(pollSession, SESSION_POLL_MS);
  }
}

async function pollSession() {
  const session = view.session;
  if (!session) return;
  try {
    showSession(await get(`/api/threeway/sessions/${encodeURIComponent(session.session_id)}`));
  } catch (error) {
    sayError('读取三方通话状态失败', error);
    view.pollTimer = setTimeout(pollSession, SESSION_POLL_MS * 3);
  }
}

async function loadSessions() {
  try {
    const sessions = await get('/api/threeway/sessions');
    const mine = sessions.find((s) => s.seat_id === view.seatId && !THREEWAY_FINAL.has(s.state));
    if (mine) showSession(mine);
  } catch {
    // Without the bridge there are no sessions; the departments' error already says so.
  }
}

async function startThreeWay(button, department) {
  const call = view.seat && view.seat.call;
  if (!call || !call.linkedid) return;
  await act(button, `邀请${department}专家失败`, async () => {
    const session = await post(`/api/threeway/calls/${encodeURIComponent(call.linkedid)}/start`,
      { seat_id: view.seatId, department });
    showSession(session);
    say(`正在呼叫${department}的值班专家`);
  });
}

async function sessionAction(button, action, what) {
  const session = view.session;
  if (!session) return;
  await act(button, `${what}失败`, async () => {
    showSession(await post(`/api/threeway/sessions/${encodeURIComponent(session.session_id)}/${action}`));
    say(`${what}：${THREEWAY_STATE_ZH[view.session.state] || view.session.state}`);
  });
}

// Page --------------------------------------------------------------------------------------

async function chooseSeat(seatId) {
  view.seatId = seatId;
  view.seat = null;
  view.session = null;
  clearTimeout(view.pollTimer);
  renderSession();
  renderSeat();
  await Promise.all([loadSeat(), loadSessions()]);
}

async function setUpChooser() {
  const chooser = $('#seat-chooser');
  const select = $('#seat-select');
  let seats = [];
  try {
    seats = await get('/api/seats');
  } catch (error) {
    sayError('读取座席列表失败', error);
  }
  replaceChildren(select, seats.map((seat) => el('option', { value: seat.seat_id, text: seat.seat_id })));
  chooser.hidden = false;
  const saved = localStorage.getItem(SEAT_KEY);
  const first = seats.find((seat) => seat.seat_id === saved) || seats[0];
  if (first) select.value = first.seat_id;
  select.addEventListener('change', () => {
    localStorage.setItem(SEAT_KEY, select.value);
    chooseSeat(select.value);
  });
  return first ? first.seat_id : '';
}

startPage(async () => {
  replaceChildren($('#pause-reason'), PAUSE_REASONS.map((reason) => el('option', { value: reason, text: reason })));
  $('#login').addEventListener('click', (e) => seatAction(e.currentTarget, 'login', '签入'));
  $('#logout').addEventListener('click', (e) => seatAction(e.currentTarget, 'logout', '签出'));
  $('#resume').addEventListener('click', (e) => seatAction(e.currentTarget, 'resume', '恢复接听'));
  $('#pause-form').addEventListener('submit', pause);
  $('#tw-cancel').addEventListener('click', (e) => sessionAction(e.currentTarget, 'cancel', '取消呼叫'));
  $('#tw-drop').addEventListener('click', (e) => sessionAction(e.currentTarget, 'drop-expert', '请专家退出'));
  $('#tw-leave').addEventListener('click', (e) => sessionAction(e.currentTarget, 'leave', '我退出'));
  $('#tw-end').addEventListener('click', (e) => sessionAction(e.currentTarget, 'end', '全部挂断'));
  setInterval(tick, TICK_MS);
  view.me = await loadIdentity();
  if (!view.me) return;
  const seatId = boundSeat(view.me) || await setUpChooser();
  if (view.me.role === 'monitor') say('监控角色只能查看，不能操作座席');
  loadDepartments();
  await chooseSeat(seatId);
  openEventStream({
    onEvent: (kind, data) => {
      if (kind === 'seat' && data.seat_id === view.seatId) {
        view.seatReplies.accept(view.seatReplies.begin());
        applySeat(data);
      }
    },
    onConnect: (hello) => {
      if (hello.server_time) setServerTime(hello.server_time);
      loadSeat();
      loadSessions();
      loadDepartments();
    },
    onResync: () => {
      loadSeat();
      loadSessions();
    },
    onStatus: showConnection,
  });
});
