/**
 * Paths into the config block (`inputs[1].map.OFFHOOK`) and the small readers the checks use on
 * the raw block, which may hold anything.
 */

export type Path = readonly PropertyKey[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `inputs[1].map.OFFHOOK`; keys that are not plain words are quoted: `map["state.hook"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(config)' : out;
}

const SEGMENT = /^(?:\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/** The inverse of {@link formatPath}, for checks that report a path as text (a feature's `check`). */
export function parsePath(text: string): Path {
  if (text === '(config)') return [];
  const path: PropertyKey[] = [];
  let rest = text;
  while (rest !== '') {
    const match = SEGMENT.exec(rest);
    if (!match) return [...path, rest]; // not a path we wrote: keep the rest as one key
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else if (match[3] !== undefined) path.push(JSON.parse(match[3]) as string);
    rest = rest.slice(match[0].length);
  }
  return path;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'text';
  return `a ${typeof value}`;
}

export function valueAt(raw: unknown, path: Path): unknown {
  let value = raw;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** Collects `path: message` problems; a feature's checks see it as a {@link ConfigReport}-shaped object. */
export class ProblemList {
  readonly errors: { path: Path; message: string }[] = [];
  readonly warnings: { path: Path; message: string }[] = [];
  add(path: Path, message: string): void {
    this.errors.push({ path, message });
  }
  /** The text-path view features report through. */
  asReport(): { error(path: string, message: string): void; warning(path: string, message: string): void } {
    return {
      error: (path, message) => this.errors.push({ path: parsePath(path), message }),
      warning: (path, message) => this.warnings.push({ path: parsePath(path), message }),
    };
  }
}
