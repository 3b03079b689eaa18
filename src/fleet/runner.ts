/**
 * Runs one instance of a fleet (issue 19): reads the groups, runs a bridge for this shard's
 * users, and reads the groups again every `refreshMinutes`. When this shard's users change, the
 * change is applied to the running bridge: `setUsers` adds the joiners and removes the leavers
 * (clearing their sessions), `setInputs` adds and removes the inputs the templates make for them
 * (the MQTT feature subscribes and unsubscribes). Counters, the broker connection, timers and
 * every other user's session carry on untouched.
 */
import type { CoreBridge } from '../bridge.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { errorMessage, type Logger } from '../logger.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { membershipChange, planFleet, type FleetPlan } from './plan.js';
import type { Shard } from './shard.js';
import type { GroupMember } from './userKeys.js';

export interface FleetRunnerDeps {
  readonly config: PresenceBridgeConfig;
  readonly shard: Shard;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Reads a group's members (GroupMemberReader.read over the bridge's Graph stack). */
  readonly readMembers: (groupId: string) => Promise<GroupMember[]>;
  readonly createBridge: (config: PresenceBridgeConfig) => CoreBridge;
  /** Called once the bridge started (add-ons such as the status page attach to it). */
  readonly onBridge?: (bridge: CoreBridge) => Promise<void>;
}

const LISTED_KEYS = 10;

function listKeys(users: readonly { key: string }[]): string {
  const keys = users.slice(0, LISTED_KEYS).map((u) => u.key);
  return users.length > LISTED_KEYS ? `${keys.join(', ')} and ${users.length - LISTED_KEYS} more` : keys.join(', ');
}

/** `; <hint>` of a GraphError (what to grant, where), or nothing. */
function hintOf(error: unknown): string {
  const hint = typeof error === 'object' && error !== null ? (error as { hint?: unknown }).hint : undefined;
  return typeof hint === 'string' ? `; ${hint}` : '';
}

export class FleetRunner {
  private current: { bridge: CoreBridge; plan: FleetPlan } | undefined;
  private timer: TimerHandle | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: FleetRunnerDeps) {}

  get bridge(): CoreBridge | undefined {
    return this.current?.bridge;
  }

  /** The plan the running bridge was made from. */
  get plan(): FleetPlan | undefined {
    return this.current?.plan;
  }

  /** Reads the groups (a failure here fails the start, with what to grant) and starts the bridge. */
  async start(): Promise<CoreBridge> {
    let members: Map<string, GroupMember[]>;
    try {
      members = await this.readAll();
    } catch (error) {
      throw new Error(`cannot read the members of userGroups: ${errorMessage(error)}${hintOf(error)}`, { cause: error });
    }
    const plan = this.makePlan(members);
    const bridge = this.deps.createBridge(plan.config);
    this.current = { bridge, plan };
    await bridge.start();
    await this.deps.onBridge?.(bridge);
    this.schedule();
    return bridge;
  }

  /** Reads the groups now and applies any change (the timer calls this; so can tests). */
  refresh(): Promise<void> {
    const run = this.queue.then(() => this.refreshNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.queue.then(() => this.current?.bridge.stop());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private schedule(): void {
    if (this.stopped || (this.deps.config.userGroups ?? []).length === 0) return;
    const minutes = Math.min(...(this.deps.config.userGroups ?? []).map((g) => g.refreshMinutes));
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.refresh()
        .catch((error: unknown) => this.deps.logger.error(`group refresh failed: ${errorMessage(error)}`))
        .finally(() => this.schedule());
    }, minutes * 60_000);
  }

  private async readAll(): Promise<Map<string, GroupMember[]>> {
    const members = new Map<string, GroupMember[]>();
    for (const group of this.deps.config.userGroups ?? []) members.set(group.id.toLowerCase(), await this.deps.readMembers(group.id));
    return members;
  }

  private makePlan(members: ReadonlyMap<string, readonly GroupMember[]>): FleetPlan {
    const { config, shard, logger } = this.deps;
    const plan = planFleet(config, members, shard);
    for (const c of plan.collisions) logger.warn(`${c.assigned.length} member(s) would have the key "${c.base}"; they get ${c.assigned.map((a) => `${a.key} (${a.id})`).join(', ')}`);
    if (plan.duplicates > 0) logger.info(`${plan.duplicates} group member(s) are also in users[]; the users[] entry is used`);
    for (const t of plan.templates) logger.info(`input template "${t.name}" made ${t.count} input(s)${t.example && t.example.type === 'mqtt' ? `, e.g. ${t.example.name} on ${t.example.topic}` : ''}`);
    const groups = (config.userGroups ?? []).length > 0 ? ` (${(config.userGroups ?? []).length} group(s))` : '';
    logger.info(`shard ${shard.index}/${shard.count}: ${plan.config.users.length} of ${plan.allUsers.length} user(s)${groups}, ${plan.config.graph.maxRequestsPer30s} requests per 30 s`);
    return plan;
  }

  private async refreshNow(): Promise<void> {
    if (this.stopped || !this.current) return;
    let members: Map<string, GroupMember[]>;
    try {
      members = await this.readAll();
    } catch (error) {
      // keep the users we have; the next refresh tries again
      this.deps.logger.error(`reading the groups failed, keeping the current ${this.current.plan.config.users.length} user(s): ${errorMessage(error)}${hintOf(error)}`);
      return;
    }
    const plan = planFleet(this.deps.config, members, this.deps.shard);
    const change = membershipChange(this.current.plan.config.users, plan.config.users);
    if (change.joined.length === 0 && change.left.length === 0) return;
    if (change.joined.length > 0) this.deps.logger.info(`joined: ${listKeys(change.joined)}`);
    if (change.left.length > 0) this.deps.logger.info(`left (their sessions are cleared): ${listKeys(change.left)}`);
    this.apply(this.makePlan(members));
  }

  /** Users first, so the inputs made for joiners find their user; a leaver's inputs go with them. */
  private apply(plan: FleetPlan): void {
    const { bridge } = this.current!;
    bridge.setUsers(plan.config.users);
    bridge.setInputs(plan.config.inputs);
    this.current = { bridge, plan };
  }
}
