// Server side of the custom settings UI. Homebridge UI forks this file and relays the page's
// homebridge.request() calls to it over IPC (see @homebridge/plugin-ui-utils).
// It reads the plugin's compiled core from ../dist, so it runs the same code as the plugin.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HomebridgePluginUiServer, RequestError } from '@homebridge/plugin-ui-utils';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

function distModule(path) {
  return import(pathToFileURL(join(DIST, path)).href);
}

// Lines the Homebridge UI shows in its log, prefixed with the plugin name.
const logger = {
  debug: () => undefined,
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

class PresenceBridgeUiServer extends HomebridgePluginUiServer {
  constructor() {
    super();
    /** The sign-in in progress, if any: one at a time. */
    this.signIn = null;
    this.onRequest('/status', () => this.status());
    this.onRequest('/signin/start', (body) => this.startSignIn(body));
    this.onRequest('/account', (body) => this.account(body));
    this.onRequest('/signout', () => this.signOut());
    this.ready();
  }

  storagePath() {
    const path = this.homebridgeStoragePath;
    if (!path) throw new RequestError('Homebridge did not say where its storage folder is', { code: 'NO_STORAGE' });
    return path;
  }

  /** Each user's session as the running plugin last wrote it (state.json holds no secret). */
  async status() {
    const { stateFilePath } = await distModule('homebridge/stateFile.js');
    const file = stateFilePath(this.storagePath());
    try {
      const snapshot = JSON.parse(await readFile(file, 'utf8'));
      return { found: true, writtenAt: snapshot.writtenAt ?? null, users: Array.isArray(snapshot.users) ? snapshot.users : [] };
    } catch (error) {
      if (error && error.code === 'ENOENT') return { found: false, writtenAt: null, users: [] };
      throw new RequestError(`could not read ${file}: ${errorText(error)}`, { code: 'STATE_UNREADABLE' });
    }
  }

  /**
   * Who is signed in (delegated mode), from the token cache in the storage folder. A config the
   * form cannot use yet answers `known: false` rather than an error: the panel opens on it.
   */
  async account(body) {
    const { validateConfig } = await distModule('configuration.js');
    const raw = { ...(body && typeof body.config === 'object' ? body.config : {}) };
    delete raw._bridge;
    const result = validateConfig(raw);
    if (!result.ok) return { known: false, mode: raw.auth && raw.auth.mode === 'delegated' ? 'delegated' : 'application', account: null };
    if (result.config.auth.mode !== 'delegated') return { known: true, mode: 'application', account: null };
    const { signedInAccount } = await distModule('homebridge/signIn.js');
    try {
      const account = await signedInAccount(result.config, this.storagePath());
      return { known: true, mode: 'delegated', account: account ?? null };
    } catch (error) {
      throw new RequestError(`could not read the sign-in: ${errorText(error)}`, { code: 'ACCOUNT_UNREADABLE' });
    }
  }

  async signOut() {
    if (this.signIn) throw new RequestError('A sign-in is waiting for its code; finish or let it expire first', { code: 'BUSY' });
    const { signOut } = await distModule('homebridge/signIn.js');
    return { signedOut: await signOut(this.storagePath()) };
  }

  /**
   * Starts the device code flow with the config shown in the form (saved or not). Answers as soon
   * as Microsoft hands out the code; the outcome follows as a 'signin-done' event.
   */
  async startSignIn(body) {
    const { validateConfig } = await distModule('configuration.js');
    const raw = { ...(body && typeof body.config === 'object' ? body.config : {}) };
    delete raw._bridge;
    const result = validateConfig(raw);
    if (!result.ok) throw new RequestError('The configuration has errors', { code: 'CONFIG_INVALID', errors: result.errors });
    const config = result.config;
    if (config.auth.mode !== 'delegated') {
      throw new RequestError('Sign-in with a code is for the delegated mode; application mode signs in with its secret or certificate', {
        code: 'NOT_DELEGATED',
      });
    }
    if (this.signIn) throw new RequestError('A sign-in is already waiting for its code to be entered', { code: 'BUSY' });

    const { runDeviceCodeSignIn } = await distModule('homebridge/signIn.js');
    return new Promise((resolve, reject) => {
      let answered = false;
      this.signIn = runDeviceCodeSignIn(
        config,
        this.storagePath(),
        (code) => {
          answered = true;
          resolve(code);
        },
        logger,
      ).then(
        (account) => {
          this.signIn = null;
          this.pushEvent('signin-done', { ok: true, account });
        },
        (error) => {
          this.signIn = null;
          const payload = { ok: false, message: errorText(error), code: error && error.code ? String(error.code) : undefined };
          if (answered) this.pushEvent('signin-done', payload);
          else reject(new RequestError(payload.message, payload));
        },
      );
    });
  }
}

(() => new PresenceBridgeUiServer())();
