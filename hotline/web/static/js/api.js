// The one client of the hotline API shared by every page: the token, JSON requests with the
// bearer header, the API's error shape, and the live event stream (fetch + ReadableStream, not
// EventSource, so that the Authorization header can be sent).
//
// The token is kept in localStorage and only ever sent in the Authorization header: never in
// a URL that reaches the server.

import { setHallTimeZone } from './format.js';

export const TOKEN_KEY = 'hotline.token';
export const EVENTS_PATH = '/api/events';
const FRAGMENT_TOKEN = /(?:^#|&)token=([^&]*)/;

const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const RECONNECT_JITTER = 0.25; // +-25 %, so that fifty wall screens do not reconnect in step
const STALL_MS = 45000; // the server sends a keepalive every 15 s; three missed: reconnect

// Token -------------------------------------------------------------------------------------

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token.trim());
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

/** Take `#token=...` from the address (wall screens), keep it, and remove it from the bar. */
export function adoptFragmentToken() {
  const match = FRAGMENT_TOKEN.exec(window.location.hash);
  if (!match) return false;
  const token = decodeURIComponent(match[1]).trim();
  const rest = window.location.hash.replace(FRAGMENT_TOKEN, '').replace(/^#&?/, '');
  const clean = window.location.pathname + window.location.search + (rest ? `#${rest}` : '');
  window.history.replaceState(null, '', clean);
  if (token) setToken(token);
  return Boolean(token);
}

// Errors ------------------------------------------------------------------------------------

/** A refusal from the API: `{"error": {"code", "message", "detail"}}`, or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message, detail = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body === 'object' ? body.error : null;
  if (error && typeof error.message === 'string') {
    return new ApiError(response.status, String(error.code || ''), error.message, error.detail);
  }
  return new ApiError(response.status, `http_${response.status}`,
    `HTTP ${response.status} ${response.statusText || ''}`.trim());
}

const unauthorizedHandlers = new Set();

/** Called with the ApiError whenever the API answers 401 (unknown, revoked or missing token). */
export function onUnauthorized(handler) {
  unauthorizedHandlers.add(handler);
}

function reportUnauthorized(error) {
  for (const handler of unauthorizedHandlers) handler(error);
}

// Requests ----------------------------------------------------------------------------------

function authHeaders(token, extra = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function send(path, {
  method = 'GET', body, token = getToken(), signal, accept, quiet401 = false,
} = {}) {
  const headers = authHeaders(token, accept ? { Accept: accept } : {});
  const init = { method, headers, signal, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    if (cause && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'network_error', '无法连接服务器，请检查网络');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !quiet401) reportUnauthorized(error);
    throw error;
  }
  return response;
}

/** JSON from the API; throws ApiError (with the API's own message) on refusal. */
export async function api(path, options = {}) {
  const response = await send(path, options);
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path, options = {}) => api(path, options);
export const post = (path, body = undefined, options = {}) =>
  api(path, { ...options, method: 'POST', body });

/** A binary resource (voicemail audio) as a Blob, fetched with the bearer header. */
export async function getBlob(path, options = {}) {
  const response = await send(path, { ...options, accept: '*/*' });
  return response.blob();
}

// Server-Sent Events ------------------------------------------------------------------------

/** Incremental parser of a text/event-stream (WHATWG rules that matter here). */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.event = '';
    this.data = [];
    this.retry = null;
  }

  /** Feed decoded text; returns the complete events it finished: [{event, data}]. */
  push(text) {
    this.buffer += text;
    const out = [];
    let newline;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      if (this.buffer[newline] === '\r' && width === 1 && newline === this.buffer.length - 1) {
        break; // a lone CR at the end may be half of CRLF: wait for more
      }
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + width);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  line(line) {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return null;
      }
      const event = { event: this.event || 'message', data: this.data.join('\n') };
      this.event = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return null; // comment (keepalive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/** The delay before reconnect attempt `attempt` (0, 1, 2 ...): exponential, capped, jittered. */
export function backoffDelay(attempt, baseMs = RECONNECT_BASE_MS, random = Math.random) {
  const raw = Math.min(RECONNECT_MAX_MS, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(raw * (1 - RECONNECT_JITTER + 2 * RECONNECT_JITTER * random()));
}

const streams = new Set();

/** Stop every open stream (after a 401 the page goes back to the token form). */
export function closeAllStreams() {
  for (const stream of [...streams]) stream.close();
}

/**
 * Listen to /api/events for as long as the page lives, reconnecting with backoff.
 *
 * handlers.onEvent(kind, data) gets every event with its parsed JSON; handlers.onConnect(hello)
 * runs on every (re)connect, when the page should refetch its full state; handlers.onResync()
 * when the server says this stream lost events; handlers.onStatus(state, info) with state
 * 'connecting' | 'live' | 'waiting' | 'closed'.
 */
export function openEventStream(handlers = {}) {
  const { onEvent = () => {}, onConnect = () => {}, onResync = () => {}, onStatus = () => {} } =
    handlers;
  let closed = false;
  let attempt = 0;
  let controller = null;
  let retryTimer = null;
  let baseMs = RECONNECT_BASE_MS;

  const stream = {
    close() {
      closed = true;
      streams.delete(stream);
      clearTimeout(retryTimer);
      if (controller) controller.abort();
      onStatus('closed', {});
    },
    /** Drop the current connection now and reconnect at once (used by tests and a button). */
    reconnect() {
      attempt = 0;
      if (controller) controller.abort();
    },
  };
  streams.add(stream);

  function dispatch(raw) {
    let data = {};
    try {
      data = raw.data ? JSON.parse(raw.data) : {};
    } catch {
      return; // a frame we cannot read is skipped; the next refetch repairs the picture
    }
    if (raw.event === 'hello') {
      attempt = 0;
      setHallTimeZone(data.timezone);
      onStatus('live', data);
      onConnect(data);
    } else if (raw.event === 'resync') {
      onResync(data);
    }
    onEvent(raw.event, data);
  }

  async function connectOnce() {
    const token = getToken();
    controller = new AbortController();
    const { signal } = controller;
    let stall = null;
    const arm = () => {
      clearTimeout(stall);
      stall = setTimeout(() => controller.abort(), STALL_MS);
    };
    onStatus('connecting', { attempt });
    try {
      arm();
      const response = await fetch(EVENTS_PATH, {
        headers: authHeaders(token, { Accept: 'text/event-stream' }),
        cache: 'no-store',
        credentials: 'omit',
        signal,
      });
      if (!response.ok) {
        const error = await errorFrom(response);
        if (response.status === 401) {
          reportUnauthorized(error);
          stream.close();
          return;
        }
        throw error;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        for (const event of parser.push(value)) dispatch(event);
        if (parser.retry !== null) baseMs = Math.max(RECONNECT_BASE_MS, parser.retry);
      }
    } catch (error) {
      if (closed) return;
      if (!(error instanceof ApiError) && error.name !== 'AbortError' && error.name !== 'TypeError') {
        console.warn('event stream failed', error);
      }
    } finally {
      clearTimeout(stall);
    }
    if (closed) return;
    const delay = attempt === 0 ? Math.min(baseMs, RECONNECT_BASE_MS) : backoffDelay(attempt, baseMs);
    attempt += 1;
    onStatus('waiting', { delay, attempt });
    retryTimer = setTimeout(connectOnce, delay);
  }

  connectOnce();
  return stream;
}
