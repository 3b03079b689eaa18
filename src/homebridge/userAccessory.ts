import type { API, CharacteristicValue, HAPStatus, PlatformAccessory, Service } from 'homebridge';
import type { Bridge, UserState } from '../bridgeTypes.js';
import type { UserConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { PresencePair } from '../presence/presencePair.js';
import { formatPresence, samePair } from '../presence/presencePair.js';
import type { Clock } from '../session/clock.js';

/** The input name HomeKit switches act as in the arbiter. */
export const HOMEKIT_INPUT = 'homekit';

const SENSOR_SUBTYPE = 'busy';

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

/** Is the user busy for the sensor: read-back when known, else what Graph confirmed for our session. */
export function sensorBusy(state: Pick<UserState, 'actual' | 'confirmed'>): boolean {
  const basis = state.actual ?? state.confirmed;
  return basis !== null && BUSY_AVAILABILITIES.has(basis.availability);
}

/** Should a switch for `pair` be on: the arbiter asserts exactly that pair because of HomeKit. */
export function switchOn(state: Pick<UserState, 'desired' | 'source'>, pair: PresencePair): boolean {
  return state.source === HOMEKIT_INPUT && samePair(state.desired, pair);
}

export interface UserAccessoryOptions {
  readonly api: API;
  readonly accessory: PlatformAccessory;
  readonly user: UserConfig;
  readonly switches: readonly PresencePair[];
  readonly sensor: boolean;
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

/**
 * One HomeKit accessory per user: mutually exclusive presence switches acting as the `homekit`
 * input, and an occupancy sensor showing the user's actual presence with a fault flag when
 * sign-in or Graph refuses. Thin: every decision is the arbiter's; this only maps states.
 */
export class UserAccessory {
  private readonly switchEntries: SwitchEntry[] = [];
  private readonly sensorService: Service | null;
  private busy = false;
  private fault = false;
  /** The user's session is unhealthy (the publisher was refused). */
  private unhealthy = false;
  /** Reading presence back was refused (sign-in or permission), for every user at once. */
  private readBackRefused = false;
  /** The pair this accessory last asserted as the homekit input, until cleared. */
  private asserted: PresencePair | null = null;

  constructor(private readonly options: UserAccessoryOptions) {
    const { api, accessory, user } = options;
    const { Service: S, Characteristic: C } = api.hap;
    const name = user.name ?? user.key;

    accessory.getService(S.AccessoryInformation)
      ?.setCharacteristic(C.Manufacturer, 'Presence Bridge')
      .setCharacteristic(C.Model, 'Teams presence')
      .setCharacteristic(C.SerialNumber, user.key);

    const wanted = new Set<string>();
    for (const pair of options.switches) {
      const subtype = formatPresence(pair);
      wanted.add(subtype);
      const displayName = `${name} ${switchLabel(pair)}`;
      const service = accessory.getServiceById(S.Switch, subtype) ?? accessory.addService(S.Switch, displayName, subtype);
      this.nameService(service, displayName);
      const entry: SwitchEntry = { pair, service, on: false };
      service
        .getCharacteristic(C.On)
        .onGet(() => entry.on)
        .onSet((value) => this.onSwitchSet(entry, value));
      service.updateCharacteristic(C.On, false);
      this.switchEntries.push(entry);
    }

    if (options.sensor) {
      const displayName = `${name} Busy Sensor`;
      const service =
        accessory.getServiceById(S.OccupancySensor, SENSOR_SUBTYPE) ?? accessory.addService(S.OccupancySensor, displayName, SENSOR_SUBTYPE);
      this.nameService(service, displayName);
      service.getCharacteristic(C.OccupancyDetected).onGet(() => this.occupancyValue());
      service.getCharacteristic(C.StatusFault).onGet(() => this.faultValue());
      this.sensorService = service;
    } else {
      this.sensorService = null;
    }

    // Services left from an older config (a switch removed from homekit.switches, the sensor off).
    for (const service of [...accessory.services]) {
      const staleSwitch = service.UUID === S.Switch.UUID && !wanted.has(service.subtype ?? '');
      const staleSensor = service.UUID === S.OccupancySensor.UUID && (!options.sensor || service.subtype !== SENSOR_SUBTYPE);
      if (staleSwitch || staleSensor) accessory.removeService(service);
    }
  }

  /** Reflect a state event from the bridge. Never throws. */
  update(state: UserState): void {
    try {
      const { Characteristic: C } = this.options.api.hap;
      for (const entry of this.switchEntries) {
        const on = switchOn(state, entry.pair);
        if (on !== entry.on) {
          entry.on = on;
          entry.service.updateCharacteristic(C.On, on);
        }
      }
      if (this.sensorService) {
        const busy = sensorBusy(state);
        if (busy !== this.busy) {
          this.busy = busy;
          this.sensorService.updateCharacteristic(C.OccupancyDetected, this.occupancyValue());
        }
      }
      this.unhealthy = state.health === 'unhealthy';
      this.refreshFault();
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
      if (fault === this.fault || !this.sensorService) return;
      this.fault = fault;
      this.sensorService.updateCharacteristic(this.options.api.hap.Characteristic.StatusFault, this.faultValue());
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

  private nameService(service: Service, displayName: string): void {
    const { Characteristic: C } = this.options.api.hap;
    service.setCharacteristic(C.Name, displayName);
    if (!service.testCharacteristic(C.ConfiguredName)) service.addOptionalCharacteristic(C.ConfiguredName);
    service.setCharacteristic(C.ConfiguredName, displayName);
  }

  private occupancyValue(): number {
    const { Characteristic: C } = this.options.api.hap;
    return this.busy ? C.OccupancyDetected.OCCUPANCY_DETECTED : C.OccupancyDetected.OCCUPANCY_NOT_DETECTED;
  }

  private faultValue(): number {
    const { Characteristic: C } = this.options.api.hap;
    return this.fault ? C.StatusFault.GENERAL_FAULT : C.StatusFault.NO_FAULT;
  }

  private onSwitchSet(entry: SwitchEntry, value: CharacteristicValue): void {
    const { api, user, logger, clock } = this.options;
    try {
      const bridge = this.options.bridge();
      if (!bridge) throw new Error('the bridge is not running');
      const at = clock.now();
      if (value === true || value === 1) {
        logger.info(`HomeKit: ${user.key} ${formatPresence(entry.pair)} on`);
        bridge.setIntent(user.key, HOMEKIT_INPUT, { kind: 'set', pair: entry.pair, at });
        this.asserted = entry.pair;
        // Mutually exclusive: the new intent replaces the homekit input's old one at once.
        for (const other of this.switchEntries) {
          other.on = other === entry;
          other.service.updateCharacteristic(api.hap.Characteristic.On, other.on);
        }
      } else {
        // Turning off a switch that does not hold the homekit intent changes nothing (it may
        // show off while a higher-ranked input wins; off still clears what HomeKit asked for).
        entry.on = false;
        // After a restart HomeKit's request comes back from the bridge's intent store, not from here.
        const restored = bridge.activeIntents(user.key).some((i) => i.input === HOMEKIT_INPUT && samePair(i.pair, entry.pair));
        if (samePair(this.asserted, entry.pair) || restored) {
          logger.info(`HomeKit: ${user.key} ${formatPresence(entry.pair)} off`);
          bridge.setIntent(user.key, HOMEKIT_INPUT, { kind: 'clear', at });
          this.asserted = null;
        }
      }
    } catch (error) {
      logger.error(`HomeKit switch ${formatPresence(entry.pair)} for ${user.key} failed: ${errorMessage(error)}`);
      throw new api.hap.HapStatusError(SERVICE_COMMUNICATION_FAILURE);
    }
  }
}
