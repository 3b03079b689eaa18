import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { PresenceBridgeConfig } from './schema.js';
import { locateJsonError } from './jsonPosition.js';
import { QUALIFIED_PLATFORM, type ValidationResult } from './validate.js';

/**
 * Reading a config file for the standalone daemon and check-config: either the platform block
 * itself or a whole Homebridge config.json, whose `PresenceBridge` block is picked.
 */

/**
 * `stage` says where loading stopped: the file could not be read, was not JSON, held no single
 * PresenceBridge block, or the block did not validate (only then are `errors` `path: message`).
 */
export type LoadResult =
  | { ok: true; config: PresenceBridgeConfig; file: string }
  | { ok: false; errors: string[]; stage?: 'read' | 'json' | 'platform' | 'validate' };

export interface LoadOptions {
  /** How messages name the file (e.g. as the user typed it); the path itself by default. */
  readonly displayName?: string;
}

export const PLATFORM = 'PresenceBridge';

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

export { locateJsonError };

/** JSON.parse, with a failure turned into `file:line:column: invalid JSON: reason`. */
export function parseJson(text: string, file: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { ok: false, error: `${file}: the file is empty; expected a JSON object` };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    const found = locateJsonError(body) ?? { offset: body.length, reason: 'not valid JSON' };
    const { line, column } = lineColumn(body, found.offset);
    return { ok: false, error: `${file}:${line}:${column}: invalid JSON: ${found.reason}` };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The PresenceBridge block of a parsed file (a block already, or a Homebridge config.json). */
export function pickPlatformBlock(value: unknown, file: string): { ok: true; block: unknown } | { ok: false; error: string } {
  if (!isRecord(value) || !('platforms' in value) || 'platform' in value) return { ok: true, block: value };
  const platforms = value['platforms'];
  if (!Array.isArray(platforms)) return { ok: false, error: `${file}: "platforms" must be a list of platform blocks` };
  const matches: number[] = [];
  platforms.forEach((entry, i) => {
    if (isRecord(entry) && (entry['platform'] === PLATFORM || entry['platform'] === QUALIFIED_PLATFORM)) matches.push(i);
  });
  if (matches.length === 0) {
    return { ok: false, error: `${file}: no platform block with "platform": "${PLATFORM}" in "platforms"; add one or point to a file holding just the block` };
  }
  if (matches.length > 1) {
    return { ok: false, error: `${file}: ${matches.length} "${PLATFORM}" platform blocks (${matches.map((i) => `platforms[${i}]`).join(', ')}); keep exactly one` };
  }
  return { ok: true, block: platforms[matches[0] ?? 0] };
}

/**
 * The config with its file options (`tls.caFile`, `auth.certificate.privateKeyFile` and
 * `certificateFile`, `mqtt.ca`, `mqtt.cert`, `mqtt.key`) made absolute against `baseDir`: the
 * config file's folder, or Homebridge's storage folder. Absolute paths are kept; nothing else changes.
 */
export function resolveConfigPaths(config: PresenceBridgeConfig, baseDir: string): PresenceBridgeConfig {
  const at = <T extends string | undefined>(path: T): T => (path === undefined || path === '' || isAbsolute(path) ? path : (resolve(baseDir, path) as T));
  const certificate = config.auth.certificate;
  return {
    ...config,
    auth: certificate
      ? {
          ...config.auth,
          certificate: {
            ...certificate,
            privateKeyFile: at(certificate.privateKeyFile),
            ...(certificate.certificateFile === undefined ? {} : { certificateFile: at(certificate.certificateFile) }),
          },
        }
      : config.auth,
    tls: config.tls.caFile === undefined ? config.tls : { ...config.tls, caFile: at(config.tls.caFile) },
    ...(config.mqtt
      ? {
          mqtt: {
            ...config.mqtt,
            ...(config.mqtt.ca === undefined ? {} : { ca: at(config.mqtt.ca) }),
            ...(config.mqtt.cert === undefined ? {} : { cert: at(config.mqtt.cert) }),
            ...(config.mqtt.key === undefined ? {} : { key: at(config.mqtt.key) }),
          },
        }
      : {}),
  };
}

/**
 * Reads, picks and validates a config file with `validate` (the registry's: src/configuration.ts
 * `loadConfigFile` passes it).
 */
export async function loadConfigFileWith(validate: (raw: unknown) => ValidationResult, file: string, options: LoadOptions = {}): Promise<LoadResult> {
  const absolute = resolve(file);
  const name = options.displayName ?? file;
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : (error as Error).message;
    return { ok: false, errors: [`${name}: cannot read: ${reason}`], stage: 'read' };
  }
  const parsed = parseJson(text, name);
  if (!parsed.ok) return { ok: false, errors: [parsed.error], stage: 'json' };
  const picked = pickPlatformBlock(parsed.value, name);
  if (!picked.ok) return { ok: false, errors: [picked.error], stage: 'platform' };
  const result = validate(picked.block);
  if (!result.ok) return { ok: false, errors: result.errors, stage: 'validate' };
  // Relative file options mean the same wherever the daemon is started from.
  return { ok: true, config: resolveConfigPaths(result.config, dirname(absolute)), file: absolute };
}
