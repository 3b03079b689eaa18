import type { PresenceBridgeConfig } from '../config/schema.js';
import type { ConfigReport } from '../feature.js';

/**
 * The serial feature's cross-checks (on the raw block, run even when zod found other errors) and
 * its normalisation: everything on one port agrees on how to speak to it; template keys are
 * availabilities, written as Graph writes them.
 */

/** Availabilities a serial output template may be keyed by (Graph's read-back values). */
export const TEMPLATE_KEYS = [
  'Available',
  'AvailableIdle',
  'Away',
  'BeRightBack',
  'Busy',
  'BusyIdle',
  'DoNotDisturb',
  'Offline',
  'PresenceUnknown',
  'default',
] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface SerialEntry {
  readonly area: 'inputs' | 'outputs';
  readonly index: number;
  readonly entry: Record<string, unknown>;
}

function serialEntries(raw: Readonly<Record<string, unknown>>): SerialEntry[] {
  const entries: SerialEntry[] = [];
  for (const area of ['inputs', 'outputs'] as const) {
    const items = Array.isArray(raw[area]) ? (raw[area] as unknown[]) : [];
    items.forEach((entry, index) => {
      if (isRecord(entry) && entry['type'] === 'serial') entries.push({ area, index, entry });
    });
  }
  return entries;
}

/** One port is opened once, so everything on it must agree on how to speak to it. */
function checkSharedPorts(entries: readonly SerialEntry[], report: ConfigReport): void {
  const ports = new Map<string, { index: number; area: string; baudRate: number; delimiter: unknown; encoding: unknown }>();
  for (const { area, index, entry } of entries) {
    const path = entry['path'];
    if (typeof path !== 'string' || path === '') continue;
    const baudRate = typeof entry['baudRate'] === 'number' ? entry['baudRate'] : 9600;
    const first = ports.get(path);
    if (!first) {
      ports.set(path, { index, area, baudRate, delimiter: entry['delimiter'] ?? '\n', encoding: entry['encoding'] ?? 'utf8' });
      continue;
    }
    if (first.baudRate !== baudRate) {
      report.error(`${area}[${index}].baudRate`, `${baudRate} differs from ${first.area}[${first.index}] (${first.baudRate}) on the same port ${path}; one port has one speed`);
    }
    if (area === 'inputs' && first.area === 'inputs') {
      if ((entry['delimiter'] ?? '\n') !== first.delimiter) report.error(`${area}[${index}].delimiter`, `differs from inputs[${first.index}] on the same port ${path}; lines are cut once per port`);
      if ((entry['encoding'] ?? 'utf8') !== first.encoding) report.error(`${area}[${index}].encoding`, `differs from inputs[${first.index}] on the same port ${path}`);
    }
  }
}

function templatePath(index: number, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? `outputs[${index}].templates.${key}` : `outputs[${index}].templates[${JSON.stringify(key)}]`;
}

export function checkSerialRaw(raw: Readonly<Record<string, unknown>>, report: ConfigReport): void {
  const entries = serialEntries(raw);
  checkSharedPorts(entries, report);
  for (const { area, index, entry } of entries) {
    const templates = entry['templates'];
    if (area !== 'outputs' || !isRecord(templates)) continue;
    for (const key of Object.keys(templates)) {
      if (!TEMPLATE_KEYS.some((k) => k.toLowerCase() === key.toLowerCase())) report.error(templatePath(index, key), `is not an availability; use ${TEMPLATE_KEYS.join(', ')}`);
    }
  }
}

/** Template keys as Graph writes the availabilities (`busy` → `Busy`). */
export function normaliseSerial(config: PresenceBridgeConfig): PresenceBridgeConfig {
  const outputs = config.outputs.map((output) => {
    if (output.type !== 'serial') return output;
    const templates: Record<string, string> = {};
    for (const [key, line] of Object.entries(output.templates)) {
      templates[TEMPLATE_KEYS.find((k) => k.toLowerCase() === key.toLowerCase()) ?? key] = line;
    }
    return { ...output, templates };
  });
  return { ...config, outputs };
}
