import { Aedes } from 'aedes';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';

/** The demo's embedded MQTT broker (aedes speaks MQTT 3.1.1, so clients must use protocol 4). */
export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** `mqtt://HOST:PORT` */
  readonly url: string;
  /** Publish as the broker itself (QoS 0, not retained). */
  publish(topic: string, payload: string): Promise<void>;
  /** Resolves once some client subscribed to every one of `filters` (false after `timeoutMs`). */
  whenSubscribed(filters: readonly string[], timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: { port?: number; host?: string; logger: Logger }): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger;
  const broker = await Aedes.createBroker();
  const subscribed = new Set<string>();
  const waiters = new Set<() => void>();
  broker.on('subscribe', (subscriptions) => {
    for (const s of subscriptions) subscribed.add(s.topic);
    for (const wake of [...waiters]) wake();
  });
  broker.on('clientError', (client, error) => logger.debug(`client ${client.id} error: ${error.message}`));
  broker.on('connectionError', (_client, error) => logger.debug(`connection error: ${error.message}`));

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  server.on('error', (error) => logger.error(`broker: ${errorMessage(error)}`));
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload, 'utf8'), qos: 0, retain: false, dup: false }, (error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
    whenSubscribed: (filters, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (filters.every((f) => subscribed.has(f))) finish(true);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        const finish = (ok: boolean): void => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(ok);
        };
        waiters.add(check);
        check();
      }),
    close(): Promise<void> {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}
