// The API object Homebridge hands to plugins (not in the package's exports, so by path).
import { HomebridgeAPI } from '../../node_modules/homebridge/dist/api.js';
import type { Service as HapService } from 'homebridge';
import { describe, expect, it } from 'vitest';
import type { Bridge, UserState } from '../../src/bridgeTypes.js';
import { TypedEvents } from '../../src/events.js';
import { UserAccessory, sensorBusy, switchOn } from '../../src/homebridge/userAccessory.js';
import type { Logger } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import type { Intent } from '../../src/presence/intent.js';
import { parseSessionPair, type ObservedPresence, type PresencePair } from '../../src/presence/presencePair.js';
import { ManualClock } from '../../src/session/clock.js';
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

describe('switchOn: on exactly when HomeKit is why the arbiter asserts that pair', () => {
  const table: [desired: PresencePair | null, source: string | null, pair: PresencePair, on: boolean][] = [
    [BUSY, 'homekit', BUSY, true],
    [BUSY, 'homekit', DND, false],
    [BUSY, 'Desk button', BUSY, false],
    [DND, 'mqtt-command', DND, false],
    [null, null, BUSY, false],
  ];
  it.each(table)('desired %o from %s, switch %o -> %s', (desired, source, pair, on) => {
    expect(switchOn({ desired, source }, pair)).toBe(on);
  });
});

/** A Bridge that records setIntent calls (the platform's only write into the core). */
function recordingBridge(options: { throwOnSet?: boolean } = {}): Bridge & { intents: { user: string; input: string; intent: Intent }[] } {
  const intents: { user: string; input: string; intent: Intent }[] = [];
  return {
    intents,
    events: new TypedEvents(silentLogger),
    setIntent(user, input, intent) {
      if (options.throwOnSet) throw new Error('core exploded');
      intents.push({ user, input, intent });
    },
    prefer: () => Promise.resolve(),
    states: () => [],
    state: () => undefined,
    activeIntents: () => [],
    signal: () => undefined,
    inputDisconnected: () => undefined,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return {
    ...silentLogger,
    errors,
    error: (m: string) => {
      errors.push(m);
    },
  };
}

function setup(bridge: Bridge | null, logger: Logger = silentLogger) {
  const api = new HomebridgeAPI();
  const { Service, Characteristic } = api.hap;
  const accessory = new api.platformAccessory('Alex', api.hap.uuid.generate('presence-bridge:alex'));
  const clock = new ManualClock();
  const user = new UserAccessory({
    api,
    accessory,
    user: { key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', name: 'Alex' },
    switches: [BUSY, DND],
    sensor: true,
    logger,
    clock,
    bridge: () => bridge,
  });
  const on = (pair: PresencePair) => accessory.getServiceById(Service.Switch, `${pair.availability}/${pair.activity}`)!.getCharacteristic(Characteristic.On);
  const sensor = accessory.getServiceById(Service.OccupancySensor, 'busy')!;
  return { api, accessory, user, on, sensor, clock, Characteristic };
}

const state = (overrides: Partial<UserState>): UserState => userState('alex', { userId: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', displayName: 'Alex', ...overrides });

describe('UserAccessory on real HAP services', () => {
  it('switches act as the homekit input: on sets, a second on replaces, off of a switch that does not hold it changes nothing', async () => {
    const bridge = recordingBridge();
    const { on, clock } = setup(bridge);
    await on(BUSY).handleSetRequest(true);
    await on(DND).handleSetRequest(true);
    expect(on(BUSY).value).toBe(false);
    expect(on(DND).value).toBe(true);
    await on(BUSY).handleSetRequest(false);
    await on(DND).handleSetRequest(false);
    expect(bridge.intents).toEqual([
      { user: 'alex', input: 'homekit', intent: { kind: 'set', pair: BUSY, at: clock.now() } },
      { user: 'alex', input: 'homekit', intent: { kind: 'set', pair: DND, at: clock.now() } },
      { user: 'alex', input: 'homekit', intent: { kind: 'clear', at: clock.now() } },
    ]);
  });

  it('reflects state events: switches follow the arbiter, the sensor the read-back, the fault the health', () => {
    const { user, on, sensor, Characteristic } = setup(recordingBridge());
    user.update(state({ desired: BUSY, source: 'homekit', confirmed: BUSY, actual: presence('Busy/InACall') }));
    expect(on(BUSY).value).toBe(true);
    expect(sensor.getCharacteristic(Characteristic.OccupancyDetected).value).toBe(1);
    // A higher-ranked input wins: the HomeKit switch shows off, the sensor still busy.
    user.update(state({ desired: DND, source: 'Desk button', confirmed: DND, actual: presence('DoNotDisturb/Presenting') }));
    expect(on(BUSY).value).toBe(false);
    expect(on(DND).value).toBe(false);
    expect(sensor.getCharacteristic(Characteristic.OccupancyDetected).value).toBe(1);
    user.update(state({ health: 'unhealthy', actual: presence('Available/Available') }));
    expect(sensor.getCharacteristic(Characteristic.StatusFault).value).toBe(1);
    expect(sensor.getCharacteristic(Characteristic.OccupancyDetected).value).toBe(0);
    user.update(state({ health: 'retrying' }));
    expect(sensor.getCharacteristic(Characteristic.StatusFault).value).toBe(0);
    // A refused read-back faults the sensor on its own, and clears with it.
    user.setReadBackRefused(true);
    expect(sensor.getCharacteristic(Characteristic.StatusFault).value).toBe(1);
    user.update(state({ health: 'ok' }));
    expect(sensor.getCharacteristic(Characteristic.StatusFault).value).toBe(1);
    user.setReadBackRefused(false);
    expect(sensor.getCharacteristic(Characteristic.StatusFault).value).toBe(0);
  });

  it('a failing core or no running bridge: the error is logged and HomeKit gets a HAP error, nothing escapes', async () => {
    for (const bridge of [recordingBridge({ throwOnSet: true }), null]) {
      const logger = recordingLogger();
      const { on } = setup(bridge, logger);
      await expect(on(BUSY).handleSetRequest(true)).rejects.toBe(-70402);
      expect(logger.errors).toHaveLength(1);
      expect(logger.errors[0]).toMatch(/HomeKit switch Busy\/InACall for alex failed/);
    }
  });

  it('removes services a changed config no longer asks for, keeps the rest', () => {
    const { api, accessory } = setup(recordingBridge());
    new UserAccessory({
      api,
      accessory,
      user: { key: 'alex', id: 'x', name: 'Alex' },
      switches: [DND],
      sensor: false,
      logger: silentLogger,
      clock: new ManualClock(),
      bridge: () => null,
    });
    const { Service } = api.hap;
    expect(accessory.services.filter((s: HapService) => s.UUID === Service.Switch.UUID).map((s: HapService) => s.subtype)).toEqual(['DoNotDisturb/Presenting']);
    expect(accessory.getService(Service.OccupancySensor)).toBeUndefined();
  });
});
