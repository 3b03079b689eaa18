import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Directory } from './directory.js';
import type { PresenceStore } from './presenceStore.js';

export interface DeviceCodeGrant {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scopes: string[];
  readonly expiresAt: number;
  approvedUserId?: string;
  declined?: boolean;
  redeemed?: boolean;
}

export interface RefreshGrant {
  readonly userId: string;
  readonly clientId: string;
  readonly scopes: string[];
  readonly expiresAt: number;
}

export interface Fault {
  readonly kind: 'status' | 'hang' | 'drop' | 'tokenOutage' | 'rejectIds';
  readonly status?: 401 | 429 | 500 | 503 | 504;
  /** rejectIds: getPresencesByUserId answers a bare 400 to any request naming one of these. */
  readonly ids?: readonly string[];
  readonly retryAfterSeconds?: number;
  remaining: number;
  readonly path?: string;
}

export interface RequestLogEntry {
  readonly method: string;
  /** The URL path as sent, e.g. `/v1.0/users/…/presence/setPresence`. */
  readonly path: string;
  /** The path without the `/v1.0` or `/beta` prefix (Graph), or the path itself. */
  readonly route: string;
  /** `graph`, `identity` (sign-in) or `batch` (a request inside `$batch`). */
  readonly kind: 'graph' | 'identity' | 'batch';
  /** The calling application: token `appid` for Graph, `client_id` for sign-in. */
  readonly appId?: string;
  /** Graph: the parsed JSON body. Sign-in: grant type and scope only (never credentials). */
  readonly body?: unknown;
  /** HTTP status answered; 0 when the request was hung or dropped by a fault. */
  readonly status: number;
  /** Emulator clock, ms since the epoch. */
  readonly at: number;
  readonly requestId: string;
}

/** The mutable state shared by the route handlers. */
export interface EmulatorCore {
  readonly directory: Directory;
  readonly store: PresenceStore;
  readonly logger: Logger;
  readonly signingKey: KeyObject;
  readonly signingKid: string;
  readonly publicJwk: Record<string, unknown>;
  /** `https://127.0.0.1:PORT`, set once listening. */
  origin: string;
  now(): number;
  /** Real seconds per emulated second: token `expires_in` is divided by it. */
  readonly timeScale: number;
  readonly tokenLifetimeSeconds: number;
  readonly deviceCodeIntervalSeconds: number;
  readonly deviceCodes: Map<string, DeviceCodeGrant>;
  readonly refreshTokens: Map<string, RefreshGrant>;
  /** Presence requests allowed per application per 30 s (0: no limit). */
  readonly throttleLimit: number;
  readonly throttleHits: Map<string, number[]>;
  /** True when a getPresencesByUserId request names an id a `rejectIds` fault holds (uses up one count). */
  rejectIds?(ids: readonly string[]): boolean;
  /** Records a request made inside `$batch` in the request log. */
  logBatchItem?(entry: Omit<RequestLogEntry, 'at' | 'kind'>): void;
  /** Page size of group member lists when `$top` is not given (Graph: 100). */
  readonly memberPageSize?: number;
  /** Called after any change worth persisting. */
  changed(): void;
}
