import type { Startable, UserState } from '../bridgeTypes.js';
import type { FeatureContext, HttpRequest } from '../feature.js';
import { errorMessage } from '../logger.js';
import { ShownAvailability, UNKNOWN_AVAILABILITY } from '../presence/availabilityTemplate.js';
import { parseRetryAfter, retryDelay } from '../presence/retryDelay.js';
import type { TimerHandle } from '../shared/clock.js';
import { buildRequest, describeTarget, isRetryableStatus } from './request.js';
import type { HttpOutputConfig } from './schema.js';

/** First retry after about 1 s, doubling to at most a minute: a light that reboots is back in seconds. */
export const HTTP_RETRY_BASE_MS = 1000;
export const HTTP_RETRY_CAP_MS = 60_000;

export interface HttpLightOptions {
  /** The output with its user resolved and its CA file made absolute. */
  readonly output: HttpOutputConfig & { readonly user: string };
  readonly context: Pick<FeatureContext, 'bridge' | 'events' | 'clock' | 'logger' | 'http'>;
  /** Uniform in [0, 1) for retry jitter; Math.random unless a test pins it. */
  readonly random?: () => number;
}

type Wanted = { readonly availability: string; readonly request: HttpRequest };

function keyOf(request: HttpRequest): string {
  return JSON.stringify([request.method, request.url, request.body ?? null]);
}

/**
 * A light (or any HTTP service) that shows one user's availability: on each change it sends the
 * request built from the output's templates. One request at a time; a change while one is in
 * flight or waiting to be retried replaces it, so only the latest state is sent and a stale one
 * never lands after a newer one. The same request is not sent twice in a row.
 */
export class HttpLightOutput implements Startable {
  private readonly shown = new ShownAvailability();
  private wanted: Wanted | undefined;
  private delivered: string | undefined;
  private inFlight = false;
  private attempt = 0;
  private retryTimer: TimerHandle | undefined;
  private failing = false;
  private stopped = true;
  private off: (() => void) | undefined;
  private readonly missingLogged = new Set<string>();
  private idle: Promise<void> = Promise.resolve();
  private settle: (() => void) | undefined;

  constructor(private readonly options: HttpLightOptions) {}

  start(): Promise<void> {
    const { context, output } = this.options;
    this.stopped = false;
    this.off = context.events.on('state', (state) => {
      if (state.userKey === output.user) this.update(state);
    });
    this.update(context.bridge.state(output.user));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.options.context.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    return this.idle;
  }

  /** Resolves once no request is in flight (tests and shutdown). */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  private availabilityOf(state: UserState | undefined): string {
    if (this.options.output.follow === 'asserted') return state?.desired?.availability ?? UNKNOWN_AVAILABILITY;
    return this.shown.next(state);
  }

  private update(state: UserState | undefined): void {
    const { output, context } = this.options;
    const availability = this.availabilityOf(state);
    const built = buildRequest(output, { availability, userKey: output.user, displayName: state?.displayName ?? output.user });
    if (!built) {
      if (!this.missingLogged.has(availability)) {
        this.missingLogged.add(availability);
        context.logger.warn(`output "${output.name}" has no body for ${availability} and no "default"; the light keeps its last state`);
      }
      return;
    }
    const request: HttpRequest = { ...built, timeoutMs: output.timeoutSeconds * 1000, ...(output.caFile === undefined ? {} : { caFile: output.caFile }) };
    const key = keyOf(request);
    if (this.wanted && keyOf(this.wanted.request) === key) return;
    this.wanted = { availability, request };
    if (key === this.delivered && !this.inFlight) return;
    this.attempt = 0;
    context.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.kick();
  }

  private kick(): void {
    if (this.stopped || this.inFlight || !this.wanted) return;
    const wanted = this.wanted;
    if (keyOf(wanted.request) === this.delivered) return;
    this.inFlight = true;
    this.idle = new Promise((resolve) => (this.settle = resolve));
    void this.send(wanted).finally(() => {
      this.inFlight = false;
      this.settle?.();
      if (this.wanted !== wanted) {
        this.attempt = 0;
        this.kick();
      }
    });
  }

  private async send(wanted: Wanted): Promise<void> {
    const { output, context } = this.options;
    const target = describeTarget(wanted.request.method, wanted.request.url);
    let failure: string;
    let retryable: boolean;
    let retryAfterMs: number | undefined;
    try {
      const result = await context.http.request(wanted.request);
      if (result.status >= 200 && result.status < 300) {
        this.delivered = keyOf(wanted.request);
        this.attempt = 0;
        if (this.failing) context.logger.info(`output "${output.name}": ${target} works again`);
        this.failing = false;
        context.logger.debug(`output "${output.name}": ${wanted.availability} -> ${target} (${result.status})`);
        return;
      }
      failure = `HTTP ${result.status}`;
      retryable = isRetryableStatus(result.status);
      // a device (or ntfy.sh, or a proxy) that says when to come back is believed, within bounds
      retryAfterMs = parseRetryAfter(result.headers['retry-after'], context.clock.now());
    } catch (error) {
      failure = errorMessage(error);
      retryable = true;
    }
    if (this.stopped || this.wanted !== wanted) return;
    this.attempt++;
    const retry = retryable && this.attempt <= output.retries;
    const level = this.failing ? 'debug' : 'warn';
    this.failing = true;
    const next = retry ? retryDelay({ attempt: this.attempt, retryAfterMs, random: this.options.random ?? Math.random, baseMs: HTTP_RETRY_BASE_MS, capMs: HTTP_RETRY_CAP_MS }) : undefined;
    const plan = next === undefined ? (retryable ? `gave up after ${output.retries} retries; the next change tries again` : 'not retried; check the output\'s URL, method and headers') : `retry ${this.attempt} of ${output.retries} in ${Math.round(next / 100) / 10} s`;
    context.logger[level](`output "${output.name}": ${wanted.availability} -> ${target} failed: ${failure}; ${plan}`);
    if (next === undefined) return;
    this.retryTimer = context.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.wanted === wanted) this.kick();
    }, next);
  }
}
