/**
 * The oldest Node.js the bridge runs on (package.json `engines.node`; undici 8 needs it). Checked
 * by the tiny entry points before anything else loads, so an older Node gets one sentence
 * instead of a TypeError from deep inside a dependency. This file imports nothing.
 */
export const MIN_NODE = { major: 22, minor: 19 } as const;

/** The sentence to show when `version` (e.g. "20.20.2") is too old, else undefined. */
export function nodeVersionProblem(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) return undefined;
  return `Presence Bridge needs Node.js ${MIN_NODE.major}.${MIN_NODE.minor} or newer, but this is Node.js ${version}; please update Node.js.`;
}
