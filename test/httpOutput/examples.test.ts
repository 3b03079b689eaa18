import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/configuration.js';
import { HttpLightOutput, httpOutputFeature, httpOutputSchema, type ResolvedHttpOutput } from '../../src/httpOutput/index.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { Harness } from '../helpers/harness.js';
import { capturingLogger } from '../helpers/logger.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { DeviceServer, type SeenRequest } from './deviceServer.js';

const LIGHTS = resolve(import.meta.dirname, '../../examples/lights');

/**
 * Each example in examples/lights is loaded as `presence-bridge run` loads it, then its output is
 * pointed at a local server standing in for the device and driven by a real bridge on the
 * emulator: busy, then free. The device sees what its API expects.
 */
async function drive(file: string, cleanups: (() => Promise<unknown>)[]): Promise<{ seen: SeenRequest[]; logs: string }> {
  const loaded = await loadConfigFile(join(LIGHTS, file));
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const selected = httpOutputFeature.select(loaded.config);
  expect(selected).toHaveLength(1);
  const example = selected![0]!;
  const device = await DeviceServer.start();
  cleanups.push(() => device.close());
  const harness = await Harness.create();
  cleanups.push(() => harness.close());
  const http = new UndiciHttpClient();
  cleanups.push(() => http.close());
  const logger = capturingLogger();
  const url = new URL(example.url.replace('{{body}}', 'BODY'));
  const output: ResolvedHttpOutput = { ...httpOutputSchema.parse({ ...example, url: `${device.origin}${url.pathname}${url.search.replace('BODY', '{{body}}')}` }), user: 'u0', follow: 'asserted' };
  const light = new HttpLightOutput({ output, context: { bridge: harness.bridge, events: harness.bridge.events, clock: harness.clock, logger, http } });
  cleanups.push(() => light.stop());
  await light.start();
  for (const [value, count] of [['busy', 2], ['free', 3]] as const) {
    await device.received(count - 1);
    await light.whenIdle();
    await harness.signal('desk', value);
  }
  await device.received(3);
  await light.whenIdle();
  return { seen: device.seen, logs: logger.texts().join('\n') };
}

describe('examples/lights against a local stand-in for each device', () => {
  const cleanups = cleanupAfterEach();

  it('WLED: POST /json/state with a JSON body per availability', async () => {
    const { seen } = await drive('wled.json', cleanups);
    expect(seen.map((r) => `${r.method} ${r.url} ${r.headers['content-type']}`)).toEqual(Array(3).fill('POST /json/state application/json'));
    const states = seen.map((r) => JSON.parse(r.body) as { on: boolean; seg?: { col: number[][] }[] });
    expect(states[0]).toEqual({ on: false });
    expect(states[1]?.seg?.[0]?.col[0]).toEqual([255, 0, 0]);
    expect(states[2]?.seg?.[0]?.col[0]).toEqual([0, 255, 0]);
  });

  it('Shelly RGBW2: GET /color/0 with the colour in the query, no body', async () => {
    const { seen } = await drive('shelly-rgbw2.json', cleanups);
    expect(seen.map((r) => `${r.method} ${r.url} [${r.body}]`)).toEqual([
      'GET /color/0?turn=off []',
      'GET /color/0?turn=on&red=255&green=0&blue=0&white=0&gain=100 []',
      'GET /color/0?turn=on&red=0&green=255&blue=0&white=0&gain=100 []',
    ]);
  });

  it('ntfy: POST /<topic> with a text body and the token header, which no log line shows', async () => {
    const { seen, logs } = await drive('ntfy.json', cleanups);
    expect(seen.map((r) => `${r.method} ${r.url} ${r.headers['content-type']} ${r.body}`)).toEqual([
      'POST /alex-presence-7f3k2q text/plain; charset=utf-8 u0 has no presence set by the bridge',
      'POST /alex-presence-7f3k2q text/plain; charset=utf-8 u0 is now Busy',
      'POST /alex-presence-7f3k2q text/plain; charset=utf-8 u0 is now Available',
    ]);
    expect(seen[1]?.headers).toMatchObject({ authorization: 'Bearer tk_replace-with-your-ntfy-access-token', title: 'Teams presence' });
    expect(logs).not.toContain('tk_replace');
    expect(logs).not.toContain('alex-presence-7f3k2q');
  });
});

describe('http output config checks', () => {
  it('reports a body for something that is not an availability, a missing user and a bad URL, with their paths', () => {
    const config = {
      users: [{ key: 'alex', id: 'a' }, { key: 'sam', id: 's' }],
      inputs: [],
      outputs: [
        { type: 'http', name: 'a', user: 'alex', url: 'http://light/', body: { Bussy: 'x', busy: 'y' } },
        { type: 'http', name: 'b', url: 'http://light/' },
        { type: 'http', name: 'c', user: 'alex', url: 'ftp://light/' },
        { type: 'serial', name: 'd', path: '/dev/ttyUSB0', templates: {} },
      ],
    } as unknown as Parameters<typeof httpOutputFeature.select>[0];
    const errors: string[] = [];
    httpOutputFeature.check?.(config, { error: (path, message) => errors.push(`${path}: ${message}`), warning: () => {} });
    expect(errors).toEqual([
      expect.stringMatching(/^outputs\[0\]\.body\.Bussy: is not an availability; use Available, /),
      'outputs[1].user: name the user whose presence this output shows (more than one user is configured)',
      'outputs[2].url: use an http:// or https:// URL',
    ]);
    expect(httpOutputFeature.select(config)?.map((o) => o.name)).toEqual(['a']);
  });
});
