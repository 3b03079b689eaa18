import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/configuration.js';
import { validateConfig } from '../../src/configuration.js';
import { discoveryMessages } from '../../src/mqtt/homeAssistant.js';

/* Every example people copy must be a config the bridge accepts, and the prose around them must match the code. */

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else out.push(path);
  }
  return out.sort();
}

const jsonFiles = (await files(EXAMPLES)).filter((f) => f.endsWith('.json'));

describe('examples', () => {
  it('has the examples the docs point to', () => {
    const names = jsonFiles.map((f) => relative(EXAMPLES, f));
    for (const expected of ['zigbee2mqtt-button/config.json', 'esphome-switch/config.json', 'tasmota-switch/config.json', 'home-assistant/config.json', 'homebridge/config.json']) {
      expect(names).toContain(expected);
    }
  });

  it.each(jsonFiles.map((f) => [relative(EXAMPLES, f), f]))('%s is a valid config (loadConfigFile, as run and check-config read it)', async (_name, file) => {
    const loaded = await loadConfigFile(file);
    expect(loaded.ok ? [] : loaded.errors).toEqual([]);
  });

  it('the Homebridge example is a whole config.json whose platform block validates on its own too', async () => {
    const whole = JSON.parse(await readFile(join(EXAMPLES, 'homebridge/config.json'), 'utf8')) as { platforms: { platform: string }[] };
    const block = whole.platforms.find((p) => p.platform === 'PresenceBridge');
    const checked = validateConfig(block);
    expect(checked.ok ? [] : checked.errors).toEqual([]);
  });

  it('the Home Assistant automations use entity ids that discovery really creates', async () => {
    const loaded = await loadConfigFile(join(EXAMPLES, 'home-assistant/config.json'));
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const mqtt = loaded.config.mqtt!;
    // Home Assistant names an MQTT entity "<device name> <entity name>" and slugifies it for the id.
    const slug = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
    const created = new Set(
      discoveryMessages(mqtt, loaded.config.users, '0.0.0').map((m) => {
        const component = m.topic.split('/')[1]!;
        const payload = JSON.parse(m.payload) as { name: string; device: { name: string } };
        return `${component}.${slug(`${payload.device.name} ${payload.name}`)}`;
      }),
    );
    const yaml = await readFile(join(EXAMPLES, 'home-assistant/automations.yaml'), 'utf8');
    const used = new Set([...yaml.matchAll(/\b(select|sensor|binary_sensor)\.[a-z0-9_]*teams_presence[a-z0-9_]*/g)].map((m) => m[0]));
    expect(used.size).toBeGreaterThanOrEqual(3);
    for (const id of used) expect([...created]).toContain(id);
    // The select's options are what the automations choose.
    for (const option of yaml.matchAll(/option: "([^"]+)"/g)) {
      const select = discoveryMessages(mqtt, loaded.config.users, '0.0.0').find((m) => m.topic.includes('/select/'))!;
      expect((JSON.parse(select.payload) as { options: string[] }).options).toContain(option[1]);
    }
  });

  it('the systemd unit runs the daemon with the documented paths', async () => {
    const unit = await readFile(join(EXAMPLES, 'systemd/presence-bridge.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env presence-bridge run --config \/etc\/presence-bridge\/config\.json --storage \/var\/lib\/presence-bridge$/m);
    expect(unit).toMatch(/^ExecStartPre=\/usr\/bin\/env presence-bridge check-config --config \/etc\/presence-bridge\/config\.json$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    for (const section of ['[Unit]', '[Service]', '[Install]']) expect(unit).toContain(section);
  });
});
