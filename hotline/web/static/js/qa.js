// The inspector's page (质检): the day's sample, both tracks of a call (either side muted), the
// moments the measures flagged, and the scoring form from the configuration.

import { get, getBlob, post } from './api.js';
import { DASH, formatDateTime } from './format.js';
import {
  $, act, el, loadIdentity, newestReply, replaceChildren, say, sayError, setText, startPage,
} from './ui.js';

const REASON_ZH = { flagged: '自动检测命中', random: '随机抽取' };
const FLAG_ZH = {
  too_fast: '语速过快', talk_over: '抢话较多', long_silence: '长时间静默', too_quiet: '音量过低',
  clipping: '声音削波', unmeasured: '无法检测',
};
const MOMENT_ZH = { talk_over: '抢话', silence: '静默', too_fast: '语速过快', hold: '保持' };
const WHO_ZH = { operator: '坐席', citizen: '市民', both: '双方' };
const TRACKS = ['operator', 'citizen'];
const EDITABLE = 'input, textarea, select';

const view = { items: [], selectedId: null, form: [], urls: [] };

function todayIso() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function itemButton(item) {
  const flags = item.flags.map((f) => FLAG_ZH[f] || f).join('、');
  return el('button', {
    type: 'button', class: 'cb-item', dataset: { id: String(item.id) },
    'aria-current': item.id === view.selectedId ? 'true' : 'false', on: { click: () => select(item.id) },
  },
  el('span', { class: 'cb-line' },
    el('span', { class: 'cb-number', text: `${item.seat_id || DASH} 号座席` }),
    el('span', { class: 'badge', text: REASON_ZH[item.reason] || item.reason }),
    item.total === null ? null : el('span', { class: 'badge mine', text: `已评 ${item.total} 分` })),
  el('span', { class: 'cb-line' }, formatDateTime(item.started_at), ` · ${clock(item.duration_s)}`,
    flags ? ` · ${flags}` : ''));
}

function renderList() {
  replaceChildren($('#sample'), view.items.map((item) => el('li', {}, itemButton(item))));
  setText($('#sample-count'), String(view.items.length));
  $('#sample-empty').hidden = view.items.length > 0;
}

// The day's list asked for at start and the one for a day picked a moment later may answer in
// either order: only the newest request's answer is shown.
const sampleReplies = newestReply();

async function loadSample() {
  const day = $('#day').value || todayIso();
  const ticket = sampleReplies.begin();
  const items = await get(`/api/qa/sample?day=${encodeURIComponent(day)}`);
  if (!sampleReplies.accept(ticket)) return;
  view.items = items;
  renderList();
  if (view.selectedId !== null) showDetail(view.items.find((i) => i.id === view.selectedId));
}

function stopAudio() {
  for (const track of TRACKS) $(`#audio-${track}`).pause();
  setText($('#play'), '播放');
  for (const url of view.urls) URL.revokeObjectURL(url);
  view.urls = [];
}

async function loadAudio(item) {
  stopAudio();
  if (!item.has_audio) {
    say('这通电话的录音已超过保存期限，无法收听。', { error: true });
    return;
  }
  for (const track of TRACKS) {
    const url = URL.createObjectURL(await getBlob(`/api/qa/reviews/${item.id}/audio/${track}`));
    view.urls.push(url);
    $(`#audio-${track}`).src = url;
  }
  applyMute();
}

function applyMute() {
  for (const track of TRACKS) $(`#audio-${track}`).muted = !$(`#hear-${track}`).checked;
}

function seek(seconds) {
  for (const track of TRACKS) $(`#audio-${track}`).currentTime = seconds;
  movePlayhead();
}

function togglePlay() {
  const players = TRACKS.map((t) => $(`#audio-${t}`));
  if (players[0].paused) {
    const at = players[0].currentTime;
    for (const p of players) { p.currentTime = at; p.play().catch(() => {}); }
    setText($('#play'), '暂停');
  } else {
    for (const p of players) p.pause();
    setText($('#play'), '播放');
  }
}

function momentText(moment) {
  const who = moment.who && moment.kind === 'talk_over' ? `（${WHO_ZH[moment.who] || moment.who}插话）` : '';
  const rate = moment.kind === 'too_fast' && moment.value ? `（${moment.value} 字/分钟）` : '';
  // a hold's length is the citizen's wait; the recording may hold none of it (a point there)
  const held = moment.kind === 'hold' && moment.value ? `（${moment.value} 秒）` : '';
  const at = moment.end_s - moment.start_s < 0.5 ? clock(moment.start_s)
    : `${clock(moment.start_s)}–${clock(moment.end_s)}`;
  return `${at} ${MOMENT_ZH[moment.kind] || moment.kind}${who}${rate}${held}`;
}

// The timeline: two lanes (话务员 above, 市民 below) with each party's speech, and a button per
// flagged moment placed at its stored time (data-start/data-end in seconds); too fast speech is
// the operator's own, the other marks span both lanes. Positions are shares of the call's length.
function percent(seconds, total) {
  return `${Math.min(100, Math.max(0, (seconds / total) * 100)).toFixed(3)}%`;
}

function placed(node, start, end, total) {
  node.style.left = percent(start, total);
  node.style.width = percent(Math.max(0, end - start), total);
  return node;
}

function renderLanes(item, moments) {
  const m = item.measures || {};
  const total = Math.max(m.duration_s || item.duration_s || 0, 0.01);
  const segments = m.segments || {};
  for (const track of TRACKS) {
    replaceChildren($(`#lane-${track}`), (segments[track] || []).map(([start, end]) => placed(
      el('span', { class: 'qa-seg', dataset: { start: String(start), end: String(end) } }), start, end, total)));
  }
  replaceChildren($('#qa-marks'), moments.map((moment) => placed(el('button', {
    type: 'button', class: 'qa-mark', title: momentText(moment), 'aria-label': `跳到 ${momentText(moment)}`,
    dataset: { kind: moment.kind, start: String(moment.start_s), end: String(moment.end_s),
      lane: moment.kind === 'too_fast' ? 'operator' : 'both' },
    on: { click: () => seek(moment.start_s) },
  }), moment.start_s, moment.end_s, total)));
  setText($('#qa-end'), clock(total));
  $('#qa-area').dataset.duration = String(total);
  movePlayhead();
}

function movePlayhead() {
  const total = Number($('#qa-area').dataset.duration || 0);
  if (total > 0) $('#qa-playhead').style.left = percent($('#audio-operator').currentTime || 0, total);
}

function renderTimeline(item) {
  const moments = (item.measures && item.measures.moments) || [];
  renderLanes(item, moments);
  replaceChildren($('#timeline'), moments.length ? moments.map((m) => el('li', {},
    el('button', { type: 'button', class: 'cb-item moment', on: { click: () => seek(m.start_s) } },
      momentText(m)))) : el('li', { class: 'empty', text: '没有检测到问题时刻。' }));
}

function renderForm(item) {
  replaceChildren($('#score-items'), view.form.map((f, i) => el('div', { class: 'field' },
    el('label', { for: `score-${i}`, text: `${f.name}（权重 ${f.weight}，0–100 分）` }),
    el('input', { id: `score-${i}`, type: 'number', min: '0', max: '100', step: '1', required: true,
      dataset: { item: f.name }, value: item.scores && f.name in item.scores ? String(item.scores[f.name]) : '' }))));
  $('#comment').value = item.comment || '';
  setText($('#d-scored'), item.total === null ? '尚未评分。'
    : `已评分：总分 ${item.total}（${item.inspector}，${formatDateTime(item.scored_at)}）`);
}

function holdText(m) {
  if (m.hold_s === undefined) return DASH;
  const held = `${m.hold_count ?? 0} 次，共 ${m.hold_s} 秒`;
  return m.hold_observed === false ? `${held}（服务未全程接收 Asterisk 事件，保持时间可能不全）` : held;
}

function phrasesText(p) {
  if (!p) return DASH;
  if (p.skipped) return p.skipped;
  if (p.pending) return '正在进行语音识别，稍后刷新可见开场白、结束语和要求重复的次数。';
  const yes = (v) => (v ? '有' : '无');
  return `开场白${yes(p.opening_phrase)}，结束语${yes(p.closing_phrase)}，市民要求重复 ${p.repeat_requests} 次`;
}

function showDetail(item) {
  $('#detail-empty').hidden = Boolean(item);
  $('#detail-body').hidden = !item;
  if (!item) return;
  const m = item.measures || {};
  setText($('#detail-title'), `抽检 #${item.id}`);
  setText($('#d-seat'), `${item.seat_id || DASH} 号座席`);
  setText($('#d-time'), formatDateTime(item.started_at));
  setText($('#d-duration'), clock(item.duration_s));
  setText($('#d-reason'), REASON_ZH[item.reason] || item.reason);
  setText($('#d-rate'), m.operator_syllables_per_min === undefined ? DASH : `${m.operator_syllables_per_min} 字/分钟`);
  setText($('#d-talkover'), m.talk_over_count === undefined ? DASH
    : `${m.talk_over_count} 次，共 ${m.talk_over_s} 秒（坐席插话 ${m.interruptions_by_operator} 次）`);
  setText($('#d-silence'), m.longest_silence_s === undefined ? DASH : `${m.longest_silence_s} 秒`);
  setText($('#d-hold'), holdText(m));
  setText($('#d-flags'), item.flags.map((f) => FLAG_ZH[f] || f).join('、') || '无');
  setText($('#d-phrases'), phrasesText(m.phrases));
  renderTimeline(item);
  renderForm(item);
}

async function select(id) {
  view.selectedId = id;
  renderList();
  const item = view.items.find((i) => i.id === id);
  showDetail(item);
  await act(null, '载入录音失败', () => loadAudio(item));
}

async function submitScore(event) {
  event.preventDefault();
  const item = view.items.find((i) => i.id === view.selectedId);
  if (!item) return;
  const scores = {};
  for (const input of $('#score-items').querySelectorAll('input')) scores[input.dataset.item] = Number(input.value);
  await act($('#submit-score'), '提交评分失败', async () => {
    const saved = await post(`/api/qa/reviews/${item.id}/score`, { scores, comment: $('#comment').value });
    view.items = view.items.map((i) => (i.id === saved.id ? saved : i));
    renderList();
    showDetail(saved);
    say(`已提交抽检 #${saved.id} 的评分：总分 ${saved.total}`);
  });
}

function move(step) {
  if (!view.items.length) return;
  const at = view.items.findIndex((i) => i.id === view.selectedId);
  const next = view.items[Math.min(view.items.length - 1, Math.max(0, at + step))];
  select(next.id);
  const button = $(`#sample .cb-item[data-id="${next.id}"]`);
  if (button) button.focus();
}

function onKey(event) {
  if (event.target.closest && event.target.closest(EDITABLE)) return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  if (key === 'j') move(1);
  else if (key === 'k') move(-1);
  else if (key === 'r') act($('#refresh'), '刷新失败', loadSample);
  else if (key === ' ' && view.selectedId !== null && event.target.tagName !== 'BUTTON') togglePlay();
  else return;
  event.preventDefault();
}

startPage(async () => {
  $('#day').value = todayIso();
  $('#day').addEventListener('change', () => act(null, '读取抽检失败', loadSample));
  $('#refresh').addEventListener('click', () => act($('#refresh'), '刷新失败', loadSample));
  $('#play').addEventListener('click', togglePlay);
  for (const track of TRACKS) $(`#hear-${track}`).addEventListener('change', applyMute);
  $('#audio-operator').addEventListener('timeupdate', movePlayhead);
  $('#score-form').addEventListener('submit', submitScore);
  document.addEventListener('keydown', onKey);
  await loadIdentity();
  try {
    view.form = (await get('/api/qa/form')).items;
    await loadSample();
  } catch (error) {
    sayError('读取抽检失败', error);
  }
});
