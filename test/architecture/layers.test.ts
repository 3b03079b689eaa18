import { describe, expect, it } from 'vitest';
import { sourceTree } from './sourceTree.js';

/**
 * THE layer table of src/ (docs/architecture.md shows the same table). A file may import its own
 * layer and the layers below it, never one above. Entries are path prefixes; the longest match
 * wins. A new folder or root file must be placed here before it can land: an unplaced file fails.
 */
export const LAYERS: readonly { readonly name: string; readonly paths: readonly string[] }[] = [
  {
    name: 'base: shared blocks, pure presence logic, config schema and checks',
    paths: ['src/shared/', 'src/logger.ts', 'src/maskUrl.ts', 'src/nodeVersion.ts', 'src/presence/', 'src/files/', 'src/config/'],
  },
  {
    name: 'core: Graph client, sessions, the bridge and its seam types',
    paths: ['src/graph/', 'src/session/', 'src/core/', 'src/bridgeTypes.ts', 'src/events.ts', 'src/feature.ts'],
  },
  {
    name: 'features: inputs, outputs and services, each one folder',
    paths: ['src/mqtt/', 'src/serial/', 'src/statusPage/', 'src/httpServer/', 'src/httpApi/', 'src/workingHours/', 'src/httpOutput/', 'src/metrics/', 'src/homekit/', 'src/fleetConfig/'],
  },
  {
    name: 'hosts: the registry and what runs bridges (the CLI, the Homebridge plugin, the fleet runner, the demo), the emulator (a tool)',
    paths: ['src/features.ts', 'src/configuration.ts', 'src/bridge.ts', 'src/index.ts', 'src/cli/', 'src/homebridge/', 'src/fleet/', 'src/demo/', 'src/emulator/'],
  },
];

/**
 * Upward imports being removed right now by another engineer (issue 17). Each entry must still
 * occur (a stale entry fails), so the integrator empties this list as the work lands.
 */
const KNOWN_UPWARD: Readonly<Record<string, string>> = {};

/** Index into {@link LAYERS} of a file, by its longest matching prefix; undefined when unplaced. */
export function layerOf(path: string): number | undefined {
  let best: { layer: number; length: number } | undefined;
  LAYERS.forEach((layer, index) => {
    for (const prefix of layer.paths) {
      const matches = prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix;
      if (matches && (best === undefined || prefix.length > best.length)) best = { layer: index, length: prefix.length };
    }
  });
  return best?.layer;
}

describe('layers', () => {
  it('the table places files by their longest prefix', () => {
    expect(layerOf('src/shared/clock.ts')).toBe(0);
    expect(layerOf('src/graph/auth.ts')).toBe(1);
    expect(layerOf('src/mqtt/mqttConnection.ts')).toBe(2);
    expect(layerOf('src/cli/commands/run.ts')).toBe(3);
    expect(layerOf('src/bridge.tsx')).toBeUndefined();
    expect(layerOf('src/unplaced/x.ts')).toBeUndefined();
  });

  it('every file in src/ has a layer', () => {
    const unplaced = sourceTree()
      .map((f) => f.path)
      .filter((p) => layerOf(p) === undefined);
    expect(unplaced, 'add the folder or file to LAYERS in test/architecture/layers.test.ts').toEqual([]);
  });

  it('nothing imports upward past its layer (type-only imports count)', () => {
    const upward: string[] = [];
    const known = new Set<string>();
    for (const file of sourceTree()) {
      const from = layerOf(file.path);
      if (from === undefined) continue;
      for (const edge of file.imports) {
        if (edge.target === undefined) continue;
        const to = layerOf(edge.target);
        if (to === undefined || to <= from) continue;
        const key = `${file.path} -> ${edge.target}`;
        if (key in KNOWN_UPWARD) {
          known.add(key);
          continue;
        }
        upward.push(`${file.path}:${edge.line} (${LAYERS[from]!.name.split(':')[0]}) imports ${edge.target} (${LAYERS[to]!.name.split(':')[0]})`);
      }
    }
    expect(upward).toEqual([]);
    expect(Object.keys(KNOWN_UPWARD).filter((k) => !known.has(k)), 'stale KNOWN_UPWARD entries: remove them').toEqual([]);
  });
});
