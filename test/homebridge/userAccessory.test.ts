// The API object Homebridge hands to plugins (not in the package's exports, so by path).
import { HomebridgeAPI } from '../../node_modules/homebridge/dist/api.js';
import { PlatformAccessory } from '../../node_modules/homebridge/dist/platformAccessory.js';
import type { Service as HapService } from 'homebridge';
import { describe, expect, it } from 'vitest';
import type { Bridge, UserState } from '../../src/bridgeTypes.js';
import { UserAccessory, sensorBusy, switchOn } from '../../src/homebridge/userAccessory.js';
import type { Logger } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import type { ActiveIntent } from '../../src/presence/presenceArbiter.js';
import type { TeamsStatus } from '../../src/presence/teamsStatus.js';
import { parseSessionPair, type ObservedPresence, type PresencePair } from '../../src/presence/presencePair.js';
import { ManualClock } from '../../src/shared/clock.js';
import { capturingLogger } from '../helpers/logger.js';
import { RecordingBridge } from '../helpers/recordingBridge.js';
import { userState } from '../helpers/userState.js';

const BUSY = parseSessionPair('Busy/InACall')!;
const DND = parseSessionPair('DoNotDisturb/Presenting')!;

const presence = (text: string | null): ObservedPresence | null => {
  if (!text) return null;
  const [availability, activity] = text.split('/');
  return { availability: availability!, activity: activity! };
};

describe('sensorBusy: occupied while the user is Busy or DoNotDisturb, read-back first', () => {
  const table: [actual: string | null, confirmed: PresencePair | null, busy: boolean][] = [
    ['Busy/InACall', null, true],
    ['Busy/Busy', null, true],
    ['DoNotDisturb/Presenting', null, true],
    ['DoNotDisturb/DoNotDisturb', null, true],
    ['Available/Available', BUSY, false], // read-back wins over what we asserted (a preferred presence overrides)
    ['Away/Away', null, false],
    ['Offline/OffWork', null, false],
    ['BeRightBack/BeRightBack', null, false],
    ['PresenceUnknown/PresenceUnknown', null, false],
    [null, BUSY, true], // read-back off or not yet known: what Graph confirmed for our session
    [null, DND, true],
    [null, parseSessionPair('Available/Available')!, false],
    [null, null, false],
  ];
  it.each(table)('actual %s, confirmed %o -> %s', (actual, confirmed, busy) => {
    expect(sensorBusy({ actual: presence(actual), confirmed })).toBe(busy);
  });
});

describe('switchOn: on while the homekit input holds that pair, whoever wins', () => {
  const held = (input: string, pair: PresencePair, until?: number): ActiveIntent => (until === undefined ? { input, pair, at: 0 } : { input, pair, at: 0, until });
  const table: [intents: ActiveIntent[], pair: PresencePair, on: boolean][] = [
    [[held('homekit', BUSY)], BUSY, true],
    [[held('homekit', BUSY)], DND, false],
    [[held('Desk button', DND), held('homekit', BUSY)], BUSY, true], // a higher-ranked input wins: still HomeKit's request
    [[held('Desk button', DND), held('homekit', BUSY)], DND, false], // the winner's pair is not HomeKit's
    [[held('homekit', BUSY, 60_000)], BUSY, true], // timed: on until the bridge drops it
    [[held('Desk button', BUSY)], BUSY, false],
    [[held('mqtt-command', DND)], DND, false],
    [[], BUSY, false],
  ];
  it.each(table)('intents %o, switch %o -> %s', (intents, pair, on) => {
    expect(switchOn(intents, pair)).toBe(on);
  });
});

/** Records like RecordingBridge, but the core throws on every intent. */
class ThrowingBridge extends RecordingBridge {
  override setIntent(): void {
    throw new Error('core exploded');
  }
}

interface SetupOptions {
  readonly logger?: Logger;
  readonly sensor?: boolean;
  readonly statusSensors?: TeamsStatus[];
  readonly name?: string;
  /** An accessory restored from Homebridge's cache (same object, as Homebridge hands it back). */
  readonly accessory?: PlatformAccessory;
  readonly api?: HomebridgeAPI;
}

function setup(bridge: Bridge | null, options: SetupOptions = {}) {
  const api = options.api ?? new HomebridgeAPI();
  const { Service, Characteristic } = api.hap;
  const accessory = options.accessory ?? new api.platformAccessory('Alex', api.hap.uuid.generate('presence-bridge:alex'));
  const clock = new ManualClock();
  const user = new UserAccessory({
    api,
    accessory,
    user: { key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', name: options.name ?? 'Alex' },
    switches: [BUSY, DND],
    sensor: options.sensor ?? true,
    statusSensors: options.statusSensors ?? [],
    logger: options.logger ?? silentLogger,
    clock,
    bridge: () => bridge,
  });
  const switchService = (pair: PresencePair) => accessory.getServiceById(Service.Switch, `${pair.availability}/${pair.activity}`)!;
  const on = (pair: PresencePair) => switchService(pair).getCharacteristic(Characteristic.On);
  const sensor = accessory.getServiceById(Service.OccupancySensor, 'busy')!;
  const status = (name: TeamsStatus) => accessory.getServiceById(Service.OccupancySensor, `status:${name}`)!;
  return { api, accessory, user, on, switchService, sensor, status, clock, Characteristic, Service };
}

/** What Homebridge does with an accessory between runs: serialize it to cachedAccessories, read it back. */
function throughCache(accessory: PlatformAccessory): PlatformAccessory {
  Object.assign(accessory, { _associatedPlugin: 'homebridge-presence-bridge', _associatedPlatform: 'PresenceBridge' });
  return PlatformAccessory.deserialize(JSON.parse(JSON.stringify(PlatformAccessory.serialize(accessory))) as ReturnType<typeof PlatformAccessory.serialize>);
}

const state = (overrides: Partial<UserState>): UserState => userState('alex', { userId: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', displayName: 'Alex', ...overrides });

describe('UserAccessory on real HAP services', () => {
  it('switches act as the homekit input: on sets, a second on replaces, off of a switch that does not hold it changes nothing', async () => {
    const bridge = new RecordingBridge();
    const { on, clock } = setup(bridge);
    await on(BUSY).handleSetRequest(true);
    await on(DND).handleSetRequest(true);
    expect(on(BUSY).value).toBe(false);
    expect(on(DND).value).toBe(true);
    await on(BUSY).handleSetRequest(false);
    await on(DND).handleSetRequest(false);
    expect(on(DND).value).toBe(false);
    expect(bridge.intents).toEqual([
      { userKey: 'alex', input: 'homekit', intent: { kind: 'set', pair: BUSY, at: clock.now() } },
      { userKey: 'alex', input: 'homekit', intent: { kind: 'set', pair: DND, at: clock.now() } },
      { userKey: 'alex', input: 'homekit', intent: { kind: 'clear', at: clock.now() } },
    ]);
  });

  it('a switch shows HomeKit\'s request while a higher-ranked input wins; the sensor shows the outcome', async () => {
    const bridge = new RecordingBridge();
    const { user, on, sensor, Characteristic } = setup(bridge);
    bridge.events.on('intents', (event) => user.showIntents(event.intents));
    await on(BUSY).handleSetRequest(true);
    user.update(state({ desired: BUSY, source: 'homekit', confirmed: BUSY, actual: presence('Busy/InACall') }));
    expect(on(BUSY).value).toBe(true);
    expect(sensor.getCharacteristic(Characteristic.OccupancyDetected).value).toBe(1);
    // A desk button asks for Do Not Disturb and wins: Busy stays on (HomeKit still asks for it), DND off.
    bridge.setIntent('alex', 'Desk button', { kind: 'set', pair: DND, at: 1 });
    user.update(state({ desired: DND, source: 'Desk button', confirmed: DND, actual: presence('DoNotDisturb/Presenting') }));
    expect(on(BUSY).value).toBe(true);
    expect(on(DND).value).toBe(false);
    expect(sensor.getCharacteristic(Characteristic.OccupancyDetected).value).toBe(1);
    // HomeKit's request ended elsewhere (a clear for the homekit input, no change of winner): off.
    bridge.setIntent('alex', 'homekit', { kind: 'clear', at: 2 });
    bridge.events.emit('intents', { userKey: 'alex', intents: bridge.activeIntents('alex') });
    expect(on(BUSY).value).toBe(false);
    // Turning off a switch HomeKit no longer holds asks nothing of the bridge.
    const before = bridge.intents.length;
    await on(BUSY).handleSetRequest(false);
    expect(bridge.intents).toHaveLength(before);
  });

  it('faults with the health and a refused read-back on every switch and sensor', () => {
    const { user, on, sensor, switchService, status, Characteristic } = setup(new RecordingBridge(), { statusSensors: ['Busy'] });
    const faults = () => [switchService(BUSY), switchService(DND), sensor, status('Busy')].map((s) => s.getCharacteristic(Characteristic.StatusFault).value);
    expect(faults()).toEqual([0, 0, 0, 0]);
    user.update(state({ health: 'unhealthy', actual: presence('Available/Available') }));
    expect(faults()).toEqual([1, 1, 1, 1]);
    expect(sensor.getCharacteristic(Characteristic.OccupancyDetected).value).toBe(0);
    expect(on(BUSY).value).toBe(false);
    user.update(state({ health: 'retrying' }));
    expect(faults()).toEqual([0, 0, 0, 0]);
    // A refused read-back faults on its own, and clears with it.
    user.setReadBackRefused(true);
    expect(faults()).toEqual([1, 1, 1, 1]);
    user.update(state({ health: 'ok' }));
    expect(faults()).toEqual([1, 1, 1, 1]);
    user.setReadBackRefused(false);
    expect(faults()).toEqual([0, 0, 0, 0]);
  });

  it('logs once when working hours hold inputs back and once when they stop, without a fault', () => {
    const infos: string[] = [];
    const { user, sensor, Characteristic } = setup(new RecordingBridge(), { logger: { ...silentLogger, info: (m: string) => infos.push(m) } });
    const gated = { gate: 'workingHours', note: 'outside working hours' };
    user.update(state({ gated }));
    user.update(state({ gated }));
    expect(sensor.getCharacteristic(Characteristic.StatusFault).value).toBe(0);
    user.update(state({ gated: null }));
    expect(infos).toEqual(['alex: outside working hours; inputs are held back (exempt ones still work)', 'alex: no longer outside working hours']);
  });

  it('with the busy sensor off, the fault still shows on the switches', () => {
    const { user, accessory, switchService, Characteristic, Service } = setup(new RecordingBridge(), { sensor: false });
    expect(accessory.getService(Service.OccupancySensor)).toBeUndefined();
    user.markFault();
    expect(switchService(BUSY).getCharacteristic(Characteristic.StatusFault).value).toBe(1);
    expect(switchService(DND).getCharacteristic(Characteristic.StatusFault).value).toBe(1);
  });

  it('status sensors follow the read-back (else what Graph confirmed), several at once', () => {
    const { user, status, Characteristic } = setup(new RecordingBridge(), { statusSensors: ['Busy', 'InACall', 'InAMeeting', 'DoNotDisturb', 'Presenting', 'Away', 'Available'] });
    const occupied = () =>
      (['Busy', 'InACall', 'InAMeeting', 'DoNotDisturb', 'Presenting', 'Away', 'Available'] as const).filter((s) => status(s).getCharacteristic(Characteristic.OccupancyDetected).value === 1);
    expect(occupied()).toEqual([]);
    user.update(state({ actual: presence('Busy/InACall') }));
    expect(occupied()).toEqual(['Busy', 'InACall']);
    user.update(state({ actual: presence('Busy/InAMeeting') }));
    expect(occupied()).toEqual(['Busy', 'InAMeeting']);
    user.update(state({ actual: presence('DoNotDisturb/Presenting'), confirmed: BUSY }));
    expect(occupied()).toEqual(['DoNotDisturb', 'Presenting']);
    user.update(state({ actual: null, confirmed: BUSY })); // read-back off: what Graph confirmed
    expect(occupied()).toEqual(['Busy', 'InACall']);
    user.update(state({ actual: presence('Away/Away'), confirmed: null }));
    expect(occupied()).toEqual(['Away']);
    user.update(state({ actual: null, confirmed: null }));
    expect(occupied()).toEqual([]);
  });

  it('a name changed in the Home app survives a restart; a name changed in the config replaces it', () => {
    const api = new HomebridgeAPI();
    const first = setup(new RecordingBridge(), { api, statusSensors: ['InACall'] });
    const { Characteristic } = first;
    const configured = (s: HapService) => s.getCharacteristic(Characteristic.ConfiguredName).value;
    expect(configured(first.switchService(BUSY))).toBe('Alex Busy');
    expect(configured(first.status('InACall'))).toBe('Alex Teams In a Call');
    // The Home app writes ConfiguredName; Homebridge caches the accessory (context included) and hands it back.
    first.switchService(BUSY).getCharacteristic(Characteristic.ConfiguredName).setValue('On Air');
    first.status('InACall').getCharacteristic(Characteristic.ConfiguredName).setValue('Call light');
    const cached = throughCache(first.accessory);
    const second = setup(new RecordingBridge(), { api, accessory: cached, statusSensors: ['InACall'] });
    expect(configured(second.switchService(BUSY))).toBe('On Air');
    expect(configured(second.status('InACall'))).toBe('Call light');
    expect(configured(second.switchService(DND))).toBe('Alex Do Not Disturb');
    expect(second.switchService(BUSY).getCharacteristic(Characteristic.Name).value).toBe('Alex Busy');
    // The user's name changed in the config: every service takes the new name.
    const renamed = throughCache(second.accessory);
    const third = setup(new RecordingBridge(), { api, accessory: renamed, statusSensors: ['InACall'], name: 'Alexandra' });
    expect(configured(third.switchService(BUSY))).toBe('Alexandra Busy');
    expect(configured(third.status('InACall'))).toBe('Alexandra Teams In a Call');
  });

  it('a failing core or no running bridge: the error is logged and HomeKit gets a HAP error, nothing escapes', async () => {
    for (const bridge of [new ThrowingBridge(), null]) {
      const logger = capturingLogger();
      const { on } = setup(bridge, { logger });
      await expect(on(BUSY).handleSetRequest(true)).rejects.toBe(-70402);
      const errors = logger.lines.filter((l) => l.level === 'error').map((l) => l.message);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/HomeKit switch Busy\/InACall for alex failed/);
    }
  });

  it('removes services a changed config no longer asks for, keeps the rest', () => {
    const { api, accessory } = setup(new RecordingBridge(), { statusSensors: ['Busy', 'Away'] });
    new UserAccessory({
      api,
      accessory,
      user: { key: 'alex', id: 'x', name: 'Alex' },
      switches: [DND],
      sensor: false,
      statusSensors: ['Away'],
      logger: silentLogger,
      clock: new ManualClock(),
      bridge: () => null,
    });
    const { Service } = api.hap;
    expect(accessory.services.filter((s: HapService) => s.UUID === Service.Switch.UUID).map((s: HapService) => s.subtype)).toEqual(['DoNotDisturb/Presenting']);
    expect(accessory.services.filter((s: HapService) => s.UUID === Service.OccupancySensor.UUID).map((s: HapService) => s.subtype)).toEqual(['status:Away']);
  });
});
