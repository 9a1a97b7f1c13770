// The reports page: a range of days and one day in it, drawn with Apache ECharts (vendored in
// /static/vendor/echarts, loaded as a classic script before this module: window.echarts).
// Every figure comes from GET /api/reports; this page only draws and sorts them.

import { get, getBlob } from './api.js';
import { DASH, formatPercent, formatSeconds } from './format.js';
import {
  $, el, newestReply, replaceChildren, say, sayError, setText, startPage,
} from './ui.js';

const HOURS = Array.from({ length: 24 }, (_, hour) => `${String(hour).padStart(2, '0')}时`);
const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];
const SEAT_COLUMNS = [
  { key: 'seat_id', label: '工号', value: (s) => s.seat_id, show: (s) => s.seat_id },
  { key: 'answered', label: '接听数', value: (s) => s.answered, show: (s) => String(s.answered) },
  { key: 'talk_seconds', label: '通话时长', value: (s) => s.talk_seconds, show: (s) => formatClock(s.talk_seconds) },
  { key: 'average_handling_seconds', label: '平均处理时长', value: (s) => s.average_handling_seconds ?? -1,
    show: (s) => formatSeconds(s.average_handling_seconds) },
  { key: 'pause_seconds', label: '小休时长', value: (s) => s.pause_seconds, show: (s) => formatClock(s.pause_seconds) },
];

const charts = {};
let shown = null; // the last answer of GET /api/reports
// The start's report and the range or day picked a moment later may answer in either order:
// only the newest request's answer is drawn.
const reportReplies = newestReply();
let sort = { key: 'seat_id', descending: false };
// The hall's day, from each report (its `today`): the presets count from it, not from the range shown.
let today = localDay(new Date());

// Dates as 'YYYY-MM-DD' strings, computed in UTC so the browser's own zone never shifts them.
const parseDay = (text) => new Date(`${text}T00:00:00Z`);
const dayText = (date) => date.toISOString().slice(0, 10);
const addDays = (text, n) => dayText(new Date(parseDay(text).getTime() + n * 86400000));
const weekday = (text) => WEEKDAYS[parseDay(text).getUTCDay()];
function localDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function presetRange(preset, today) {
  if (preset === 'yesterday') return [addDays(today, -1), addDays(today, -1)];
  if (preset === 'week') return [addDays(today, -((parseDay(today).getUTCDay() + 6) % 7)), today];
  if (preset === 'month') return [`${today.slice(0, 8)}01`, today];
  return [today, today];
}

// The hall's zone as people say it: Beijing time, else the zone's name.
const zoneText = (zone) => (zone === 'Asia/Shanghai' ? '北京时间' : `时区 ${zone}`);

// Hours, minutes and seconds always (a bare 04:10 reads as four hours as easily as four minutes).
function formatClock(seconds) {
  if (!Number.isFinite(seconds)) return DASH;
  const total = Math.floor(seconds);
  const pad = (n) => String(n).padStart(2, '0');
  return `${Math.floor(total / 3600)}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

// The seat table: the fixed columns, then the pause time of each reason (the API's order).
function seatColumns(report) {
  return [...SEAT_COLUMNS, ...(report.pause_reasons || []).map((reason) => ({
    key: `pause:${reason}`, label: `小休：${reason}`, value: (s) => s.pause_by_reason[reason] || 0,
    show: (s) => (s.pause_by_reason[reason] ? formatClock(s.pause_by_reason[reason]) : DASH),
  }))];
}

function query() {
  const params = new URLSearchParams({ from: $('#from').value, to: $('#to').value });
  if ($('#day').value) params.set('day', $('#day').value);
  if ($('#hall').value) params.set('hall', $('#hall').value);
  return params;
}

// Charts --------------------------------------------------------------------------------------

function chart(id) {
  if (!charts[id]) charts[id] = window.echarts.init($(`#${id}`), null, { renderer: 'canvas' });
  return charts[id];
}

// Empty axes alone read as a page that failed to load: a chart with nothing to draw says so.
function emptyNote(empty, text) {
  return empty ? [{ type: 'text', id: 'empty', left: 'center', top: 'middle',
    style: { text, fontSize: 16, fill: '#64748b' } }] : [];
}

function drawHourly(report) {
  const day = report.day_hourly;
  const ref = report.reference_hourly;
  const dashed = { type: 'dashed' };
  const quiet = [...day.received, ...ref.received].every((n) => n === 0);
  chart('chart-hourly').setOption({
    animation: false,
    graphic: emptyNote(quiet, '这一天与前四周同一星期都没有来电记录'),
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 24, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: HOURS },
    yAxis: { type: 'value', name: '通数', minInterval: 1 },
    series: [
      { id: 'received', name: '来电', type: 'bar', data: day.received },
      { id: 'answered', name: '接通', type: 'bar', data: day.answered },
      { id: 'abandoned', name: '放弃', type: 'bar', data: day.abandoned },
      { id: 'ref-received', name: '前四周同星期平均来电', type: 'line', data: ref.received },
      { id: 'ref-answered', name: '平均接通', type: 'line', lineStyle: dashed, data: ref.answered },
      { id: 'ref-abandoned', name: '平均放弃', type: 'line', lineStyle: dashed, data: ref.abandoned },
    ],
  }, true);
  setText($('#hourly-day'), `${report.day}（星期${weekday(report.day)}）`);
  setText($('#hourly-help'), `虚线与折线为前四周同一星期（${report.reference_days.join('、')}）的平均值。`);
}

function drawDays(report) {
  const percent = (value) => (value === null ? null : Math.round(value * 10000) / 100);
  // A day without calls has no rate: the tooltip says so instead of a bare dash or "NaN".
  const inPercent = (value) => (Number.isFinite(value) ? `${value}%` : '无来电');
  const inSeconds = (value) => (Number.isFinite(value) ? `${value} 秒` : '无接通');
  chart('chart-days').setOption({
    animation: false,
    graphic: emptyNote(report.days.every((d) => d.received === 0), '所选日期没有来电记录'),
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 56, right: 56, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: report.days.map((d) => d.day) },
    yAxis: [
      { type: 'value', name: '百分比', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      { type: 'value', name: '秒', min: 0 },
    ],
    series: [
      { id: 'service-level', name: `服务水平（${report.service_level_seconds}秒）`, type: 'line',
        tooltip: { valueFormatter: inPercent }, data: report.days.map((d) => percent(d.service_level)) },
      { id: 'abandon-rate', name: '放弃率', type: 'line', tooltip: { valueFormatter: inPercent },
        data: report.days.map((d) => percent(d.abandon_rate)) },
      { id: 'asa', name: '平均应答时长', type: 'bar', yAxisIndex: 1, barMaxWidth: 40, z: 1,
        tooltip: { valueFormatter: inSeconds },
        itemStyle: { color: '#94a3b8', opacity: 0.6 },
        data: report.days.map((d) => d.average_speed_of_answer_seconds) },
    ],
  }, true);
}

function drawFunnel(report) {
  const f = report.funnel;
  // Received, what triage made of them (the four add up to it), then the valid ones' callbacks.
  const stages = [['收到留言', f.received, '#1d4ed8'], ['无效', f.invalid, '#b91c1c'], ['有效', f.valid, '#15803d'],
    ['待复核', f.needs_review, '#b45309'], ['待分拣', f.pending, '#64748b'],
    ['已回拨', f.called_back, '#0e7490'], ['已联系上市民', f.reached, '#0f766e']];
  chart('chart-funnel').setOption({
    animation: false,
    graphic: emptyNote(f.received === 0, '所选日期没有收到留言'),
    tooltip: { trigger: 'axis' },
    grid: { left: 80, right: 32, top: 16, bottom: 24 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: stages.map(([name]) => name) },
    series: [{ id: 'funnel', name: '条数', type: 'bar', label: { show: true, position: 'right' },
      data: stages.map(([, count, color]) => ({ value: count, itemStyle: { color } })) }],
  }, true);
  const rows = Object.entries(f.invalid_by_reason).map(([code, count]) =>
    el('tr', { dataset: { reason: code } }, el('td', { text: f.reason_names[code] || code }),
      el('td', { text: String(count) })));
  replaceChildren($('#invalid-reasons tbody'),
    rows.length ? rows : [el('tr', {}, el('td', { colspan: 2, text: '无' }))]);
}

// The seat table --------------------------------------------------------------------------------

function drawSeats(report) {
  const columns = seatColumns(report);
  if (!columns.some((column) => column.key === sort.key)) sort = { key: 'seat_id', descending: false };
  const sorted = columns.find((column) => column.key === sort.key);
  const seats = [...report.seats].sort((a, b) => {
    const x = sorted.value(a);
    const y = sorted.value(b);
    const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return (sort.descending ? -order : order) || a.seat_id.localeCompare(b.seat_id);
  });
  replaceChildren($('#seats thead tr'), columns.map((column) => el('th', {
    scope: 'col', 'aria-sort': column.key === sort.key ? (sort.descending ? 'descending' : 'ascending') : 'none',
  }, el('button', { type: 'button', text: column.label, dataset: { key: column.key },
    on: { click: () => sortBy(column.key) } }))));
  replaceChildren($('#seats tbody'), seats.map((seat) => el('tr', { dataset: { seat: seat.seat_id } },
    columns.map((column) => el('td', { text: column.show(seat) })))));
}

function sortBy(key) {
  sort = { key, descending: sort.key === key ? !sort.descending : key !== 'seat_id' };
  if (shown) drawSeats(shown);
  $(`#seats th button[data-key="${CSS.escape(key)}"]`).focus();
}

// Halls: with several PBXs a row per hall and the total, and a choice of one hall -------------

function drawHalls(report) {
  const halls = report.halls || [];
  const several = halls.length > 2; // each hall, then the total row
  $('#halls-panel').hidden = !several;
  $('#hall-field').hidden = !several;
  const hallsOption = $('#csv-table option[value="halls"]');
  hallsOption.hidden = !several;
  hallsOption.disabled = !several;
  if (!several && $('#csv-table').value === 'halls') $('#csv-table').value = 'days';
  if (!several) return;
  const select = $('#hall');
  replaceChildren(select, [el('option', { value: '', text: '全部大厅' }),
    ...halls.filter((h) => h.name).map((h) => el('option', { value: h.name, text: h.display_name,
      selected: h.name === report.hall }))]);
  replaceChildren($('#halls tbody'), halls.map((h) => el('tr', { class: h.name ? '' : 'total',
    dataset: { hall: h.name } }, el('th', { scope: 'row', text: h.display_name }),
  ...[String(h.received), String(h.answered), String(h.abandoned), formatPercent(h.service_level),
    formatSeconds(h.average_speed_of_answer_seconds), formatPercent(h.abandon_rate)]
    .map((text) => el('td', { text })))));
}

// Loading -------------------------------------------------------------------------------------

function fillDays(report) {
  const select = $('#day');
  const days = [];
  for (let day = report.from; day <= report.to; day = addDays(day, 1)) days.push(day);
  replaceChildren(select, days.map((day) => el('option', { value: day, text: `${day} 星期${weekday(day)}`,
    selected: day === report.day })));
}

/** Draw the report for `params`; true if this answer was drawn (no newer one overtook it). */
async function load(params = query()) {
  say('正在加载…');
  const ticket = reportReplies.begin();
  try {
    const report = await get(`/api/reports?${params}`);
    if (!reportReplies.accept(ticket)) return false;
    shown = report;
    today = report.today;
    $('#from').value = report.from;
    $('#to').value = report.to;
    fillDays(report);
    drawHourly(report);
    drawDays(report);
    drawFunnel(report);
    drawSeats(report);
    drawHalls(report);
    say(`已加载 ${report.from} 至 ${report.to}（${zoneText(report.timezone)}）`);
    return true;
  } catch (error) {
    sayError('加载报表失败', error);
    return false;
  }
}

async function download(path, name) {
  try {
    const blob = await getBlob(path);
    const link = el('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    say(`已导出 ${name}`);
  } catch (error) {
    sayError('导出失败', error);
  }
}

startPage(async () => {
  // A link may name the range (?from=…&to=…&day=…); otherwise today.
  const linked = new URLSearchParams(window.location.search);
  if (linked.has('from') || linked.has('to')) $('#preset').value = 'custom';
  // The controls answer at once, even while the start's report is on its way: until then the
  // presets count from this computer's own day (the hall's PCs keep the hall's time).
  $('#preset').addEventListener('change', () => {
    if ($('#preset').value === 'custom') return;
    [$('#from').value, $('#to').value] = presetRange($('#preset').value, today);
    $('#day').value = '';
    replaceChildren($('#day'));
    load();
  });
  for (const id of ['#from', '#to']) {
    $(id).addEventListener('change', () => {
      $('#preset').value = 'custom';
      replaceChildren($('#day'));
    });
  }
  $('#day').addEventListener('change', () => load());
  $('#hall').addEventListener('change', () => load());
  $('#range').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  $('#export-csv').addEventListener('click', () => {
    const table = $('#csv-table').value;
    download(`/api/reports/export.csv?${query()}&table=${table}`, `报表-${table}-${$('#from').value}_${$('#to').value}.csv`);
  });
  $('#export-xlsx').addEventListener('click', () =>
    download(`/api/reports/export.xlsx?${query()}`, `报表-${$('#from').value}_${$('#to').value}.xlsx`));
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
  await load(linked);
});
