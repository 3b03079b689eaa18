/**
 * Sessions and user-preferred presence per user, and their aggregation into the one presence
 * Graph reports. Pure: every method takes `now`.
 * https://learn.microsoft.com/graph/api/presence-setpresence
 */
export interface PresenceState {
  readonly availability: string;
  readonly activity: string;
}

export interface StoredSession {
  readonly clientId: string;
  readonly availability: string;
  readonly activity: string;
  /** When setPresence (or the control route) last posted this session. */
  readonly setAt: number;
  readonly expiresAt: number;
}

export interface StoredPreferred {
  readonly availability: string;
  readonly activity: string;
  readonly setAt: number;
  readonly expiresAt: number;
}

/** A session as it reads now, after fading. */
export interface SessionView extends StoredSession {
  /** The pair this session contributes now (Available fades). */
  readonly current: PresenceState;
}

/** An Available session becomes Available/AvailableInactive this long after its last post... */
export const AVAILABLE_INACTIVE_AFTER_MS = 5 * 60_000;
/** ...and Away/Away this long after it. */
export const AVAILABLE_AWAY_AFTER_MS = 10 * 60_000;

/**
 * What a user with no session reads as, whatever their preferred presence: "the user's presence
 * is Offline" when no session exists (setUserPreferredPresence page).
 */
export const NO_PRESENCE: PresenceState = { availability: 'Offline', activity: 'Offline' };

/** Precedence among sessions: higher wins. DoNotDisturb > Busy > Available > Away per Graph's docs. */
const RANK: Record<string, number> = {
  DoNotDisturb: 70,
  Busy: 60,
  BusyIdle: 55,
  Available: 50,
  AvailableIdle: 45,
  BeRightBack: 30,
  Away: 20,
  Offline: 10,
};

export const SESSION_ANY_AVAILABILITIES = Object.keys(RANK);

export function rankOf(availability: string): number {
  return RANK[availability] ?? 0;
}

export function sessionView(session: StoredSession, now: number): SessionView {
  let current: PresenceState = { availability: session.availability, activity: session.activity };
  if (session.availability === 'Available') {
    const idle = now - session.setAt;
    if (idle >= AVAILABLE_AWAY_AFTER_MS) current = { availability: 'Away', activity: 'Away' };
    else if (idle >= AVAILABLE_INACTIVE_AFTER_MS) current = { availability: 'Available', activity: 'AvailableInactive' };
  }
  return { ...session, current };
}

export interface UserPresenceRecord {
  sessions: StoredSession[];
  preferred: StoredPreferred | null;
}

export class PresenceStore {
  private readonly users = new Map<string, UserPresenceRecord>();

  private record(userId: string): UserPresenceRecord {
    let r = this.users.get(userId);
    if (!r) {
      r = { sessions: [], preferred: null };
      this.users.set(userId, r);
    }
    return r;
  }

  /** Drops ended sessions and preferences. */
  prune(userId: string, now: number): UserPresenceRecord {
    const r = this.record(userId);
    r.sessions = r.sessions.filter((s) => s.expiresAt > now);
    if (r.preferred && r.preferred.expiresAt <= now) r.preferred = null;
    return r;
  }

  setSession(userId: string, session: StoredSession): void {
    const r = this.prune(userId, session.setAt);
    r.sessions = r.sessions.filter((s) => s.clientId.toLowerCase() !== session.clientId.toLowerCase());
    r.sessions.push(session);
  }

  /** False when the client had no live session. */
  clearSession(userId: string, clientId: string, now: number): boolean {
    const r = this.prune(userId, now);
    const before = r.sessions.length;
    r.sessions = r.sessions.filter((s) => s.clientId.toLowerCase() !== clientId.toLowerCase());
    return r.sessions.length < before;
  }

  setPreferred(userId: string, preferred: StoredPreferred | null, now: number): void {
    this.prune(userId, now).preferred = preferred;
  }

  sessions(userId: string, now: number): SessionView[] {
    return this.prune(userId, now).sessions.map((s) => sessionView(s, now));
  }

  preferred(userId: string, now: number): StoredPreferred | null {
    return this.prune(userId, now).preferred;
  }

  /**
   * The user's presence now: Offline with no session; else the preferred presence above all, then
   * the highest-ranked session, latest post among equals.
   */
  presence(userId: string, now: number): PresenceState {
    const r = this.prune(userId, now);
    if (r.sessions.length === 0) return NO_PRESENCE;
    if (r.preferred) return { availability: r.preferred.availability, activity: r.preferred.activity };
    let best: SessionView | undefined;
    for (const s of r.sessions) {
      const v = sessionView(s, now);
      if (!best) {
        best = v;
        continue;
      }
      const diff = rankOf(v.current.availability) - rankOf(best.current.availability);
      if (diff > 0 || (diff === 0 && v.setAt >= best.setAt)) best = v;
    }
    return best ? best.current : NO_PRESENCE;
  }

  /** Everything, for the state file. */
  snapshot(): Record<string, UserPresenceRecord> {
    const out: Record<string, UserPresenceRecord> = {};
    for (const [id, r] of this.users) if (r.sessions.length > 0 || r.preferred) out[id] = { sessions: [...r.sessions], preferred: r.preferred };
    return out;
  }

  restore(data: Record<string, UserPresenceRecord>): void {
    this.users.clear();
    for (const [id, r] of Object.entries(data)) this.users.set(id, { sessions: [...r.sessions], preferred: r.preferred });
  }
}
