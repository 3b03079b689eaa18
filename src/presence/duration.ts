/**
 * ISO 8601 durations as Graph uses them (`PT5M`, `PT1H30M`, `P1D`). Years and months are
 * refused: they have no fixed length.
 */
const PATTERN = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Milliseconds of an ISO 8601 duration, or undefined when the text is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const trimmed = text.trim();
  const match = PATTERN.exec(trimmed);
  if (!match || trimmed.toUpperCase() === 'P' || trimmed.toUpperCase().endsWith('T')) return undefined;
  const [, weeks, days, hours, minutes, seconds] = match;
  const parts: [string | undefined, number][] = [
    [weeks, 7 * 86_400_000],
    [days, 86_400_000],
    [hours, 3_600_000],
    [minutes, 60_000],
    [seconds, 1000],
  ];
  if (parts.every(([v]) => v === undefined)) return undefined;
  return Math.round(parts.reduce((sum, [v, unit]) => sum + (v === undefined ? 0 : Number(v) * unit), 0));
}

/** Whole seconds as the shortest `PT…` form, e.g. 5400000 → `PT1H30M`. */
export function formatIsoDuration(ms: number): string {
  let seconds = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const text = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  return `PT${text || '0S'}`;
}

/** Bounds Graph puts on setPresence's expirationDuration. */
export const MIN_SESSION_EXPIRATION_MS = 5 * 60_000;
export const MAX_SESSION_EXPIRATION_MS = 4 * 3_600_000;

/**
 * Longest a timed intent may hold (a map entry's `for`, a set command's `expiration`): one day.
 * A desk signal that should outlast a working day belongs to a preferred presence or a clear; the
 * session itself is renewed at most PT4H at a time whatever this says.
 */
export const MAX_HOLD_MS = 86_400_000;
export const MAX_HOLD_TEXT = 'P1D';

/**
 * Longest expiration sent with setUserPreferredPresence: a week, Graph's own longest default
 * (seven days for Available, Away, BeRightBack and Offline; one day for Busy and DoNotDisturb).
 */
export const MAX_PREFERRED_EXPIRATION_MS = 7 * 86_400_000;
export const MAX_PREFERRED_EXPIRATION_TEXT = 'P7D';
