import { createConnection } from 'node:net';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';

/**
 * A WebSocket endpoint (subprotocol `mqtt`) that relays each connection's binary frames to a TCP
 * MQTT broker and back: what a broker's own WebSocket listener does, for a Mosquitto built without
 * one.
 */
export interface WsRelay {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWsRelay(brokerPort: number): Promise<WsRelay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => {
    const tcp = createConnection({ host: '127.0.0.1', port: brokerPort });
    socket.on('message', (data: Buffer) => tcp.write(data));
    tcp.on('data', (data) => socket.send(data));
    const end = (): void => {
      tcp.destroy();
      socket.terminate();
    };
    socket.on('close', end);
    socket.on('error', end);
    tcp.on('close', end);
    tcp.on('error', end);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
