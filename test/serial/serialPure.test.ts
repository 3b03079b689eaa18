import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/configuration.js';
import type { UserState } from '../../src/bridgeTypes.js';
import { ShownAvailability, templateFor } from '../../src/serial/busyLightOutput.js';
import { RECONNECT_MAX_MS, serialReconnectDelay } from '../../src/serial/serialPortLink.js';
import { configSchema } from '../../src/configuration.js';
import { serialPortUses } from '../../src/serial/index.js';
import { capturingLogger } from '../helpers/logger.js';
import { userState } from '../helpers/userState.js';

const BUSY = { availability: 'Busy', activity: 'InACall' } as const;
const DND = { availability: 'DoNotDisturb', activity: 'Presenting' } as const;

describe('ShownAvailability', () => {
  const AWAY = { availability: 'Away', activity: 'Away' } as const;
  const seen = (availability: string, activity = availability) => ({ availability, activity });
  // Each step is a state of one user, in order; a read-back object is reused while no poll happened.
  const busyRead = seen('Busy', 'InACall');
  const dndRead = seen('DoNotDisturb');
  const availableRead = seen('Available');
  const table: { name: string; steps: [Partial<UserState> | undefined, string][] }[] = [
    { name: 'nothing known', steps: [[undefined, 'PresenceUnknown'], [{}, 'PresenceUnknown']] },
    {
      name: 'no read-back: confirmed, else desired',
      steps: [
        [{ desired: BUSY }, 'Busy'],
        [{ desired: BUSY, confirmed: BUSY }, 'Busy'],
        [{ desired: DND, confirmed: BUSY }, 'Busy'],
        [{ desired: DND, confirmed: DND }, 'DoNotDisturb'],
        [{ desired: null, confirmed: DND }, 'DoNotDisturb'],
        [{ desired: null, confirmed: null }, 'PresenceUnknown'],
      ],
    },
    {
      name: 'read-back at start counts',
      steps: [[{ actual: availableRead }, 'Available']],
    },
    {
      name: 'a stale read-back does not hide a new assertion; the next poll wins',
      steps: [
        [{ actual: availableRead }, 'Available'],
        [{ desired: BUSY, actual: availableRead }, 'Busy'],
        [{ desired: BUSY, confirmed: BUSY, actual: availableRead }, 'Busy'],
        [{ confirmed: BUSY, actual: busyRead }, 'Busy'],
        // A user-preferred override, seen by the next poll.
        [{ confirmed: BUSY, actual: dndRead }, 'DoNotDisturb'],
        [{ confirmed: BUSY, actual: seen('Away') }, 'Away'],
      ],
    },
    {
      name: 'after a clear the old read-back is stale: unknown until the next poll',
      steps: [
        [{ confirmed: BUSY, actual: busyRead }, 'Busy'],
        [{ confirmed: null, actual: busyRead }, 'PresenceUnknown'],
        [{ confirmed: null, actual: seen('Available') }, 'Available'],
        [{ desired: AWAY, actual: seen('Available') }, 'Away'],
      ],
    },
  ];
  it.each(table)('$name', ({ steps }) => {
    const shown = new ShownAvailability();
    expect(steps.map(([fields]) => shown.next(fields === undefined ? undefined : userState('a', fields)))).toEqual(steps.map(([, want]) => want));
  });
});

describe('templateFor', () => {
  const full = { Busy: 'RED\n', available: 'GREEN\n', Offline: 'OFF\n', default: 'WHITE\n' };
  const noDefault = { Busy: 'RED\n', Offline: 'OFF\n' };
  it.each([
    { templates: full, availability: 'Busy', line: 'RED\n' },
    { templates: full, availability: 'BUSY', line: 'RED\n' },
    { templates: full, availability: 'Available', line: 'GREEN\n' },
    { templates: full, availability: 'AvailableIdle', line: 'GREEN\n' },
    { templates: full, availability: 'BusyIdle', line: 'RED\n' },
    { templates: full, availability: 'BeRightBack', line: 'WHITE\n' },
    { templates: full, availability: 'PresenceUnknown', line: 'WHITE\n' },
    { templates: noDefault, availability: 'PresenceUnknown', line: 'OFF\n' },
    { templates: noDefault, availability: 'Away', line: undefined },
    { templates: { ...noDefault, PresenceUnknown: '?\n' }, availability: 'PresenceUnknown', line: '?\n' },
  ])('$availability in $templates -> $line', ({ templates, availability, line }) => {
    expect(templateFor(templates, availability)).toBe(line);
  });
});

describe('serialReconnectDelay', () => {
  it('grows from half a second to the cap, with jitter in the upper half of each step', () => {
    const table: [number, number, number][] = [
      [1, 250, 500],
      [2, 500, 1000],
      [3, 1000, 2000],
      [6, 5000, 10_000],
      [50, 5000, 10_000],
    ];
    for (const [attempt, low, high] of table) {
      expect(serialReconnectDelay(attempt, () => 0)).toBe(low);
      expect(serialReconnectDelay(attempt, () => 1)).toBe(high);
    }
    expect(serialReconnectDelay(1000, () => 0.999)).toBeLessThanOrEqual(RECONNECT_MAX_MS);
  });
});

describe('examples/serial/config.json', () => {
  it('is a valid config', async () => {
    const raw: unknown = JSON.parse(await readFile(new URL('../../examples/serial/config.json', import.meta.url), 'utf8'));
    const result = validateConfig(raw);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});

describe('serialPortUses', () => {
  it('groups inputs and outputs by path and warns when a later entry asks for another baud rate', () => {
    const logger = capturingLogger();
    const config = configSchema.parse({
      auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
      users: [{ key: 'alex', id: 'a' }],
      inputs: [
        { type: 'serial', name: 'Hook', path: '/dev/x', map: { OFFHOOK: 'Busy/InACall' } },
        { type: 'serial', name: 'Pedal', path: '/dev/y', baudRate: 115200, map: { DOWN: 'Busy/InACall' } },
        { type: 'serial', name: 'Hook JSON', path: '/dev/x', baudRate: 19200, field: 'hook', map: { off: 'Busy/InACall' } },
      ],
      outputs: [{ type: 'serial', name: 'Light', path: '/dev/x', templates: { default: 'OFF\n' } }],
    });
    const uses = serialPortUses(config, logger);
    expect(uses.map((u) => ({ path: u.path, baudRate: u.baudRate, inputs: u.inputs.map((i) => i.name), outputs: u.outputs.map((o) => o.name) }))).toEqual([
      { path: '/dev/x', baudRate: 9600, inputs: ['Hook', 'Hook JSON'], outputs: ['Light'] },
      { path: '/dev/y', baudRate: 115200, inputs: ['Pedal'], outputs: [] },
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      '"Hook JSON" asks for 19200 baud on /dev/x, which is already opened at 9600; using 9600',
    ]);
  });
});
