import { describe, expect, it } from 'vitest';
import { PACKET_OVERHEAD_BYTES, credentialWarning, isLoopbackHost, packetLimitFor } from '../../src/mqtt/mqttConnection.js';
import { printable } from '../../src/shared/printable.js';
import { discoveryMessages } from '../../src/mqtt/homeAssistant.js';
import { validateConfig } from '../../src/configuration.js';

describe('printable: network text in a log line', () => {
  it.each([
    ['plain/topic', 'plain/topic'],
    ['evil\nFAKE LOG LINE', 'evil\\u000aFAKE LOG LINE'],
    ['a\r\u001b[31mred', 'a\\u000d\\u001b[31mred'],
    ['nul\u0000del\u007fc1\u0085', 'nul\\u0000del\\u007fc1\\u0085'],
    ['sep\u2028bidi\u202eend', 'sep\\u2028bidi\\u202eend'],
    ['café/ü', 'café/ü'],
  ])('%j → %j', (text, expected) => {
    expect(printable(text)).toBe(expected);
  });

  it('cuts long text short', () => {
    expect(printable('x'.repeat(70_000))).toHaveLength(201);
  });
});

describe('credentials for a broker beyond this machine', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['[::1]', true],
    ['::1', true],
    ['127.0.0.1.attacker.example', false],
    ['127.0.0.256', false],
    ['localhost.example', false],
    ['192.168.1.10', false],
    ['broker.lan', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it('warns once about a remote broker without username, URL credentials or client certificate', () => {
    expect(credentialWarning({ url: 'mqtt://broker.lan:1883' })).toMatch(/^connecting to broker\.lan without credentials: .*mqtt\.username.*docs\/mqtt\.md/);
    expect(credentialWarning({ url: 'mqtts://192.168.1.10' })).toContain('192.168.1.10');
    expect(credentialWarning({ url: 'mqtt://127.0.0.1:1883' })).toBeUndefined();
    expect(credentialWarning({ url: 'mqtt://localhost' })).toBeUndefined();
    expect(credentialWarning({ url: 'mqtt://broker.lan', username: 'bridge' })).toBeUndefined();
    expect(credentialWarning({ url: 'mqtt://bridge:secret@broker.lan' })).toBeUndefined();
    expect(credentialWarning({ url: 'mqtts://broker.lan', cert: 'client.pem' })).toBeUndefined();
  });
});

describe('MQTT 5 maximum packet size', () => {
  it('is the payload limit plus room for header, topic and properties', () => {
    expect(packetLimitFor(64 * 1024)).toBe(64 * 1024 + PACKET_OVERHEAD_BYTES);
  });
});

describe('Home Assistant discovery and the command topics', () => {
  const mqttConfig = (commandTopics: boolean) => {
    const result = validateConfig({
      auth: { mode: 'application', tenantId: '00000000-0000-0000-0000-000000000001', clientId: '00000000-0000-0000-0000-000000000002', clientSecret: 'x' },
      users: [{ key: 'alex', id: '00000000-0000-0000-0000-000000000003' }],
      mqtt: { url: 'mqtt://127.0.0.1', commandTopics },
    });
    if (!result.ok || !result.config.mqtt) throw new Error(result.ok ? 'no mqtt block' : result.errors.join('; '));
    return result.config;
  };

  it('announces the "Set presence" select only while the set topic is on', () => {
    const on = mqttConfig(true);
    const off = mqttConfig(false);
    expect(discoveryMessages(on.mqtt!, on.users, '1.0.0').filter((m) => m.topic.includes('/select/'))).toHaveLength(1);
    expect(discoveryMessages(off.mqtt!, off.users, '1.0.0').map((m) => m.topic.split('/')[1])).toEqual(['sensor', 'binary_sensor']);
    expect(off.mqtt?.preferTopic).toBe(false);
  });
});
