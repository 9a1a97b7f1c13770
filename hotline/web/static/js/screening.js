// The screening desk (筛选台): the night's messages, needs-review first, each decided in one or
// two keystrokes (valid with an editable number, invalid with a reason, duplicate of one of the
// caller's recent messages, confirm the machine, a whole spot-check group at once, undo). Playback
// skips everything but speech.

import { get, getBlob, post } from './api.js';
import { DASH, PRIORITY_ZH, formatDateTime, formatDuration } from './format.js';
import {
  $, act, el, loadIdentity, newestReply, replaceChildren, say, setText, startPage,
} from './ui.js';

const EDITABLE = 'input, textarea, select, [contenteditable="true"]';
const SPEEDS = [1, 1.5, 2];
const BACK_S = 5;
const SKIP_CHECK_MS = 50; // how often playback is moved past silence and tones
const GROUP_ZH = { needs_review: '待复核', valid: '机器判有效（抽查）', invalid: '机器判无效（抽查）' };
const STATE_ZH = { needs_review: '待人工复核', valid: '有效', invalid: '无效', new: '未分拣' };
const INVALID_REASONS = [
  ['silence', '录音全程静音'], ['hangup_at_beep', '提示音后即挂机'], ['tones_only', '只有信号音'],
  ['noise_only', '只有噪声'], ['advert', '广告推销'], ['no_request', '没有诉求（误拨、闲聊）'],
];
const ERROR_ZH = {
  version_conflict: '这条留言刚被别人处理过，已重新读取，请再看一遍',
  no_callback_number: '没有回拨号码，请填写',
  validation_error: '号码格式不对：请填写 11 位手机号、带区号的固话或本地固话（只填数字）',
  unknown_department: '没有这个部门',
  nothing_to_undo: '没有可以撤销的操作',
  not_decided: '这条留言还没有机器判定，不能直接确认',
  invalid_duplicate_of: '只能标为同一来电人近期留言的重复',
};

const view = {
  me: null,
  groups: [], // [{key, count, items}]
  order: [], // every item in display order
  selectedId: null,
  strip: null,
  audio: new Map(), // voicemail id -> object URL (the next message is fetched ahead)
  speed: 0,
  mode: null, // null | 'invalid' | 'duplicate' | 'batch'
  choices: [],
  // The start's night, a refresh (R) and the reload after a decision may answer in any order:
  // only the newest request's answer is shown.
  nightReplies: newestReply(),
};

function chinese(error, what) {
  const text = error && ERROR_ZH[error.code];
  return `${what}：${text || (error && error.message) || error}`;
}

// The night ---------------------------------------------------------------------------------

function item(id) {
  return view.order.find((row) => row.id === id) || null;
}

function callerText(row) {
  if (row.caller_withheld || !row.caller_num) return '号码隐藏';
  return row.caller_num;
}

function rowButton(row, number) {
  return el('button', {
    type: 'button', class: 'cb-item', dataset: { id: String(row.id), priority: row.priority || 'normal' },
    'aria-current': row.id === view.selectedId ? 'true' : 'false',
    on: { click: () => select(row.id) },
  },
  el('span', { class: 'cb-line' },
    el('span', { class: 'badge', text: `#${number}` }),
    row.priority === 'urgent' ? el('span', { class: 'badge urgent', text: PRIORITY_ZH.urgent }) : null,
    el('span', { class: 'cb-number', text: callerText(row) }),
    el('span', { text: formatDateTime(row.call_time) }),
    row.override_by
      ? el('span', { class: 'badge mine', text: `已处理：${STATE_ZH[row.state] || row.state}` }) : null),
  el('span', { class: 'cb-excerpt', text: row.explanation_zh || '' }));
}

function renderNight() {
  let number = 0;
  const sections = view.groups.map((group) => el('section',
    { class: 'sc-group', dataset: { group: group.key } },
    el('h3', {}, GROUP_ZH[group.key], ' ', el('span', { class: 'badge', text: String(group.count) })),
    el('ol', { class: 'cb-list' }, group.items.map((row) => {
      number += 1;
      return el('li', {}, rowButton(row, number));
    }))));
  replaceChildren($('#night'), sections);
}

async function loadNight() {
  const ticket = view.nightReplies.begin();
  let night;
  try {
    night = await get('/api/voicemails/screening');
  } catch (error) {
    say(chinese(error, '读取留言失败'), { error: true });
    return;
  }
  if (!view.nightReplies.accept(ticket)) return;
  view.groups = night.groups;
  view.order = night.groups.flatMap((group) => group.items);
  setText($('#progress'), `已处理 ${night.done} / ${night.total}`);
  renderNight();
}

function nextUndecided(afterId) {
  const start = view.order.findIndex((row) => row.id === afterId);
  const rest = [...view.order.slice(start + 1), ...view.order.slice(0, Math.max(0, start))];
  return rest.find((row) => !row.override_by) || null;
}

function move(step) {
  if (!view.order.length) return;
  const index = view.order.findIndex((row) => row.id === view.selectedId);
  const next = Math.min(view.order.length - 1, Math.max(0, index + step));
  select(view.order[next].id);
}

// Detail --------------------------------------------------------------------------------------

async function select(id) {
  stopPlayback();
  closeForms();
  view.selectedId = id;
  renderNight();
  const row = item(id);
  if (!row) return;
  const button = $(`#night .cb-item[data-id="${id}"]`);
  if (button) button.focus();
  showDetail(row);
  view.strip = null;
  replaceChildren($('#strip'));
  if (row.has_audio) {
    try {
      const strip = await get(`/api/voicemails/${id}/strip`);
      if (view.selectedId === id) { // a late strip of the message before must not play this one
        view.strip = strip;
        drawStrip(strip);
      }
    } catch (error) {
      say(chinese(error, '读取录音能量失败'), { error: true });
    }
    fetchAhead(id);
  }
}

function showDetail(row) {
  $('#detail-empty').hidden = true;
  $('#detail-body').hidden = false;
  setText($('#detail-title'), `留言 #${row.id}`);
  setText($('#d-caller'), callerText(row));
  setText($('#d-time'), formatDateTime(row.call_time));
  setText($('#d-duration'), formatDuration(row.duration_s));
  // Once a person decided, the state is theirs; the machine's own words stay in the explanation.
  setText($('#d-verdict'), `${STATE_ZH[row.state] || row.state}（${row.override_by ? '人工' : '机器'}）`);
  // The labels come with the reasons (text_zh, one home on the server), the spool's checks first.
  const reasons = [...(row.review_reasons || []), ...(row.triage_reasons || [])].map((r) => r.text_zh);
  setText($('#d-reasons'), [...new Set(reasons.filter(Boolean))].join('、') || DASH);
  setText($('#d-decided'), row.override_by ? `${row.override_by}，${formatDateTime(row.override_at)}` : '未处理');
  setText($('#d-explanation'), row.explanation_zh || '');
  setText($('#d-transcript'), transcriptText(row));
}

const HAN = /[\u3400-\u9fff]/;

/** The transcript, unless it is no Chinese at all (the stand-in model's words mean nothing here). */
function transcriptText(row) {
  const unusable = (row.triage_reasons || []).find((r) => r.code === 'transcript_unusable');
  if (!row.transcript) return '（没有可用的转写，请收听录音）';
  if (unusable && !HAN.test(row.transcript)) return `（${unusable.text_zh}，不显示转写，请收听录音）`;
  return unusable ? `（${unusable.text_zh}，仅供参考）${row.transcript}` : row.transcript;
}

function inSpeech(t, segments) {
  return segments.some(([a, b]) => t >= a && t < b);
}

function drawStrip(strip) {
  const bars = strip.levels_db.map((level, i) => {
    const t = i * strip.step_s;
    const bar = el('span', { class: inSpeech(t, strip.speech_segments) ? 'bar speech' : 'bar' });
    bar.style.height = `${Math.max(2, Math.round((level + 70) * 0.8))}px`;
    return bar;
  });
  replaceChildren($('#strip'), bars);
}

// Playback (speech segments only) ------------------------------------------------------------

let skipTimer = null;

async function audioUrl(id) {
  if (!view.audio.has(id)) {
    view.audio.set(id, getBlob(`/api/voicemails/${id}/audio`).then((blob) => URL.createObjectURL(blob)));
  }
  return view.audio.get(id);
}

/** Fetch what may come next: the message below (J) and the next undecided one (where a decision
 * moves to); every other recording is let go, so a morning of 300 messages holds three at most. */
function fetchAhead(id) {
  const index = view.order.findIndex((row) => row.id === id);
  const ahead = [view.order[index + 1], nextUndecided(id)].filter((row) => row && row.has_audio);
  const kept = new Set([id, ...ahead.map((row) => row.id)]);
  for (const [other, url] of view.audio) {
    if (kept.has(other)) continue;
    view.audio.delete(other);
    url.then((u) => URL.revokeObjectURL(u)).catch(() => {});
  }
  for (const row of ahead) audioUrl(row.id).catch(() => view.audio.delete(row.id));
}

function segments() {
  return view.strip && view.strip.speech_segments.length ? view.strip.speech_segments : null;
}

function skipToSpeech() {
  const player = $('#player');
  const speech = segments();
  if (!speech || player.paused) return;
  const t = player.currentTime;
  if (inSpeech(t, speech)) return;
  const next = speech.find(([a]) => a > t);
  if (next) player.currentTime = next[0];
  else stopPlayback();
}

function stopPlayback() {
  const player = $('#player');
  player.pause();
  clearInterval(skipTimer);
  skipTimer = null;
  setText($('#play'), '播放人声');
  setText($('#play-state'), '');
}

async function togglePlay() {
  const row = item(view.selectedId);
  if (!row || !row.has_audio) return;
  const player = $('#player');
  if (!player.paused) {
    stopPlayback();
    return;
  }
  await act($('#play'), '读取录音失败', async () => {
    const url = await audioUrl(row.id);
    if (player.dataset.id !== String(row.id)) {
      player.src = url;
      player.dataset.id = String(row.id);
      const first = segments();
      player.currentTime = first ? first[0][0] : 0;
    }
    player.playbackRate = SPEEDS[view.speed];
    skipTimer = setInterval(skipToSpeech, SKIP_CHECK_MS);
    setText($('#play'), '暂停');
    setText($('#play-state'), segments() ? '只播放人声片段' : '播放全部录音');
    await player.play().catch(() => {});
  });
}

/** Where "back 5 s" lands: 5 s of speech earlier (the silence and tones skipped do not count). */
function speechBefore(t, speech, seconds) {
  let left = seconds;
  for (const [a, b] of [...speech].reverse()) {
    if (a >= t) continue;
    const heard = Math.min(t, b) - a;
    if (heard >= left) return Math.min(t, b) - left;
    left -= heard;
  }
  return speech.length ? speech[0][0] : Math.max(0, t - seconds);
}

function back() {
  const player = $('#player');
  const speech = segments();
  player.currentTime = speech ? speechBefore(player.currentTime, speech, BACK_S)
    : Math.max(0, player.currentTime - BACK_S);
}

function cycleSpeed() {
  view.speed = (view.speed + 1) % SPEEDS.length;
  $('#player').playbackRate = SPEEDS[view.speed];
  setText($('#speed'), `倍速 ${SPEEDS[view.speed]}×`);
}

// Decisions -----------------------------------------------------------------------------------

function closeForms() {
  view.mode = null;
  $('#valid-form').hidden = true;
  $('#choices').hidden = true;
}

async function decide(body, what) {
  const row = item(view.selectedId);
  if (!row) return;
  try {
    await post(`/api/voicemails/${row.id}/override`, { ...body, expected_version: row.version });
  } catch (error) {
    say(chinese(error, `${what}失败`), { error: true });
    if (error.code === 'version_conflict') await reloadAndSelect(row.id);
    return;
  }
  markDecided([row.id]);
  say(`留言 #${row.id}：${what}`);
  closeForms();
  await reloadAndSelect(row.id, true);
}

/** A decision's own reply is news at once: its messages count as decided before the night is
 * read again, so a key pressed meanwhile (Shift+C, the next message) never acts on the older
 * list (a batch would offer the message just confirmed, and be refused for its old version). */
function markDecided(ids) {
  for (const id of ids) {
    const row = item(id);
    if (row && !row.override_by) row.override_by = view.me ? view.me.name : '本人';
  }
  renderNight();
}

async function reloadAndSelect(id, advance = false) {
  await loadNight();
  const next = advance ? nextUndecided(id) : item(id);
  if (next) await select(next.id);
}

function openValid() {
  const row = item(view.selectedId);
  if (!row) return;
  closeForms();
  $('#valid-form').hidden = false;
  const number = $('#v-number');
  number.value = row.callback_number || (row.caller_withheld ? '' : row.caller_num || '');
  $('#v-department').value = row.department || ''; // never the message before's department
  $('#v-urgency').value = row.priority === 'urgent' ? 'urgent' : 'normal';
  number.focus();
  number.select();
}

async function submitValid(event) {
  event.preventDefault();
  const number = $('#v-number').value.replace(/[\s\-()]/g, '');
  const body = { verdict: 'valid', reason: '筛选台：听过录音，判为有效', callback_number: number || null,
    urgency: $('#v-urgency').value };
  if ($('#v-department').value) body.department = $('#v-department').value;
  await decide(body, '判为有效，已进入回拨队列');
}

function showChoices(mode, title, choices) {
  closeForms();
  view.mode = mode;
  view.choices = choices;
  setText($('#choices-title'), title);
  replaceChildren($('#choice-list'), choices.map(([, text], i) => el('li', { text: `${i + 1}. ${text}` })));
  $('#choices').hidden = false;
}

function openInvalid() {
  if (!item(view.selectedId)) return;
  showChoices('invalid', '判为无效：理由', INVALID_REASONS);
}

async function openDuplicate() {
  const row = item(view.selectedId);
  if (!row) return;
  let recent;
  try {
    recent = (await get(`/api/voicemails/${row.id}/same-caller`)).items;
  } catch (error) {
    say(chinese(error, '读取同一来电人的留言失败'), { error: true });
    return;
  }
  if (!recent.length) {
    say('这位来电人近期没有别的留言，不能标为重复', { error: true });
    return;
  }
  showChoices('duplicate', '重复：与哪条留言重复', recent.slice(0, 9).map((m) => [m.id,
    `留言 #${m.id}，${formatDateTime(m.call_time)}，${STATE_ZH[m.state] || m.state}`]));
}

async function choose(index) {
  const choice = view.choices[index];
  if (!choice) return;
  if (view.mode === 'invalid') {
    await decide({ verdict: 'invalid', reason: `筛选台：${choice[1]}` }, `判为无效（${choice[1]}）`);
  } else if (view.mode === 'batch') {
    await confirmBatch(choice[0]);
  } else if (view.mode === 'duplicate') {
    await decide({ verdict: 'duplicate', reason: `筛选台：与留言 #${choice[0]} 重复`, duplicate_of: choice[0] },
      `标为留言 #${choice[0]} 的重复`);
  }
}

async function confirmMachine() {
  const row = item(view.selectedId);
  if (!row) return;
  try {
    await post('/api/voicemails/confirm', { items: [{ id: row.id, version: row.version }] });
  } catch (error) {
    say(chinese(error, '确认机器判定失败'), { error: true });
    return;
  }
  markDecided([row.id]);
  say(`留言 #${row.id}：已确认机器判定（${STATE_ZH[row.state]}）`);
  await reloadAndSelect(row.id, true);
}

/** Shift+C: the machine's verdicts of the selected message's spot-check group, every one nobody
 * decided yet, confirmed in one call (all or nothing) after the screener heard what she chose to. */
function openBatch() {
  const row = item(view.selectedId);
  const group = row && view.groups.find((g) => g.key === row.state && g.key !== 'needs_review');
  const open = group ? group.items.filter((r) => !r.override_by) : [];
  if (!open.length) {
    say('只有“机器判有效”或“机器判无效”组里未处理的留言可以成批确认', { error: true });
    return;
  }
  showChoices('batch', `成批确认：${GROUP_ZH[group.key]}`, [[open, `确认这一组未处理的 ${open.length} 条`]]);
}

async function confirmBatch(rows) {
  let result;
  try {
    const items = rows.map((r) => ({ id: r.id, version: r.version }));
    result = await post('/api/voicemails/confirm', { items });
  } catch (error) {
    say(chinese(error, '成批确认失败，一条也没有确认'), { error: true });
    await reloadAndSelect(view.selectedId);
    return;
  }
  closeForms();
  markDecided(rows.map((r) => r.id));
  say(`已确认 ${result.confirmed.length} 条机器判定`);
  await reloadAndSelect(view.selectedId, true);
}

async function undo() {
  let result;
  try {
    result = await post('/api/voicemails/undo');
  } catch (error) {
    say(chinese(error, '撤销失败'), { error: true });
    return;
  }
  say(`已撤销：留言 #${result.voicemail.id} 恢复为${STATE_ZH[result.voicemail.state] || result.voicemail.state}`);
  await reloadAndSelect(result.voicemail.id);
}

// Keyboard ------------------------------------------------------------------------------------

function onKey(event) {
  if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
  if (event.key === 'Escape') {
    closeForms();
    const button = $(`#night .cb-item[data-id="${view.selectedId}"]`);
    if (button) button.focus();
    return;
  }
  if (event.target.closest && event.target.closest(EDITABLE)) return;
  if (view.mode && /^[1-9]$/.test(event.key)) {
    event.preventDefault();
    choose(Number(event.key) - 1);
    return;
  }
  if (event.shiftKey && event.key.toLowerCase() === 'c') {
    event.preventDefault();
    openBatch();
    return;
  }
  const actions = {
    j: () => move(1), k: () => move(-1), arrowdown: () => move(1), arrowup: () => move(-1),
    ' ': () => togglePlay(), b: () => back(), s: () => cycleSpeed(), v: () => openValid(),
    x: () => openInvalid(), d: () => openDuplicate(), c: () => confirmMachine(), u: () => undo(),
    r: () => loadNight(),
  };
  const action = actions[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    action();
  }
}

/** The model's loud warning: /api/health's warnings (in Chinese, written there once), above the desk. */
async function loadModelWarning() {
  let health;
  try {
    health = await get('/api/health');
  } catch {
    return;
  }
  const text = (health.warnings || []).join('；');
  const line = $('#model-warning');
  setText(line, text ? `注意：${text}。` : '');
  line.hidden = !text;
}

async function loadDepartments() {
  try {
    const departments = await get('/api/messages/departments');  // the remit table (三定方案)
    replaceChildren($('#v-department'), el('option', { value: '', text: '（不指定）' }),
      departments.map((d) => el('option', { value: d.name, text: d.name })));
  } catch {
    replaceChildren($('#v-department'), el('option', { value: '', text: '（不指定）' }));
  }
}

startPage(async () => {
  $('#refresh').addEventListener('click', loadNight);
  $('#play').addEventListener('click', togglePlay);
  $('#back').addEventListener('click', back);
  $('#speed').addEventListener('click', cycleSpeed);
  $('#valid-form').addEventListener('submit', submitValid);
  $('#v-cancel').addEventListener('click', closeForms);
  $('#player').addEventListener('ended', stopPlayback);
  document.addEventListener('keydown', onKey);
  view.me = await loadIdentity();
  await loadDepartments();
  loadModelWarning();
  await loadNight();
  if (view.selectedId !== null) return; // the screener already picked one (after a refresh)
  const first = view.order.find((row) => !row.override_by) || view.order[0];
  if (first) await select(first.id);
});
