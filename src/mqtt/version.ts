import { readFileSync } from 'node:fs';

/** This package's version (shown as the Home Assistant device's sw_version). */
export const PACKAGE_VERSION: string = readVersion();

function readVersion(): string {
  try {
    // src/mqtt/ and dist/mqtt/ both sit two levels below package.json.
    const parsed: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') return parsed.version;
  } catch {
    // fall through
  }
  return '0.0.0';
}
