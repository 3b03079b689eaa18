import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';

/**
 * The real Homebridge UI (homebridge-config-ui-x), pinned and installed outside the project's
 * dependencies (like the benchmark's Node-RED), beside the Homebridge it drives.
 */
export const CONFIG_UI_X_VERSION = '5.28.0';
const INSTALL_DIR = join(homedir(), '.cache', `presence-bridge-config-ui-x-${CONFIG_UI_X_VERSION}`);

export async function installConfigUiX(): Promise<string> {
  const ui = join(INSTALL_DIR, 'node_modules', 'homebridge-config-ui-x');
  const bin = join(ui, 'dist', 'bin', 'hb-service.js');
  try {
    await access(bin);
    return ui;
  } catch {
    // not installed yet
  }
  await mkdir(INSTALL_DIR, { recursive: true });
  const pkg = {
    name: 'presence-bridge-config-ui-x',
    private: true,
    dependencies: { 'homebridge-config-ui-x': CONFIG_UI_X_VERSION, homebridge: '2.4.0' },
    overrides: { '@homebridge/hap-nodejs': '2.2.3', '@homebridge/hap-client': '4.0.3' },
  };
  await writeFile(join(INSTALL_DIR, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // No install scripts: the UI's terminal (node-pty) is not needed to edit settings.
  await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: INSTALL_DIR, maxBuffer: 64 * 1024 * 1024 });
  await access(bin);
  return ui;
}

/** `hb-service run` (the UI, which runs Homebridge as its child) in its own process group. */
export class HbService {
  private child: ChildProcess | null = null;
  private out = '';

  constructor(private readonly options: { ui: string; storagePath: string; pluginPath: string; uiPort: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.uiPort}`;
  }

  output(): string {
    return this.out;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [join(this.options.ui, 'dist', 'bin', 'hb-service.js'), 'run', '-U', this.options.storagePath, '-P', this.options.pluginPath, '--allow-root', '--stdout'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        const response = await fetch(this.url);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the Homebridge UI did not answer on ${this.url}:\n${this.out.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The group: hb-service and the Homebridge it started.
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** The first visit asks for an admin account (even with "auth": "none"): create it, then log in as a user does. */
  async createAdminAndLogIn(page: Page, username: string, password: string): Promise<string> {
    const wizard = (await (await fetch(`${this.url}/api/setup-wizard/get-setup-wizard-token`)).json()) as { access_token: string };
    const created = await fetch(`${this.url}/api/setup-wizard/create-first-user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${wizard.access_token}` },
      body: JSON.stringify({ name: 'Admin', username, password, admin: true }),
    });
    if (!created.ok) throw new Error(`create-first-user: ${created.status} ${await created.text()}`);
    await page.goto(`${this.url}/login`);
    await page.locator('#form-username').fill(username);
    await page.locator('#form-pass').fill(password);
    await page.locator('button[type=submit], button:has-text("Continue")').first().click();
    await page.waitForURL((url) => !url.pathname.startsWith('/login'), { waitUntil: 'commit' });
    const login = await fetch(`${this.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return ((await login.json()) as { access_token: string }).access_token;
  }

  /** Restart Homebridge the way the UI's restart button does. */
  async restartHomebridge(token: string): Promise<void> {
    const response = await fetch(`${this.url}/api/server/restart`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`restart: ${response.status} ${await response.text()}`);
  }
}

/** Opens the plugin's settings from the Plugins page: "Set Up" for a new plugin, else Plugin Config. */
export async function openPluginSettings(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/plugins`);
  await page.getByText('homebridge-presence-bridge').first().waitFor({ timeout: 60_000 });
  const setUp = page.locator('[aria-label="Set Up"]');
  if ((await setUp.count()) > 0) await setUp.first().click();
  else {
    await page.locator('[aria-label="Plugin Actions"]').first().click();
    await page.locator('.dropdown-item', { hasText: 'Plugin Config' }).click();
  }
  await page.locator('iframe.plugin-iframe').waitFor({ timeout: 30_000 });
}
