import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in device saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** How the device answers the next request: a status (with headers), or hold it until `release()`. */
export type Answer = number | { readonly status: number; readonly headers: Readonly<Record<string, string>> } | 'hold' | 'hang';

/**
 * A local HTTP(S) server standing in for a light (WLED, Shelly, ntfy…): records every request and
 * answers from a queue (200 when the queue is empty). `hold` keeps a request open until
 * {@link DeviceServer.release}; `hang` never answers (for timeouts).
 */
export class DeviceServer {
  readonly seen: SeenRequest[] = [];
  readonly answers: Answer[] = [];
  private held: ServerResponse[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly origin: string) {}

  static async start(options: { tls?: { certPem: string; keyPem: string }; responseBody?: (request: SeenRequest) => string } = {}): Promise<DeviceServer> {
    const box: { device?: DeviceServer } = {};
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const device = box.device!;
        device.seen.push(seen);
        for (const w of device.waiters.splice(0)) w();
        const answer = device.answers.shift() ?? 200;
        if (answer === 'hang') return;
        if (answer === 'hold') {
          device.held.push(res);
          return;
        }
        const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
        res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(options.responseBody?.(seen) ?? 'ok');
      });
    };
    const server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    box.device = new DeviceServer(server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
    return box.device;
  }

  /** Answer every held request with 200. */
  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(200).end('ok');
  }

  /** Resolves once at least `count` requests arrived (real network: no clock involved). */
  async received(count: number): Promise<void> {
    while (this.seen.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
