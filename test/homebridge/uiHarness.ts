import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { builtProduct, type ProductBuild } from '../helpers/builtProduct.js';
import { REPO } from './homebridgeRunner.js';

type PluginFolder = ProductBuild;

/**
 * Stands in for the Homebridge UI (homebridge-config-ui-x) around a plugin's custom UI, doing
 * what it does and nothing more:
 * - forks `homebridge-ui/server.js` with `silent: true` and the HOMEBRIDGE_STORAGE_PATH /
 *   HOMEBRIDGE_CONFIG_PATH / HOMEBRIDGE_UI_VERSION environment, and relays IPC messages;
 * - serves `public/index.html` wrapped the way the UI wraps it: `window._homebridge` with the
 *   plugin and server metadata, the package's own `ui.js` (which creates `window.homebridge`),
 *   a `loaded` post to the parent, and the body hidden until `ready`;
 * - a parent page hosting that in an iframe, answering the iframe's `config.get` with the
 *   plugin's config blocks and relaying `request` messages to the server process and the
 *   server's `ready`/`response`/`stream` messages back (the UI does this over socket.io; here it
 *   is a POST and a server-sent event stream).
 * Not reproduced: the Angular settings modal, Bootstrap styling, the schema form, login to the UI.
 */
export interface UiHarnessOptions {
  readonly packageDir: string;
  readonly storagePath: string;
  /** The platform blocks `homebridge.getPluginConfig()` returns. */
  readonly pluginConfig: unknown[];
}

export class UiHarness {
  private server: Server | null = null;
  private child: ChildProcess | null = null;
  private readonly streams = new Set<ServerResponse>();
  private readonly backlog: unknown[] = [];
  readonly serverOutput: string[] = [];
  url = '';

  constructor(private readonly options: UiHarnessOptions) {}

  async start(): Promise<void> {
    const child = fork(join(this.options.packageDir, 'homebridge-ui', 'server.js'), [], {
      silent: true,
      env: {
        ...process.env,
        HOMEBRIDGE_STORAGE_PATH: this.options.storagePath,
        HOMEBRIDGE_CONFIG_PATH: join(this.options.storagePath, 'config.json'),
        HOMEBRIDGE_UI_VERSION: '5.0.0-harness',
      },
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => this.serverOutput.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.serverOutput.push(d.toString()));
    child.on('message', (message: unknown) => this.toPage(message));

    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.end();
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child?.once('exit', resolve));
      // As the UI does when the modal closes: disconnect; the server ends itself on 'disconnect'.
      this.child.disconnect();
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private toPage(message: unknown): void {
    if (this.streams.size === 0) {
      this.backlog.push(message);
      return;
    }
    for (const stream of this.streams) stream.write(`data: ${JSON.stringify(message)}\n\n`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.setHeader('content-type', 'text/html');
      res.end(parentPage(this.options.pluginConfig));
    } else if (path === '/plugin/index.html') {
      res.setHeader('content-type', 'text/html');
      res.end(await this.pluginPage());
    } else if (path === '/assets/plugin-ui-utils/ui.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(await readFile(join(REPO, 'node_modules', '@homebridge', 'plugin-ui-utils', 'dist', 'ui.js')));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': open\n\n');
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
      for (const message of this.backlog.splice(0)) res.write(`data: ${JSON.stringify(message)}\n\n`);
    } else if (path === '/relay' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const request: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (this.child?.connected) this.child.send(request as object);
      res.end('{}');
    } else {
      res.statusCode = 404;
      res.end('Not Found');
    }
  }

  private async pluginPage(): Promise<string> {
    const body = await readFile(join(this.options.packageDir, 'homebridge-ui', 'public', 'index.html'), 'utf8');
    const pkg = JSON.parse(await readFile(join(this.options.packageDir, 'package.json'), 'utf8')) as { name: string; version: string };
    const plugin = { name: pkg.name, displayName: 'Presence Bridge', installedVersion: pkg.version, settingsSchema: true, installPath: this.options.packageDir };
    const serverEnv = { theme: 'auto', env: { homebridgeInstanceName: 'Harness', lang: 'en' } };
    return `<!doctype html>
<html>
  <head>
    <meta charset="utf-8">
    <title>${pkg.name}</title>
    <script>
    window._homebridge = { plugin: ${JSON.stringify(plugin)}, serverEnv: ${JSON.stringify(serverEnv)} };
    </script>
    <script src="/assets/plugin-ui-utils/ui.js"></script>
    <script>
      window.addEventListener('load', () => { window.parent.postMessage({action: 'loaded'}, '*'); }, false)
    </script>
  </head>
  <body style="display:none;">
    ${body}
  </body>
</html>`;
  }
}

function parentPage(pluginConfig: unknown[]): string {
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>Homebridge UI harness</title></head>
<body>
<iframe id="plugin" src="/plugin/index.html" style="width: 100%; height: 800px"></iframe>
<script>
  const pluginConfig = ${JSON.stringify(pluginConfig)};
  window.harness = { messages: [], toasts: [] };
  const frame = document.getElementById('plugin');
  const post = (message) => frame.contentWindow.postMessage(message, '*');
  let serverReady = false;
  let loaded = false;
  const maybeReady = () => { if (serverReady && loaded) post({ action: 'ready' }); };
  const events = new EventSource('/events');
  events.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.action === 'ready') { serverReady = true; maybeReady(); }
    else if (message.action === 'response') post({ action: 'response', ...message.payload });
    else if (message.action === 'stream') post({ action: 'stream', event: message.payload.event, data: message.payload.data });
  };
  window.addEventListener('message', (event) => {
    if (event.source !== frame.contentWindow) return;
    const message = event.data;
    window.harness.messages.push(message);
    switch (message.action) {
      case 'loaded': loaded = true; maybeReady(); break;
      case 'request': fetch('/relay', { method: 'POST', body: JSON.stringify(message) }); break;
      case 'config.get': post({ action: 'response', requestId: message.requestId, success: true, data: pluginConfig }); break;
      default:
        if (String(message.action).startsWith('toast.')) window.harness.toasts.push(message);
    }
  });
</script>
</body>
</html>`;
}

/**
 * The plugin folder of the run's one build and one headless Chromium, for a test file:
 * registers beforeAll/afterAll; read `plugin` and `browser` inside tests.
 */
export function pluginAndBrowser(setupTimeoutMs: number): { readonly plugin: PluginFolder; readonly browser: Browser } {
  let plugin: PluginFolder | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    plugin = builtProduct();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  }, setupTimeoutMs);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get plugin() {
      if (!plugin) throw new Error('the plugin folder is read in beforeAll');
      return plugin;
    },
    get browser() {
      if (!browser) throw new Error('the browser is launched in beforeAll');
      return browser;
    },
  };
}
