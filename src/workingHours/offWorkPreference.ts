import type { Startable, UserState } from '../bridgeTypes.js';
import type { FeatureContext } from '../feature.js';
import { errorMessage } from '../logger.js';
import type { TimerHandle } from '../shared/clock.js';
import { isOpenAt, nextChangeAfter } from './schedule.js';
import type { UserHours } from './schema.js';

export const OFF_WORK = { availability: 'Offline', activity: 'OffWork' } as const;

/** A failed setUserPreferredPresence is tried again this much later, while the window stays closed. */
export const OFF_WORK_RETRY_MS = 5 * 60_000;

type Context = Pick<FeatureContext, 'bridge' | 'events' | 'clock' | 'logger'>;

interface Slot {
  readonly userKey: string;
  readonly hours: UserHours;
  timer: TimerHandle | undefined;
  /** We set Offline/OffWork and have not withdrawn it yet. */
  ours: boolean;
  /** Latest state seen: tells whether a preferred presence of the user's own is showing. */
  last: UserState | undefined;
  busy: boolean;
}

/** `PT…M`, rounded up to whole minutes: Graph takes ISO 8601 durations. */
export function isoMinutes(ms: number): string {
  return `PT${Math.max(1, Math.ceil(ms / 60_000))}M`;
}

function showsOwnPreference(state: UserState | undefined): boolean {
  if (!state) return false;
  return state.actualFrom === 'preferred' || state.overridden;
}

function isOffWork(state: UserState | undefined): boolean {
  return state?.actual?.availability === OFF_WORK.availability && state.actual.activity === OFF_WORK.activity;
}

/**
 * "Appear offline after work" (opt-in per user with `preferOutside`): when a window closes, sets
 * the preferred presence Offline/OffWork, expiring when the next window opens (so Graph lifts it
 * even if the bridge is down then), and withdraws it at that opening. It never sets one over a
 * preferred presence the read-back shows the user chose, and never withdraws one it did not set
 * or that the user has since changed.
 */
export class OffWorkPreference implements Startable {
  private readonly slots: Slot[];
  private off: (() => void) | undefined;
  private stopped = false;

  constructor(users: ReadonlyMap<string, UserHours>, private readonly context: Context) {
    this.slots = [...users].filter(([, h]) => h.preferOutside !== undefined).map(([userKey, hours]) => ({ userKey, hours, timer: undefined, ours: false, last: undefined, busy: false }));
  }

  start(): Promise<void> {
    this.stopped = false;
    this.off = this.context.events.on('state', (state) => {
      const slot = this.slots.find((s) => s.userKey === state.userKey);
      if (slot) slot.last = state;
    });
    for (const slot of this.slots) {
      slot.last = this.context.bridge.state(slot.userKey);
      this.run(slot);
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    for (const slot of this.slots) this.context.clock.clearTimeout(slot.timer);
    return Promise.resolve();
  }

  /** Whether Offline/OffWork set by this run is in place for the user (for status and tests). */
  holds(userKey: string): boolean {
    return this.slots.some((s) => s.userKey === userKey && s.ours);
  }

  private run(slot: Slot): void {
    if (this.stopped || slot.busy) return;
    slot.busy = true;
    this.step(slot)
      .catch((error: unknown) => this.context.logger.error(`working hours for ${slot.userKey}: ${errorMessage(error)}`))
      .finally(() => {
        slot.busy = false;
        this.schedule(slot);
      });
  }

  private schedule(slot: Slot): void {
    if (this.stopped) return;
    const { clock } = this.context;
    clock.clearTimeout(slot.timer);
    const now = clock.now();
    const edge = nextChangeAfter(slot.hours, now);
    const closedAndMissing = !isOpenAt(slot.hours, now) && !slot.ours && !showsOwnPreference(slot.last);
    let due = edge;
    if (closedAndMissing) due = edge === null ? now + OFF_WORK_RETRY_MS : Math.min(edge, now + OFF_WORK_RETRY_MS);
    if (due === null) return;
    slot.timer = clock.setTimeout(() => this.run(slot), Math.max(0, due - now));
  }

  private async step(slot: Slot): Promise<void> {
    const { bridge, clock, logger } = this.context;
    const now = clock.now();
    if (isOpenAt(slot.hours, now)) {
      if (!slot.ours) return;
      slot.ours = false;
      if (showsOwnPreference(slot.last) && !isOffWork(slot.last)) {
        logger.info(`${slot.userKey}: working hours began; the preferred presence was changed since we set it, so it stays`);
        return;
      }
      await bridge.prefer(slot.userKey, null);
      logger.info(`${slot.userKey}: working hours began; withdrew Offline/OffWork`);
      return;
    }
    if (slot.ours) return;
    if (showsOwnPreference(slot.last)) {
      logger.info(`${slot.userKey}: outside working hours, but the user set a preferred presence; not changing it`);
      return;
    }
    const opens = nextChangeAfter(slot.hours, now);
    try {
      await bridge.prefer(slot.userKey, OFF_WORK, opens === null ? undefined : isoMinutes(opens - now));
      slot.ours = true;
      logger.info(`${slot.userKey}: outside working hours; set Offline/OffWork${opens === null ? '' : ` until ${new Date(opens).toISOString()}`}`);
    } catch (error) {
      logger.warn(`${slot.userKey}: could not set Offline/OffWork (${errorMessage(error)}); trying again in ${OFF_WORK_RETRY_MS / 60_000} min`);
    }
  }
}
