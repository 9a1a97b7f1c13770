// Pure helpers: Chinese names of the API's states and outcomes, durations and times.
// No DOM and no network here, so every page formats the same way.

export const SEAT_STATES = [
  'offline', 'logged_out', 'available', 'ringing', 'on_call', 'wrap_up', 'paused',
];

export const SEAT_STATE_ZH = {
  offline: '离线',
  logged_out: '未签入',
  available: '空闲',
  ringing: '振铃',
  on_call: '通话中',
  wrap_up: '话后整理',
  paused: '小休',
};

export const CALLBACK_STATE_ZH = { queued: '待回拨', claimed: '已认领', closed: '已结束' };

export const PRIORITY_ZH = { urgent: '紧急', normal: '普通' };

export const RESOLUTION_ZH = {
  resolved: '已解决',
  transferred: '已转办',
  wrong_number: '号码错误',
  declined: '市民拒绝回访',
  unreachable: '多次未接通',
  withdrawn: '已撤回',
};

// The values of voicemail.callbacks.rules.Outcome, in the order staff meet them.
export const OUTCOMES = [
  ['reached_resolved', '已联系，问题已解决'],
  ['reached_transferred', '已联系，转办部门'],
  ['no_answer', '无人接听（稍后重拨）'],
  ['busy', '占线（稍后重拨）'],
  ['wrong_number', '号码错误'],
  ['declined', '市民拒绝回访'],
];
export const OUTCOME_ZH = Object.fromEntries(OUTCOMES);
export const OUTCOME_NEEDS_DEPARTMENT = 'reached_transferred';

export const THREEWAY_STATE_ZH = {
  dialling: '正在呼叫专家',
  joining: '专家正在加入',
  conference: '三方通话中',
  failed: '未能接通',
  cancelled: '已取消',
  ended: '已结束',
};
export const THREEWAY_FINAL = new Set(['failed', 'cancelled', 'ended']);

export const PARTY_ROLE_ZH = { citizen: '市民', operator: '话务员', expert: '专家' };

export const PARTY_STATE_ZH = {
  talking: '通话中',
  waiting: '等待呼叫',
  ringing: '振铃',
  skipped: '不在班，跳过',
  no_answer: '无人接听',
  busy: '占线',
  failed: '呼叫失败',
  cancelled: '已取消',
  in_conference: '在会议中',
  dropped: '已退出',
  left: '已离开',
};

export const PAUSE_REASONS = ['小休', '午休', '培训', '会议'];

export const DASH = '—';

const pad = (n) => String(n).padStart(2, '0');

/** 75 -> "01:15", 3725 -> "1:02:05"; negative or missing -> "—". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return DASH;
  }
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

/** Seconds between an ISO timestamp and `nowMs` (server-corrected), or null. */
export function secondsSince(iso, nowMs) {
  if (!iso) return null;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  return Math.max(0, (nowMs - at) / 1000);
}

const TIME_OPTIONS = { hour: '2-digit', minute: '2-digit', hour12: false };
const DATE_TIME_OPTIONS = { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false };
let TIME = new Intl.DateTimeFormat('zh-CN', TIME_OPTIONS);
let DATE_TIME = new Intl.DateTimeFormat('zh-CN', DATE_TIME_OPTIONS);

/** Show times in the hall's zone (the stream's hello names it), whatever the screen's own zone. */
export function setHallTimeZone(timeZone) {
  if (!timeZone) return;
  try {
    TIME = new Intl.DateTimeFormat('zh-CN', { ...TIME_OPTIONS, timeZone });
    DATE_TIME = new Intl.DateTimeFormat('zh-CN', { ...DATE_TIME_OPTIONS, timeZone });
  } catch {
    // a zone this browser does not know: keep its own
  }
}

/** "11-28 08:30" (in the hall's time zone once known), or "—". */
export function formatDateTime(iso) {
  if (!iso) return DASH;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? DASH : DATE_TIME.format(at).replace(/\//g, '-');
}

export function formatClock(date) {
  return TIME.format(date);
}

/** 0.8734 -> "87.3%"; the API gives rates as fractions of 1. */
export function formatPercent(fraction) {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return DASH;
  return `${(fraction * 100).toFixed(1)}%`;
}

export function formatCount(value) {
  return Number.isFinite(value) ? String(value) : DASH;
}

export function formatSeconds(value) {
  return Number.isFinite(value) ? `${value.toFixed(1)} 秒` : DASH;
}

/** The one seat an operator token is bound to (GET /api/me's seat), '' for a team lead or none. */
export function boundSeat(me) {
  return me && me.role === 'operator' && !me.team_lead ? String(me.seat || '') : '';
}
