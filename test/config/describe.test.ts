import { describe, expect, it } from 'vitest';
import { describeConfig, describeMapEntry, formatSummary, humanDuration, withoutCredentials } from '../../src/config/describe.js';
import { validateConfig } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';

function valid(raw: Record<string, unknown>): PresenceBridgeConfig {
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

const users = [{ key: 'alex', id: 'alex@contoso.example' }];

describe('describe', () => {
  it.each([
    ['PT30M', '30 min'],
    ['PT1H30M', '1 h 30 min'],
    ['PT45S', '45 s'],
    ['PT4H', '4 h'],
    ['P1DT2H', '1 d 2 h'],
    ['PT0S', '0 s'],
    ['nonsense', 'nonsense'],
  ])('humanDuration(%s) = %s', (iso, text) => {
    expect(humanDuration(iso)).toBe(text);
  });

  it.each([
    ['Busy/InACall', undefined, 'Busy/InACall'],
    ['clear', undefined, 'clear'],
    ['toggle', ['Busy/InACall', 'DoNotDisturb/Presenting'], 'toggle (Busy/InACall -> DoNotDisturb/Presenting -> clear)'],
    [{ set: 'DoNotDisturb/Presenting', for: 'PT30M' }, undefined, 'DoNotDisturb/Presenting for 30 min'],
  ] as const)('describeMapEntry(%j) = %s', (entry, toggle, text) => {
    expect(describeMapEntry(entry, toggle)).toBe(text);
  });

  it.each([
    ['mqtt://u:p4ss@broker:1883', 'mqtt://broker:1883'],
    ['mqtts://broker.example:8883', 'mqtts://broker.example:8883'],
    ['not a url', '(not a URL)'],
  ])('withoutCredentials(%s) = %s', (url, text) => {
    expect(withoutCredentials(url)).toBe(text);
  });

  it.each([
    [{ mode: 'delegated', tenantId: 't', clientId: 'c' }, 'device code sign-in (Presence.ReadWrite)'],
    [{ tenantId: 't', clientId: 'c', certificate: { privateKeyFile: 'k.pem', thumbprint: 'AB12' } }, 'certificate (thumbprint AB12)'],
    [{ tenantId: 't', clientId: 'c', clientSecret: 'very-secret-1' }, 'client secret (set)'],
  ])('names the credential of %j without its value', (auth, credential) => {
    const summary = describeConfig(valid({ auth, users }));
    expect(summary.auth.credential).toBe(credential);
    expect(JSON.stringify(summary)).not.toContain('very-secret-1');
    expect(formatSummary(summary).join('\n')).not.toContain('very-secret-1');
  });

  it('shows national cloud hosts and overrides', () => {
    const auth = { tenantId: 'tenant-1', clientId: 'c', clientSecret: 's' };
    let summary = describeConfig(valid({ cloud: 'usgov', auth, users }));
    expect([summary.graphBaseUrl, summary.authority]).toEqual(['https://graph.microsoft.us/v1.0', 'https://login.microsoftonline.us/tenant-1']);
    summary = describeConfig(valid({ auth: { ...auth, authorityHost: 'https://127.0.0.1:8443' }, graph: { baseUrl: 'https://127.0.0.1:8443' }, users }));
    expect([summary.graphBaseUrl, summary.authority]).toEqual(['https://127.0.0.1:8443/v1.0', 'https://127.0.0.1:8443/tenant-1']);
  });

  it('keeps the MQTT password out and says there are no inputs', () => {
    const summary = describeConfig(valid({ auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users, mqtt: { url: 'mqtt://bridge:pw-in-url@broker', password: 'pw-option' } }));
    const text = formatSummary(summary).join('\n');
    expect(summary.mqtt).toEqual({ url: 'mqtt://broker', password: true, baseTopic: 'presence-bridge', homeAssistant: true, commandTopics: 'set' });
    expect(text).not.toMatch(/pw-in-url|pw-option/);
    expect(text).toContain('Inputs (0)\n  none (presence is set through MQTT commands, HomeKit or the CLI)');
  });
});
