import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigReport } from '../../src/feature.js';
import { validateConfig } from '../../src/configuration.js';
import { httpOutputFeature } from '../../src/httpOutput/index.js';
import { workingHoursFeature } from '../../src/workingHours/index.js';

// What docs/working-hours.md and docs/outputs.md show must be what the bridge accepts.
const DOCS = join(import.meta.dirname, '..', '..', 'docs');
const BASE = {
  auth: { mode: 'application', tenantId: '00000000-0000-0000-0000-000000000000', clientId: '11111111-1111-1111-1111-111111111111', clientSecret: 'x' },
  users: [{ key: 'alex', id: 'alex@contoso.com' }],
  workingHours: { timeZone: 'Europe/Berlin', windows: [{ from: '09:00', to: '17:00' }] },
};

function blocks(file: string): Record<string, unknown>[] {
  const text = readFileSync(join(DOCS, file), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => {
    const body = m[1]!.trim();
    return JSON.parse(body.startsWith('"') ? `{${body}}` : body) as Record<string, unknown>;
  });
}

function asConfig(block: Record<string, unknown>): Record<string, unknown> {
  if (block.type === 'http') return { ...BASE, outputs: [block] };
  if (block.type === 'mqtt') return { ...BASE, mqtt: { url: 'mqtt://127.0.0.1' }, inputs: [block] };
  return { ...BASE, ...block };
}

describe('docs pages for issue 18', () => {
  it.each([['working-hours.md'], ['outputs.md']])('every JSON block in docs/%s is accepted, cross-checks included', (file) => {
    const found = blocks(file);
    expect(found.length).toBeGreaterThan(0);
    for (const block of found) {
      const result = validateConfig(asConfig(block));
      expect(result.ok ? [] : result.errors).toEqual([]);
      if (!result.ok) continue;
      const problems: string[] = [];
      const report: ConfigReport = { error: (path, message) => problems.push(`${path}: ${message}`), warning: () => {} };
      workingHoursFeature.check?.(result.config, report);
      httpOutputFeature.check?.(result.config, report);
      expect(problems).toEqual([]);
    }
  });
});
