import type { API, Logging } from 'homebridge';
import { nodeVersionProblem } from './nodeVersion.js';

// Homebridge imports this file; the Node version is checked before the platform and its
// dependencies load (on an older Node they fail with a TypeError that does not say why).
const PLATFORM = 'PresenceBridge';
const problem = nodeVersionProblem(process.versions.node);
const platform = problem ? undefined : (await import('./homebridge/platform.js')).PresenceBridgePlatform;

/** Stands in for the platform on a Node that is too old: says so in the Homebridge log, once. */
class NodeTooOldPlatform {
  constructor(log: Logging) {
    log.error(problem ?? '');
  }
}

export default (api: API): void => {
  api.registerPlatform(PLATFORM, platform ?? NodeTooOldPlatform);
};
