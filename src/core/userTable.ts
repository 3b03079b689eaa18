import type { UserConfig } from '../config/schema.js';
import { PresenceArbiter } from '../presence/presenceArbiter.js';
import type { TimerHandle } from '../shared/clock.js';
import { PresencePublisher, type PublisherDeps } from '../session/presencePublisher.js';
import type { RenewalMargin } from '../session/renewalMargin.js';
import type { GraphCallEvent, UserState } from '../session/userState.js';

/** One configured user: what their inputs want (arbiter), their session at Graph (publisher), their wake-up. */
export interface UserSlot {
  readonly config: UserConfig;
  readonly arbiter: PresenceArbiter;
  readonly publisher: PresencePublisher;
  timer: TimerHandle | undefined;
}

/**
 * What every user's slot shares: the publisher's dependencies (clock, Graph client, limiter,
 * expiration, renewal margin…), with the callbacks told which user or publisher they are for.
 */
export interface UserSlotOptions extends Omit<PublisherDeps, 'onState' | 'onCall' | 'beforeSet' | 'random' | 'renewalMargin'> {
  readonly random?: (() => number) | undefined;
  readonly renewalMargin: RenewalMargin;
  readonly onState: (state: UserState, publisher: PresencePublisher) => void;
  readonly onCall: (event: GraphCallEvent) => void;
  /** Before a setPresence: list the user in the session ledger (see PublisherDeps.beforeSet). */
  readonly beforeSet: (user: UserConfig) => Promise<void> | undefined;
}

/** Builds one user's slot. Nothing runs until the bridge asks the arbiter and hands the answer over. */
export function createUserSlot(user: UserConfig, options: UserSlotOptions): UserSlot {
  const publisher: PresencePublisher = new PresencePublisher(
    { key: user.key, id: user.id, displayName: user.name ?? user.key },
    {
      ...options,
      onState: (state) => options.onState(state, publisher),
      beforeSet: () => options.beforeSet(user),
    },
  );
  return { config: user, arbiter: new PresenceArbiter(), publisher, timer: undefined };
}

/**
 * The users the bridge serves, by key and by Graph id. A user given by user principal name is
 * also found by the object id Graph resolved it to, once known ({@link rememberObjectId}).
 */
export class UserTable {
  private readonly byKey = new Map<string, UserSlot>();
  private readonly byId = new Map<string, UserSlot>();
  /** users[].id given as a user principal name (lower case) → the object id Graph resolved it to. */
  private readonly objectIds = new Map<string, string>();

  get size(): number {
    return this.byKey.size;
  }

  add(slot: UserSlot): void {
    this.byKey.set(slot.config.key, slot);
    this.byId.set(slot.config.id.toLowerCase(), slot);
    const resolved = this.objectIds.get(slot.config.id.toLowerCase());
    if (resolved !== undefined) this.byId.set(resolved.toLowerCase(), slot);
  }

  /** Forgets a user (by key); returns their slot, or undefined when there was none. */
  remove(key: string): UserSlot | undefined {
    const slot = this.byKey.get(key);
    if (!slot) return undefined;
    this.byKey.delete(key);
    for (const [id, held] of this.byId) if (held === slot) this.byId.delete(id);
    return slot;
  }

  get(key: string): UserSlot | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** By Graph id: the configured id or the object id it resolved to (any case). */
  byUserId(id: string): UserSlot | undefined {
    return this.byId.get(id.toLowerCase());
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  values(): IterableIterator<UserSlot> {
    return this.byKey.values();
  }

  /** The id the session ledger lists a user under: the object id once known. */
  ledgerId(configuredId: string): string {
    return this.objectIds.get(configuredId.toLowerCase()) ?? configuredId;
  }

  isResolved(configuredId: string): boolean {
    return this.objectIds.has(configuredId.toLowerCase());
  }

  /** The object id Graph resolved a user principal name to (the first answer stays). */
  rememberObjectId(configuredId: string, objectId: string): void {
    const key = configuredId.toLowerCase();
    if (this.objectIds.has(key)) return;
    this.objectIds.set(key, objectId);
    const slot = this.byId.get(key);
    if (slot && !this.byId.has(objectId.toLowerCase())) this.byId.set(objectId.toLowerCase(), slot);
  }
}
