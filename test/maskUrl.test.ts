import { describe, expect, it } from 'vitest';
import { describeConfig, formatSummary, withoutCredentials } from '../src/config/describe.js';
import { validateConfig } from '../src/configuration.js';
import { maskUrl } from '../src/maskUrl.js';
import { MqttConnection, safeUrl } from '../src/mqtt/mqttConnection.js';
import { capturingLogger } from './helpers/logger.js';
import { freePort } from './helpers/net.js';

/*
 * Broker URLs reach log lines and the printed config summary. Over ws(s) a broker is often given
 * a token in the query string (`?token=…`, presigned `X-Amz-Signature=…`): masked like a password.
 */

const SECRET = 's3cr3t-T0KEN';

function config(mqttUrl: string) {
  const checked = validateConfig({
    platform: 'PresenceBridge',
    auth: { mode: 'application', tenantId: '11111111-1111-1111-1111-111111111111', clientId: '22222222-2222-2222-2222-222222222222', clientSecret: 'x' },
    users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }],
    mqtt: { url: mqttUrl, baseTopic: 'pb-mask' },
    inputs: [],
  });
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  return checked.config;
}

describe('maskUrl', () => {
  it.each([
    [`wss://broker.example/mqtt?token=${SECRET}`, 'wss://broker.example/mqtt?token=***'],
    [`ws://u:${SECRET}@127.0.0.1:9001/mqtt?access_token=${SECRET}&clientId=x`, 'ws://u:***@127.0.0.1:9001/mqtt?access_token=***&clientId=***'],
    [`wss://a.iot.example/mqtt?X-Amz-Signature=${SECRET}&X-Amz-Security-Token=${SECRET}`, 'wss://a.iot.example/mqtt?X-Amz-Signature=***&X-Amz-Security-Token=***'],
    [`ws://broker/mqtt#${SECRET}`, 'ws://broker/mqtt#***'],
    ['mqtt://broker.example:1883', 'mqtt://broker.example:1883'],
    [`not a url ${SECRET}`, '(not a URL)'],
  ])('maskUrl(%s) = %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
    expect(safeUrl(url)).toBe(masked);
  });

  it('drops user info and masks query values for the printed config summary', () => {
    expect(withoutCredentials(`wss://user:${SECRET}@broker.example/mqtt?token=${SECRET}`)).toBe('wss://broker.example/mqtt?token=***');
    const summary = describeConfig(config(`wss://broker.example/mqtt?token=${SECRET}`));
    expect(JSON.stringify(summary)).not.toContain(SECRET);
    expect(formatSummary(summary)).not.toContain(SECRET);
  });

  it('the bridge logs a ws broker URL with its token masked', async () => {
    const logger = capturingLogger();
    const port = await freePort();
    const connection = new MqttConnection({
      config: config(`ws://127.0.0.1:${port}/mqtt?token=${SECRET}`).mqtt!,
      logger,
      reconnectMinMs: 60_000,
      connectTimeoutMs: 1000,
      stopTimeoutMs: 100,
    });
    await connection.start();
    await connection.stop();
    expect(logger.lines.some((l) => l.message.includes(`ws://127.0.0.1:${port}/mqtt?token=***`))).toBe(true);
    expect(logger.lines.filter((l) => l.message.includes(SECRET))).toEqual([]);
  });
});
