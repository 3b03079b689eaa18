import type { API, CharacteristicValue, HAPStatus, PlatformAccessory, Service } from 'homebridge';
import type { Bridge, UserState } from '../bridgeTypes.js';
import type { UserConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { ActiveIntent } from '../presence/presenceArbiter.js';
import type { ObservedPresence, PresencePair } from '../presence/presencePair.js';
import { formatPresence, samePair } from '../presence/presencePair.js';
import { TEAMS_STATUS_RULES, showsStatus, type TeamsStatus } from '../presence/teamsStatus.js';
import type { Clock } from '../shared/clock.js';
import { HOMEKIT_INPUT } from '../homekit/feature.js';

export { HOMEKIT_INPUT } from '../homekit/feature.js';

const SENSOR_SUBTYPE = 'busy';
const STATUS_SUBTYPE_PREFIX = 'status:';

/** Where the accessory's context records the name the config gave each service (by subtype). */
const CONFIG_NAMES_KEY = 'configNames';

/** HAP's "service communication failure" status (a const enum in HAP's typings). */
const SERVICE_COMMUNICATION_FAILURE = -70402 as HAPStatus;

/** Availabilities that make the busy sensor report "occupied". */
const BUSY_AVAILABILITIES = new Set(['Busy', 'DoNotDisturb']);

const PAIR_LABELS: Record<string, string> = {
  'Available/Available': 'Available',
  'Busy/InACall': 'Busy',
  'Busy/InAConferenceCall': 'Conference Call',
  'Away/Away': 'Away',
  'DoNotDisturb/Presenting': 'Do Not Disturb',
};

export function switchLabel(pair: PresencePair): string {
  return PAIR_LABELS[formatPresence(pair)] ?? formatPresence(pair);
}

/** The stable accessory UUID seed for a user: renaming the user keeps the accessory. */
export function accessorySeed(userKey: string): string {
  return `presence-bridge:${userKey}`;
}

/** What the sensors follow: the read-back when known, else what Graph confirmed for our session. */
export function observedPresence(state: Pick<UserState, 'actual' | 'confirmed'>): ObservedPresence | null {
  return state.actual ?? state.confirmed;
}

/** Is the user busy for the busy sensor (Busy or DoNotDisturb, any activity). */
export function sensorBusy(state: Pick<UserState, 'actual' | 'confirmed'>): boolean {
  const basis = observedPresence(state);
  return basis !== null && BUSY_AVAILABILITIES.has(basis.availability);
}

/**
 * Should a switch for `pair` be on: the `homekit` input holds exactly that pair, whether or not it
 * wins. The switch shows what HomeKit asked for; the sensors show the outcome.
 */
export function switchOn(intents: readonly ActiveIntent[], pair: PresencePair): boolean {
  return intents.some((intent) => intent.input === HOMEKIT_INPUT && samePair(intent.pair, pair));
}

/** The HomeKit subtype of the status sensor for `status`. */
export function statusSubtype(status: TeamsStatus): string {
  return `${STATUS_SUBTYPE_PREFIX}${status}`;
}

export interface UserAccessoryOptions {
  readonly api: API;
  readonly accessory: PlatformAccessory;
  readonly user: UserConfig;
  readonly switches: readonly PresencePair[];
  readonly sensor: boolean;
  /** Teams statuses that get a sensor each (`homekit.statusSensors`). */
  readonly statusSensors?: readonly TeamsStatus[];
  readonly logger: Logger;
  readonly clock: Clock;
  /** The running bridge, or null while none is (start failed, or shutting down). */
  readonly bridge: () => Bridge | null;
}

interface SwitchEntry {
  readonly pair: PresencePair;
  readonly service: Service;
  on: boolean;
}

interface StatusEntry {
  readonly status: TeamsStatus;
  readonly service: Service;
  on: boolean;
}

/**
 * One HomeKit accessory per user: mutually exclusive presence switches acting as the `homekit`
 * input (each shows whether HomeKit's request is held, winning or not), an occupancy sensor for
 * Busy or Do Not Disturb and optional sensors per Teams status (both following the outcome), and
 * a fault flag on every one of these services when sign-in or Graph refuses. Thin: every
 * decision is the arbiter's; this only maps states.
 */
export class UserAccessory {
  private readonly switchEntries: SwitchEntry[] = [];
  private readonly statusEntries: StatusEntry[] = [];
  private readonly sensorService: Service | null;
  /** Every service carrying Status Fault: switches and sensors, so a fault shows whatever is turned off. */
  private readonly faultServices: Service[] = [];
  private busy = false;
  private fault = false;
  /** The user's session is unhealthy (the publisher was refused). */
  private unhealthy = false;
  private gatedNote: string | null = null;
  /** Reading presence back was refused (sign-in or permission), for every user at once. */
  private readBackRefused = false;

  constructor(private readonly options: UserAccessoryOptions) {
    const { api, accessory, user } = options;
    const { Service: S, Characteristic: C } = api.hap;
    const name = user.name ?? user.key;

    accessory.getService(S.AccessoryInformation)
      ?.setCharacteristic(C.Manufacturer, 'Presence Bridge')
      .setCharacteristic(C.Model, 'Teams presence')
      .setCharacteristic(C.SerialNumber, user.key);

    const configNames = this.configNames();
    const wanted = new Set<string>();
    for (const pair of options.switches) {
      const subtype = formatPresence(pair);
      wanted.add(subtype);
      const displayName = `${name} ${switchLabel(pair)}`;
      const service = accessory.getServiceById(S.Switch, subtype) ?? accessory.addService(S.Switch, displayName, subtype);
      this.nameService(service, displayName, configNames);
      const entry: SwitchEntry = { pair, service, on: false };
      service
        .getCharacteristic(C.On)
        .onGet(() => entry.on)
        .onSet((value) => this.onSwitchSet(entry, value));
      service.updateCharacteristic(C.On, false);
      this.addFault(service);
      this.switchEntries.push(entry);
    }

    if (options.sensor) {
      const displayName = `${name} Busy Sensor`;
      const service =
        accessory.getServiceById(S.OccupancySensor, SENSOR_SUBTYPE) ?? accessory.addService(S.OccupancySensor, displayName, SENSOR_SUBTYPE);
      this.nameService(service, displayName, configNames);
      service.getCharacteristic(C.OccupancyDetected).onGet(() => this.occupancyValue(this.busy));
      this.addFault(service);
      this.sensorService = service;
    } else {
      this.sensorService = null;
    }

    const statuses = new Set(options.statusSensors ?? []);
    for (const status of statuses) {
      const subtype = statusSubtype(status);
      wanted.add(subtype);
      const displayName = `${name} Teams ${TEAMS_STATUS_RULES[status].label}`;
      const service = accessory.getServiceById(S.OccupancySensor, subtype) ?? accessory.addService(S.OccupancySensor, displayName, subtype);
      this.nameService(service, displayName, configNames);
      const entry: StatusEntry = { status, service, on: false };
      service.getCharacteristic(C.OccupancyDetected).onGet(() => this.occupancyValue(entry.on));
      service.updateCharacteristic(C.OccupancyDetected, this.occupancyValue(false));
      this.addFault(service);
      this.statusEntries.push(entry);
    }

    // Services left from an older config (a switch removed from homekit.switches, a sensor off).
    for (const service of [...accessory.services]) {
      const staleSwitch = service.UUID === S.Switch.UUID && !wanted.has(service.subtype ?? '');
      const staleSensor =
        service.UUID === S.OccupancySensor.UUID && !(service.subtype === SENSOR_SUBTYPE ? options.sensor : wanted.has(service.subtype ?? ''));
      if (staleSwitch || staleSensor) {
        accessory.removeService(service);
        delete configNames[service.subtype ?? ''];
      }
    }
  }

  /** Reflect a state event from the bridge. Never throws. */
  update(state: UserState): void {
    try {
      const { Characteristic: C } = this.options.api.hap;
      this.showIntents(this.options.bridge()?.activeIntents(this.options.user.key) ?? []);
      if (this.sensorService) {
        const busy = sensorBusy(state);
        if (busy !== this.busy) {
          this.busy = busy;
          this.sensorService.updateCharacteristic(C.OccupancyDetected, this.occupancyValue(busy));
        }
      }
      const presence = observedPresence(state);
      for (const entry of this.statusEntries) {
        const on = showsStatus(presence, entry.status);
        if (on !== entry.on) {
          entry.on = on;
          entry.service.updateCharacteristic(C.OccupancyDetected, this.occupancyValue(on));
        }
      }
      this.unhealthy = state.health === 'unhealthy';
      this.refreshFault();
      this.noteGate(state);
    } catch (error) {
      this.options.logger.error(`updating HomeKit for ${this.options.user.key} failed: ${errorMessage(error)}`);
    }
  }

  /**
   * A gate (working hours) holding inputs back is told in the log, not as StatusFault: nothing is
   * broken, and a fault would hide real ones. Logged once per change so a press that did nothing
   * is explained.
   */
  private noteGate(state: UserState): void {
    const note = state.gated?.note ?? null;
    if (note === this.gatedNote) return;
    const was = this.gatedNote;
    this.gatedNote = note;
    if (note !== null) this.options.logger.info(`${this.options.user.key}: ${note}; inputs are held back (exempt ones still work)`);
    else if (was !== null) this.options.logger.info(`${this.options.user.key}: no longer ${was}`);
  }

  /**
   * Reflect the intents the user's inputs hold (the bridge's `intents` event): each switch is on
   * while the `homekit` input holds its pair, so it turns off only when HomeKit's own request
   * ends (turned off, a timed end, a clear), not when a higher-ranked input wins. Never throws.
   */
  showIntents(intents: readonly ActiveIntent[]): void {
    try {
      const { Characteristic: C } = this.options.api.hap;
      for (const entry of this.switchEntries) {
        const on = switchOn(intents, entry.pair);
        if (on !== entry.on) {
          entry.on = on;
          entry.service.updateCharacteristic(C.On, on);
        }
      }
    } catch (error) {
      this.options.logger.error(`updating HomeKit for ${this.options.user.key} failed: ${errorMessage(error)}`);
    }
  }

  /** Read-back refused or working again: part of the fault, so a sensor nobody switched still warns. */
  setReadBackRefused(refused: boolean): void {
    this.readBackRefused = refused;
    this.refreshFault();
  }

  private refreshFault(): void {
    try {
      const fault = this.unhealthy || this.readBackRefused;
      if (fault === this.fault) return;
      this.fault = fault;
      for (const service of this.faultServices) service.updateCharacteristic(this.options.api.hap.Characteristic.StatusFault, this.faultValue());
    } catch (error) {
      this.options.logger.error(`updating HomeKit for ${this.options.user.key} failed: ${errorMessage(error)}`);
    }
  }

  /** Show a fault (the bridge could not be built or started). */
  markFault(): void {
    this.update({
      userKey: this.options.user.key,
      userId: this.options.user.id,
      displayName: this.options.user.name ?? this.options.user.key,
      desired: null,
      source: null,
      confirmed: null,
      sessionExpiresAt: null,
      nextRenewalAt: null,
      health: 'unhealthy',
      lastError: null,
      actual: null,
      overridden: false,
      updatedAt: this.options.clock.now(),
    });
  }

  /** The names the config gave this accessory's services when last started, by subtype (kept in the accessory's cached context). */
  private configNames(): Record<string, string> {
    const context = this.options.accessory.context as Record<string, unknown>;
    const recorded = context[CONFIG_NAMES_KEY];
    const names: Record<string, string> = {};
    if (typeof recorded === 'object' && recorded !== null) {
      for (const [subtype, value] of Object.entries(recorded)) if (typeof value === 'string') names[subtype] = value;
    }
    context[CONFIG_NAMES_KEY] = names;
    return names;
  }

  /**
   * `Name` always follows the config. `ConfiguredName` is what the Home app shows and writes when
   * the user renames a service: set it only when the service has none yet or the config's name
   * changed since the last start, so a rename in the Home app survives restarts (Homebridge
   * keeps the value in its accessory cache).
   */
  private nameService(service: Service, displayName: string, configNames: Record<string, string>): void {
    const { Characteristic: C } = this.options.api.hap;
    const subtype = service.subtype ?? '';
    service.setCharacteristic(C.Name, displayName);
    const fresh = !service.testCharacteristic(C.ConfiguredName);
    if (fresh) service.addOptionalCharacteristic(C.ConfiguredName);
    const current = service.getCharacteristic(C.ConfiguredName).value;
    const renamedInConfig = configNames[subtype] !== undefined && configNames[subtype] !== displayName;
    if (fresh || renamedInConfig || typeof current !== 'string' || current === '') service.setCharacteristic(C.ConfiguredName, displayName);
    configNames[subtype] = displayName;
  }

  private addFault(service: Service): void {
    const { Characteristic: C } = this.options.api.hap;
    if (!service.testCharacteristic(C.StatusFault)) service.addOptionalCharacteristic(C.StatusFault);
    service.getCharacteristic(C.StatusFault).onGet(() => this.faultValue());
    service.updateCharacteristic(C.StatusFault, this.faultValue());
    this.faultServices.push(service);
  }

  private occupancyValue(occupied: boolean): number {
    const { Characteristic: C } = this.options.api.hap;
    return occupied ? C.OccupancyDetected.OCCUPANCY_DETECTED : C.OccupancyDetected.OCCUPANCY_NOT_DETECTED;
  }

  private faultValue(): number {
    const { Characteristic: C } = this.options.api.hap;
    return this.fault ? C.StatusFault.GENERAL_FAULT : C.StatusFault.NO_FAULT;
  }

  private onSwitchSet(entry: SwitchEntry, value: CharacteristicValue): void {
    const { user, logger, clock } = this.options;
    const before = entry.on;
    try {
      const bridge = this.options.bridge();
      if (!bridge) throw new Error('the bridge is not running');
      const at = clock.now();
      // HAP stores and reports the written value itself (to the other controllers): entry.on is set
      // first so the bridge's intents event, fired within setIntent, does not report it again.
      if (value === true || value === 1) {
        logger.info(`HomeKit: ${user.key} ${formatPresence(entry.pair)} on`);
        entry.on = true;
        // The new intent replaces the homekit input's old one: the switches are mutually exclusive.
        bridge.setIntent(user.key, HOMEKIT_INPUT, { kind: 'set', pair: entry.pair, at });
      } else if (switchOn(bridge.activeIntents(user.key), entry.pair)) {
        logger.info(`HomeKit: ${user.key} ${formatPresence(entry.pair)} off`);
        entry.on = false;
        bridge.setIntent(user.key, HOMEKIT_INPUT, { kind: 'clear', at });
      } else {
        // Off of a switch whose pair HomeKit does not hold asks nothing.
        entry.on = false;
      }
      this.showIntents(bridge.activeIntents(user.key));
    } catch (error) {
      entry.on = before;
      logger.error(`HomeKit switch ${formatPresence(entry.pair)} for ${user.key} failed: ${errorMessage(error)}`);
      throw new this.options.api.hap.HapStatusError(SERVICE_COMMUNICATION_FAILURE);
    }
  }
}
