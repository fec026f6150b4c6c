// @ts-check
/**
 * What the web pages share: the REST API client, element lookup, the clock format and the "live"
 * indicator in the top bar. Each page imports it (ES modules, served as they are: no build step).
 */

export const API = '/api/v1';
/** How long a page waits before polling again after a failed request. */
export const BACKOFF_MS = 10_000;

/** @param {string} id */
export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {Intl.DateTimeFormatOptions} */
export const hms = { timeStyle: 'medium', hourCycle: 'h23' };
export const clock = new Intl.DateTimeFormat(undefined, hms);

/**
 * JSON in and out; a body goes as application/json (the server requires it of every mutation). Throws
 * an Error with the server's `error` as message and its `issues` (`{ field, message }[]`).
 * @param {string} path under /api/v1 @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const json = 'application/json';
  const timeout = AbortSignal.timeout(15_000);
  const response = await fetch(API + path, {
    method,
    headers: body === undefined ? { accept: json } : { accept: json, 'content-type': json },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const message = data?.error ?? `${response.status} ${response.statusText}`;
  throw Object.assign(new Error(message), { status: response.status, issues: data?.issues ?? [] });
}

/** @param {unknown} error */
export const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/**
 * The top bar's indicator: live (updated when, refreshed every `pollMs`) or, with an error, disconnected.
 * @param {number} pollMs @param {string} [error]
 */
export function setLive(pollMs, error) {
  const ok = error === undefined;
  $('live').classList.toggle('down', !ok);
  $('live').title = ok ? `refreshes every ${pollMs / 1000} s` : `last error: ${error}`;
  $('live-text').textContent = ok
    ? `live · updated ${clock.format(new Date())}`
    : `disconnected · retrying every ${BACKOFF_MS / 1000} s`;
}
