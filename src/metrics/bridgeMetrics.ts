import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BridgeControl, EventSubscription, InstanceIdentity } from '../feature.js';
import type { BridgeEvents, GraphCallEvent, UserHealth, UserState } from '../bridgeTypes.js';

const HEALTHS: readonly UserHealth[] = ['ok', 'pending', 'retrying', 'unhealthy'];

/** Seconds late; a renewal normally runs on time, later ones waited for the budget or retried. */
const RENEW_LAG_BUCKETS = [0.5, 1, 5, 15, 30, 60, 120, 300, 900];

export interface BridgeMetricsOptions {
  readonly events: EventSubscription<BridgeEvents>;
  /** Read at each scrape for the users gauge (users leave through setUsers without an event). */
  readonly bridge: Pick<BridgeControl, 'states'>;
  readonly instance: InstanceIdentity;
  readonly processMetrics: boolean;
}

/** What a state event last said about a user's session: enough to tell a renewal and its due time. */
interface SessionSeen {
  readonly confirmed: string | null;
  readonly nextRenewalAt: number | null;
}

/** `ok`, the status class (`4xx`, `5xx`), or `noAnswer` (network error, timeout). */
export function outcomeOf(call: GraphCallEvent): string {
  if (call.ok) return 'ok';
  return call.status === undefined ? 'noAnswer' : `${Math.floor(call.status / 100)}xx`;
}

/**
 * The bridge's Prometheus metrics, in a registry of their own (two bridges in one process never
 * share one), filled from the bridge's events: it only listens. No metric carries a user key or a
 * presence, so a scrape reveals counts only; no per-input label either, since a fleet's input
 * templates make one input per user (thousands of series).
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly sessions = new Map<string, SessionSeen>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly requests: Counter<'operation' | 'outcome' | 'code'>;
  private readonly throttles: Counter<'operation'>;
  private readonly renewLag: Histogram;
  private readonly signals: Counter<'outcome'>;
  private readonly drops: Counter<'source' | 'reason'>;

  constructor(private readonly options: BridgeMetricsOptions) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'presence_bridge_graph_requests_total',
      help: 'Graph requests by operation and outcome (ok, 4xx, 5xx, noAnswer) and Graph error code (none when ok).',
      labelNames: ['operation', 'outcome', 'code'],
      registers,
    });
    this.throttles = new Counter({ name: 'presence_bridge_graph_throttled_total', help: 'Graph requests answered 429 Too Many Requests, by operation.', labelNames: ['operation'], registers });
    this.renewLag = new Histogram({
      name: 'presence_bridge_renew_lag_seconds',
      help: 'How late a successful session renewal started after it was due (budget waits, retries).',
      buckets: RENEW_LAG_BUCKETS,
      registers,
    });
    this.signals = new Counter({ name: 'presence_bridge_input_messages_total', help: 'Values from inputs, by outcome: mapped to an intent, or ignored (no mapping took it).', labelNames: ['outcome'], registers });
    this.drops = new Counter({ name: 'presence_bridge_dropped_payloads_total', help: 'Payloads a source dropped before they became signals, by source and reason.', labelNames: ['source', 'reason'], registers });
    const bridge = options.bridge;
    new Gauge({
      name: 'presence_bridge_users',
      help: 'Users this instance serves, by the health of their Graph session.',
      labelNames: ['health'],
      registers,
      collect() {
        const counts = new Map<string, number>(HEALTHS.map((h) => [h, 0]));
        for (const state of bridge.states()) counts.set(state.health, (counts.get(state.health) ?? 0) + 1);
        for (const [health, count] of counts) this.set({ health }, count);
      },
    });
    const { id, shard } = options.instance;
    const info = new Gauge({ name: 'presence_bridge_instance_info', help: 'This instance\'s name and shard (always 1).', labelNames: ['instance', 'shard', 'shards'], registers });
    info.set({ instance: id, shard: String(shard.index), shards: String(shard.count) }, 1);
    // every series a dashboard expects exists from the start, at 0
    for (const outcome of ['mapped', 'ignored']) this.signals.inc({ outcome }, 0);
  }

  start(): void {
    if (this.unsubscribe.length > 0) return;
    const { events } = this.options;
    this.unsubscribe.push(
      events.on('state', (state) => this.onState(state)),
      events.on('graphCall', (call) => this.onCall(call)),
      events.on('signal', (signal) => this.signals.inc({ outcome: signal.intent ? 'mapped' : 'ignored' })),
      events.on('dropped', (drop) => this.drops.inc({ source: drop.source, reason: drop.reason })),
    );
    if (this.options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** The text exposition format (version 0.0.4). */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private onState(state: UserState): void {
    const confirmed = state.confirmed ? `${state.confirmed.availability}/${state.confirmed.activity}` : null;
    this.sessions.set(state.userKey, { confirmed, nextRenewalAt: state.nextRenewalAt });
  }

  private onCall(call: GraphCallEvent): void {
    this.requests.inc({ operation: call.operation, outcome: outcomeOf(call), code: call.ok ? 'none' : (call.errorCode ?? 'none') });
    if (call.status === 429) this.throttles.inc({ operation: call.operation });
    if (call.ok && call.operation === 'setPresence' && call.userKey !== null) this.renewal(call.userKey, call);
  }

  /**
   * A setPresence of the pair already confirmed is a renewal; the state event sent when it started
   * still holds its due time (the state after it lands carries the next one).
   */
  private renewal(userKey: string, call: GraphCallEvent): void {
    const seen = this.sessions.get(userKey);
    if (!seen || seen.confirmed === null || seen.confirmed !== call.detail || seen.nextRenewalAt === null) return;
    this.renewLag.observe(Math.max(0, call.startedAt - seen.nextRenewalAt) / 1000);
  }
}
