import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  silenced: boolean;
}

/**
 * A TCP proxy in front of the API server that can make its connections go silent: bytes stop
 * flowing both ways and nothing is closed, as with a dead peer or a black-holed route (no FIN, no
 * RST). Connections opened afterwards work, so a client that notices and reconnects recovers.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs: Set<Pair>;

  private constructor(server: Server, pairs: Set<Pair>) {
    this.#server = server;
    this.#pairs = pairs;
  }

  static async start(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
    const pairs = new Set<Pair>();
    const server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      const pair: Pair = { client, upstream, silenced: false };
      pairs.add(pair);
      const forward = (from: Socket, to: Socket): void => {
        from.on('data', (chunk: Buffer) => {
          if (!pair.silenced) to.write(chunk);
        });
        from.on('close', () => {
          // A silent connection tells the other side nothing, not even that it ended (close() ends it).
          if (pair.silenced) return;
          pairs.delete(pair);
          to.destroy();
        });
        from.on('error', () => undefined);
      };
      forward(client, upstream);
      forward(upstream, client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, pairs);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Silences every open connection; returns how many. */
  silence(): number {
    let count = 0;
    for (const pair of this.#pairs) {
      if (pair.silenced) continue;
      pair.silenced = true;
      count += 1;
    }
    return count;
  }

  close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    return new Promise((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}
