/**
 * How long to wait before retrying a failed Graph call (pure; randomness injected).
 * A server's Retry-After wins; otherwise exponential backoff with equal jitter and a cap.
 * https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */

/** First backoff step: the first retry waits between 0.5 and 1 s. */
export const DEFAULT_RETRY_BASE_MS = 1000;

/**
 * Longest backoff step (30 s): long enough to ease a struggling Graph, short enough that an
 * Available renewal, sent 90 s before its fade, still gets a couple of tries in time.
 */
export const DEFAULT_RETRY_CAP_MS = 30_000;

/**
 * Longest Retry-After we honour (10 min). Graph asks for seconds; a larger value is more likely a
 * broken proxy than a real instruction, and every session would have faded long before anyway.
 */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Up to this much is added to a Retry-After, so that many users throttled by the same response
 * do not all come back in the same millisecond. The delay is never less than Retry-After.
 */
export const RETRY_AFTER_JITTER_MS = 1000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY = '(?:mon|tue|wed|thu|fri|sat|sun)';
const LONG_DAY = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)';
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
/** Obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
/** Obsolete asctime: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');

function utc(year: number, month: string, day: number, h: string, m: string, s: string): number | undefined {
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  const hours = Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  if (monthIndex < 0 || day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const time = Date.UTC(year, monthIndex, day, hours, minutes, Math.min(seconds, 59));
  // Reject 31 Feb and the like instead of letting Date roll them over.
  if (new Date(time).getUTCDate() !== day) return undefined;
  return time;
}

/** An HTTP-date in any of the three forms RFC 9110 requires recipients to accept. */
export function parseHttpDate(text: string): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(text);
  if (m) {
    // Two-digit years: 70–99 are 19xx, 00–69 are 20xx (RFC 9110 §5.6.7 asks for "not more than
    // 50 years in the future"; either reading is the past for any date a server sends today).
    const yy = Number(m[3]);
    return utc(yy >= 70 ? 1900 + yy : 2000 + yy, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(text);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return undefined;
}

/**
 * A Retry-After header value as a wait in ms from `now`: delta-seconds (`120`, or `2.128` as Graph
 * sends them) or an HTTP-date
 * (a date in the past means 0). Garbage, or no header, gives undefined. Capped at
 * {@link MAX_RETRY_AFTER_MS}.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number | undefined;
  // Graph's throttling page shows `Retry-After: 2.128`: decimal seconds are honoured, rounded up.
  if (/^\d+(?:\.\d+)?$/.test(text)) ms = Math.ceil(Number(text) * 1000);
  else {
    const date = parseHttpDate(text);
    if (date !== undefined) ms = Math.max(0, date - now);
  }
  if (ms === undefined) return undefined;
  // Also turns an absurd number of seconds (even one that overflows to Infinity) into the cap.
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

export interface RetryDelayInput {
  /** Which retry this is: 1 for the first retry after one failure, 2 after two, … */
  readonly attempt: number;
  /** The server's Retry-After in ms (from {@link parseRetryAfter}), if it sent one. */
  readonly retryAfterMs?: number | undefined;
  /** Uniform in [0, 1), e.g. Math.random. */
  readonly random: () => number;
  readonly baseMs?: number;
  readonly capMs?: number;
}

function unit(random: () => number): number {
  const r = random();
  return Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
}

/**
 * Milliseconds to wait before retry number `attempt`.
 * - Retry-After present: that long plus up to {@link RETRY_AFTER_JITTER_MS}, never less.
 * - Otherwise equal jitter: the step is `min(cap, base × 2^(attempt−1))` and the wait is uniform in
 *   [step/2, step], so a retry never comes back at once yet clients spread out.
 */
export function retryDelay({ attempt, retryAfterMs, random, baseMs = DEFAULT_RETRY_BASE_MS, capMs = DEFAULT_RETRY_CAP_MS }: RetryDelayInput): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    const wait = Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
    return Math.ceil(wait + unit(random) * RETRY_AFTER_JITTER_MS);
  }
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  // 2^(n-1) overflows to Infinity for large n; min() with the cap keeps it finite.
  const step = Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 1024));
  return Math.round(step / 2 + unit(random) * (step / 2));
}

/**
 * How long 401s from Graph may go on, with sign-in still working, before they count as a real
 * refusal (5 min, one Available fade). The presence service has been seen answering 401
 * intermittently to a valid token (microsoft-graph-docs issue 8457, msgraph-beta-sdk-dotnet
 * issue 316); until this long has passed the bridge keeps retrying with backoff and shows
 * `retrying`, not a fault. A token endpoint that refuses is a real failure at once.
 */
export const UNAUTHORIZED_GRACE_MS = 5 * 60_000;
