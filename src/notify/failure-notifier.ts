import { setTimeout as sleep } from 'node:timers/promises';
import { HTTP, urlWith } from '../config/url';
import type { Logger } from '../log/logger';
import type { NotifyEvent } from '../schedules/schedule';

/** What runFailed reads of a schedule's `notify:` (NotifySettings). */
export interface NotifyTarget {
  onFailure?: string;
  after: number;
}

/** A notice of any event: its `event`, its schedule and run (when it is about one) and its facts. */
export type Notice = { event: NotifyEvent; schedule: string; runId?: string } & Record<string, unknown>;

export interface FailedRun {
  schedule: string;
  runId: string;
  jobType: string;
  attempts: number;
  error: string;
  failedAt: Date;
  /** failed runs in a row, this one included */
  consecutiveFailures: number;
}

export type NotifyOutcome = 'sent' | 'skipped' | 'failed';

export interface FailureNotifierOptions {
  log: Logger;
  /** Where the web UI is served, e.g. http://127.0.0.1:3000; the payload then links to the run. */
  linkBase?: string;
  /** Tries per notification, the first included (default 3). */
  attempts?: number;
  /** Wait before the first retry, doubling after each (default 1000). */
  backoffMs?: number;
  /** Limit of one try (default 5000). */
  timeoutMs?: number;
}

/** One notification per failing streak: when the streak reaches `after` (a success ends the streak). */
export function shouldNotify(consecutiveFailures: number, after: number): boolean {
  return consecutiveFailures === after;
}

/** What one try came to: done (sent, or refused for good) or worth another try. */
type TryResult = { done: true; sent: boolean; reason?: string } | { done: false; reason: string };

/**
 * POSTs JSON notices to a schedule's `notify:` URLs: to `onFailure` when its failing streak reaches
 * `notify.after` (Airflow's on_failure_callback), and the failure policy's other events (see
 * src/worker/failure-policy.ts). Retries network errors, timeouts, 429 and 5xx with exponential
 * backoff. Logs name the URL's origin only: its path or query may hold a token.
 */
export class FailureNotifier {
  private readonly log: Logger;
  private readonly linkBase: string | undefined;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly inFlight = new Set<Promise<NotifyOutcome>>();

  constructor(options: FailureNotifierOptions) {
    this.log = options.log;
    this.linkBase = options.linkBase?.replace(/\/+$/, '');
    this.attempts = Math.max(1, Math.floor(options.attempts ?? 3));
    this.backoffMs = Math.max(0, options.backoffMs ?? 1_000);
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 5_000);
  }

  /** Never throws and never blocks the caller's run: callers do `void notifier.runFailed(...)`. Resolves to what happened, for tests/logs. */
  runFailed(target: NotifyTarget, run: FailedRun): Promise<NotifyOutcome> {
    if (!shouldNotify(run.consecutiveFailures, target.after) || !target.onFailure)
      return Promise.resolve('skipped');
    const url = target.onFailure;
    return this.deliver(
      url,
      () => ({
        event: 'run_failed',
        schedule: run.schedule,
        runId: run.runId,
        jobType: run.jobType,
        attempts: run.attempts,
        error: run.error,
        failedAt: run.failedAt.toISOString(),
        consecutiveFailures: run.consecutiveFailures,
      }),
      { schedule: run.schedule, runId: run.runId, event: 'run_failed' },
    );
  }

  /**
   * POSTs `notice` to `url` (any event of a schedule's notify:), with a link to its run (or to the
   * grid). Never throws; resolves to what happened. Like runFailed, never awaited by a run.
   */
  notify(url: string, notice: Notice): Promise<NotifyOutcome> {
    return this.deliver(url, () => notice, notice);
  }

  /** Sends the notice `build` makes (a failure to make it is a failure to send, logged with `about`). */
  private deliver(
    url: string,
    build: () => Notice,
    about: Pick<Notice, 'schedule' | 'runId' | 'event'>,
  ): Promise<NotifyOutcome> {
    const sending = Promise.resolve()
      .then(() => this.send(url, build()))
      .catch((error: unknown) => {
        this.log.warn(
          {
            schedule: about.schedule,
            runId: about.runId,
            event: about.event,
            reason: (error as Error)?.name,
          },
          `${about.event} notification not sent: unexpected error`,
        );
        return 'failed' as const;
      });
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
    return sending;
  }

  /** Waits for notifications still being sent (used at shutdown, bounded by their retries). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async send(target: string, notice: Notice): Promise<NotifyOutcome> {
    const context = { schedule: notice.schedule, runId: notice.runId, event: notice.event };
    const what = notice.event === 'run_failed' ? 'failure' : notice.event;
    const url = urlWith(target, HTTP);
    if (!url) {
      this.log.warn(context, `${what} notification not sent: its notify URL is not an http(s) URL`);
      return 'failed';
    }
    const where = { ...context, origin: url.origin };
    const body = JSON.stringify(this.payloadOf(notice));
    let last: TryResult = { done: false, reason: 'not tried' };
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2));
      last = await this.tryOnce(url, body);
      if (last.done) break;
      this.log.debug({ ...where, attempt, reason: last.reason }, `${what} notification attempt failed`);
    }
    if (last.done && last.sent) {
      this.log.info(where, `${what} notification sent for schedule ${notice.schedule}`);
      return 'sent';
    }
    this.log.warn(
      { ...where, attempts: this.attempts, reason: last.reason },
      `${what} notification for schedule ${notice.schedule} not delivered to ${url.origin}`,
    );
    return 'failed';
  }

  private async tryOnce(url: URL, body: string): Promise<TryResult> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // Nothing to read, but an unread body holds on to the connection.
      await response.body?.cancel().catch(() => {});
      if (response.ok) return { done: true, sent: true };
      const reason = `HTTP ${response.status}`;
      return response.status === 429 || response.status >= 500
        ? { done: false, reason }
        : { done: true, sent: false, reason };
    } catch (error) {
      return { done: false, reason: this.describe(error, url) };
    }
  }

  private payloadOf(notice: Notice): Record<string, unknown> {
    if (this.linkBase === undefined) return notice;
    const link =
      notice.runId === undefined
        ? `${this.linkBase}/schedules`
        : `${this.linkBase}/schedules#run=${encodeURIComponent(notice.schedule)}/${encodeURIComponent(notice.runId)}`;
    return { ...notice, link };
  }

  /** Why a try threw, without the URL's path or query. */
  private describe(error: unknown, url: URL): string {
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err?.name === 'TimeoutError') return `timed out after ${this.timeoutMs}ms`;
    const text = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(error);
    return text.split(url.href).join(url.origin);
  }
}
