import { describe, expect, it } from 'vitest';
import { sourceTree } from './sourceTree.js';

/**
 * No import cycle in src/, type-only imports included: a type cycle is still two modules that
 * cannot be understood (or moved) one without the other. Strongly connected components of the
 * file graph (Tarjan); each one larger than a file is a cycle, reported as the files in it.
 */
export function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const connect = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return cycles;
}

describe('import cycles', () => {
  it('the cycle finder finds a three-file cycle and a self-import, and nothing in a chain', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', ['e']],
      ['e', []],
      ['s', ['s']],
    ]);
    expect(cyclesOf(graph)).toEqual([['a', 'b', 'c'], ['s']]);
    expect(cyclesOf(new Map([['x', ['y']], ['y', []]]))).toEqual([]);
  });

  it('no file in src/ imports itself back, through any chain of imports (type-only imports count)', () => {
    const files = sourceTree();
    const known = new Set(files.map((f) => f.path));
    const graph = new Map(files.map((f) => [f.path, f.imports.flatMap((i) => (i.target !== undefined && known.has(i.target) ? [i.target] : []))]));
    expect(files.length).toBeGreaterThan(100);
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('no two top folders of src/ import each other (a folder cycle is a file cycle waiting to happen)', () => {
    // A file directly in src/ (bridge.ts, logger.ts…) is a unit of its own; a top folder of src/
    // (src/cli with src/cli/commands) is one unit.
    const folderOf = (path: string): string => path.split('/').slice(0, 2).join('/');
    const edges = new Map<string, Set<string>>();
    for (const file of sourceTree()) {
      for (const edge of file.imports) {
        if (edge.target === undefined || folderOf(edge.target) === folderOf(file.path)) continue;
        const from = folderOf(file.path);
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(folderOf(edge.target));
      }
    }
    const graph = new Map([...edges].map(([k, v]) => [k, [...v]]));
    for (const targets of edges.values()) for (const t of targets) if (!graph.has(t)) graph.set(t, []);
    expect(cyclesOf(graph)).toEqual([]);
  });
});
