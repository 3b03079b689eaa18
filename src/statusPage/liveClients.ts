import type { ResponseStream } from '../feature.js';
import type { Logger } from '../logger.js';

/** At most this many live pages at once; more get 503 (each holds a socket open). */
export const MAX_EVENT_CLIENTS = 32;
/** At most this many live pages from one address, so one machine cannot take every slot. */
export const MAX_EVENT_CLIENTS_PER_ADDRESS = 6;
/**
 * Bytes the server holds for one live page beyond what its socket took (on top of its first
 * snapshot). A page that stops reading is dropped past this, so it costs at most this much.
 */
export const MAX_BUFFERED_BYTES_PER_CLIENT = 256 * 1024;

interface Client {
  readonly address: string;
  readonly allowance: number;
}

/**
 * The status page's live pages (server-sent event streams): capped in number, and each dropped
 * once it leaves {@link MAX_BUFFERED_BYTES_PER_CLIENT} unread, so a stalled client costs bounded memory.
 */
export class LiveClients {
  private readonly clients = new Map<ResponseStream, Client>();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.clients.size;
  }

  /** Whether one more page from `address` may open. */
  hasRoomFor(address: string): boolean {
    let fromAddress = 0;
    for (const c of this.clients.values()) if (c.address === address) fromAddress++;
    return this.clients.size < MAX_EVENT_CLIENTS && fromAddress < MAX_EVENT_CLIENTS_PER_ADDRESS;
  }

  /** Sends the first frame and keeps the stream for broadcasts. */
  open(stream: ResponseStream, address: string, first: string): void {
    stream.write(first);
    this.clients.set(stream, { address, allowance: MAX_BUFFERED_BYTES_PER_CLIENT + Buffer.byteLength(first) });
    stream.onClose(() => this.clients.delete(stream));
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const [stream, client] of [...this.clients]) {
      if (stream.bufferedBytes > client.allowance) {
        this.clients.delete(stream);
        this.logger.debug(`dropping a live page: ${stream.bufferedBytes} bytes unread (it stopped reading)`);
        stream.close({ destroy: true });
        continue;
      }
      stream.write(frame);
    }
  }

  bufferedBytes(): number {
    let total = 0;
    for (const stream of this.clients.keys()) total += stream.bufferedBytes;
    return total;
  }

  closeAll(): void {
    for (const stream of [...this.clients.keys()]) stream.close();
    this.clients.clear();
  }
}
