import type { ConfigReport } from '../feature.js';

/**
 * The MQTT feature's cross-checks, on the raw config block (run even when zod found other
 * errors). Messages never repeat the broker URL: it may carry a password.
 */

const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** MQTT subscription filter rules (MQTT 5 §4.7), worded for the config: + and # fill a whole level, # only last. */
export function topicFilterProblem(topic: string): string | undefined {
  if (topic.includes('\u0000')) return 'must not contain a NUL character';
  const levels = topic.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'may use # only as the whole last level, e.g. sensors/#';
    if (level.includes('+') && level !== '+') return 'may use + only as a whole level, e.g. sensors/+/state';
  }
  return undefined;
}

function checkUrl(mqtt: unknown, report: ConfigReport): void {
  if (!isRecord(mqtt) || typeof mqtt['url'] !== 'string' || mqtt['url'] === '') return;
  let url: URL;
  try {
    url = new URL(mqtt['url']);
  } catch {
    report.error('mqtt.url', 'is not a URL; write it like mqtt://192.168.1.10:1883');
    return;
  }
  if (!MQTT_SCHEMES.includes(url.protocol)) report.error('mqtt.url', `must start with mqtt://, mqtts://, ws:// or wss://, not ${url.protocol}//`);
}

export function checkMqttRaw(raw: Readonly<Record<string, unknown>>, report: ConfigReport): void {
  checkUrl(raw['mqtt'], report);
  const inputs = Array.isArray(raw['inputs']) ? (raw['inputs'] as unknown[]) : [];
  let usesMqtt = false;
  inputs.forEach((input, i) => {
    if (!isRecord(input) || input['type'] !== 'mqtt') return;
    usesMqtt = true;
    const topic = input['topic'];
    if (typeof topic !== 'string' || topic === '') return;
    const problem = topicFilterProblem(topic);
    if (problem) report.error(`inputs[${i}].topic`, problem);
  });
  if (usesMqtt && raw['mqtt'] === undefined) {
    report.error('mqtt', 'is required because an input has type "mqtt": give at least {"url": "mqtt://host:1883"}');
  }
}
