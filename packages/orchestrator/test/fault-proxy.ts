/**
 * A TCP proxy for failure tests: in front of a node, it passes traffic through, delays it,
 * blackholes it (accepts and never answers) or resets connections — the faults a real network
 * shows and a killed process does not.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'blackhole' }
  | { kind: 'reset' }
  /**
   * Passes traffic, but resets the connection instead of forwarding a request whose first line
   * matches `request` (e.g. `/^(PATCH|PUT) \/indexes\/movies\/settings/`), `times` times (default: always).
   */
  | { kind: 'refuse'; request: RegExp; times?: number }
  /** Passes requests to the node and drops its answers: the node acts, the caller never hears. */
  | { kind: 'mute' }
  /**
   * Answers a request whose first line matches `request` itself, with `status` and an empty body
   * (as an HTTP parser refusing an oversized URL or header block does), then closes.
   */
  | { kind: 'answer'; request: RegExp; status: number; reason: string };

export class FaultProxy {
  fault: Fault = { kind: 'pass' };
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => client.destroy());
      const fault = this.fault;
      if (fault.kind === 'reset') {
        client.resetAndDestroy();
        return;
      }
      if (fault.kind === 'blackhole') {
        client.resume(); // read and drop everything, answer nothing
        return;
      }
      const upstream = connect(target.port, target.host);
      this.#sockets.add(upstream);
      upstream.on('close', () => this.#sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      const delay = fault.kind === 'delay' ? fault.ms : 0;
      client.on('data', (d: Buffer) => {
        if (fault.kind === 'refuse' && (fault.times ?? Infinity) > 0 && fault.request.test(d.toString('latin1', 0, Math.min(d.length, 512)).split('\r\n', 1)[0]!)) {
          if (fault.times !== undefined) fault.times--;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (fault.kind === 'answer' && fault.request.test(d.toString('latin1', 0, Math.min(d.length, 512)).split('\r\n', 1)[0]!)) {
          client.end(`HTTP/1.1 ${fault.status} ${fault.reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
          upstream.destroy();
          return;
        }
        if (delay > 0) setTimeout(() => upstream.write(d), delay);
        else upstream.write(d);
      });
      if (fault.kind !== 'mute') upstream.on('data', (d) => client.write(d));
      else upstream.resume();
    });
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const u = new URL(targetUrl);
    const p = new FaultProxy({ host: u.hostname, port: Number(u.port) });
    await new Promise<void>((r) => p.#server.listen(0, '127.0.0.1', r));
    p.#port = (p.#server.address() as { port: number }).port;
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Changes the fault for new connections and cuts the current ones (pooled connections too). */
  set(fault: Fault): void {
    this.fault = fault;
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
