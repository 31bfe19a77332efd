import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that can play a server going down: `cut()` drops every
 * connection and refuses new ones (the client sees resets, as with a dead
 * server), `stall()` turns into a black hole (connections stay open, new ones
 * are accepted, and not a byte goes either way: a hung server, a half-open
 * link), `restore()` lets new connections through again. Connections that
 * were stalled stay black holes after `restore()`, as they would behind a
 * firewall that dropped their state: only new connections work.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Reads and discards whatever arrives, and never closes on its own. */
function blackHole(socket: Socket, holes: Set<Socket>): void {
  socket.removeAllListeners('data');
  socket.removeAllListeners('close');
  socket.removeAllListeners('end');
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  socket.on('close', () => holes.delete(socket));
  socket.resume();
  holes.add(socket);
}

export async function startProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const holes = new Set<Socket>();
  let mode: 'up' | 'cut' | 'stalled' = 'up';
  const server: Server = createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    if (mode === 'stalled') {
      blackHole(client, holes);
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const destroyAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    for (const socket of holes) socket.destroy();
    holes.clear();
  };
  return {
    port,
    cut() {
      mode = 'cut';
      destroyAll();
    },
    stall() {
      mode = 'stalled';
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // The client's end stays open and silent; the server's end is let go (the server may time it out).
        blackHole(client, holes);
        upstream.removeAllListeners();
        upstream.on('error', () => undefined);
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      mode = 'up';
    },
    close() {
      mode = 'cut';
      destroyAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
