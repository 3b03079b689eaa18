import { stat } from 'node:fs/promises';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';

export interface SecretFile {
  readonly path: string;
  /** What the file is, for the warning: "the config file (holds auth.clientSecret)". */
  readonly what: string;
}

/**
 * The files whose contents are secrets under this config: the private keys it names, and the
 * config file itself when it holds a client secret or a broker password.
 */
export function secretFilesOf(config: PresenceBridgeConfig, configFile?: string): SecretFile[] {
  const files: SecretFile[] = [];
  const held = [config.auth.mode === 'application' && config.auth.clientSecret !== undefined ? 'auth.clientSecret' : undefined, config.mqtt?.password !== undefined ? 'mqtt.password' : undefined].filter(
    (k): k is string => k !== undefined,
  );
  if (configFile !== undefined && held.length > 0) files.push({ path: configFile, what: `the config file (holds ${held.join(' and ')})` });
  if (config.auth.mode === 'application' && config.auth.certificate) files.push({ path: config.auth.certificate.privateKeyFile, what: 'the private key file (auth.certificate.privateKeyFile)' });
  if (config.mqtt?.key !== undefined) files.push({ path: config.mqtt.key, what: 'the private key file (mqtt.key)' });
  return files;
}

/**
 * Logs one warning for each secret file other local users can read (group or world read bit).
 * Never throws: a file that cannot be checked is left to the code that reads it to report.
 * On Windows the mode bits say nothing about access, so nothing is checked there.
 */
export async function warnAboutReadableSecrets(files: readonly SecretFile[], logger: Logger, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (platform === 'win32') return;
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) continue;
    seen.add(file.path);
    let mode: number;
    try {
      mode = (await stat(file.path)).mode & 0o777;
    } catch (error) {
      logger.debug(`cannot check the permissions of ${file.path}: ${errorMessage(error)}`);
      continue;
    }
    if ((mode & 0o044) === 0) continue;
    const who = (mode & 0o004) !== 0 ? 'every local user' : 'its group';
    logger.warn(`${file.what} ${file.path} is readable by ${who} (mode ${mode.toString(8).padStart(4, '0')}); make it private: chmod 600 ${file.path}`);
  }
}
