/**
 * A TCP proxy for fault tests: put it between a client and a real server (RabbitMQ) and break the link the
 * ways networks do. `drop()` resets every open connection (both sides get an RST), `refuseFor(ms)` stops
 * listening so that connection attempts are refused, `acceptAndClose` accepts and closes at once.
 */
import net from 'node:net';

export type ProxyMode = 'pass' | 'accept-and-close';

export class TcpProxy {
  private readonly open = new Set<net.Socket>();
  private readonly upstreams = new Set<net.Socket>();
  private server: net.Server;
  private mode: ProxyMode = 'pass';
  private refuseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Connections accepted so far (in any mode). */
  accepted = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {
    this.server = this.createServer();
  }

  /** A proxy on a free port of 127.0.0.1 to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port));
    });
    await new Promise<void>((r) => probe.close(() => r()));
    const proxy = new TcpProxy(target, port);
    await proxy.listen();
    return proxy;
  }

  /** `amqp://user:pass@127.0.0.1:<port>` for a URL that pointed at the target. */
  via(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Local ports of the open connections to the target: how the target (e.g. rabbitmqctl) names them. */
  upstreamPorts(): number[] {
    return [...this.upstreams].map((s) => s.localPort).filter((p): p is number => p !== undefined);
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  /** Resets every open connection, as a crashed peer or a load balancer would. */
  drop(): void {
    for (const s of this.open) s.resetAndDestroy();
    this.open.clear();
  }

  /** Drops every connection and refuses new ones for `ms` (nothing listens on the port meanwhile). */
  async refuseFor(ms: number): Promise<void> {
    this.drop();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.refuseTimer = setTimeout(() => this.listenAgain(), ms);
  }

  /** After a refusal: listen on the same port again, retrying while another listener holds it for a moment. */
  private listenAgain(attempt = 0): void {
    this.refuseTimer = undefined;
    if (this.closed) return;
    this.server = this.createServer();
    this.listen().catch((err: unknown) => {
      if (attempt >= 50) throw new Error(`TcpProxy: port ${this.port} stayed taken after the refusal`, { cause: err });
      this.refuseTimer = setTimeout(() => this.listenAgain(attempt + 1), 100);
    });
  }

  /** Stops listening and resets every connection; one accepted meanwhile is reset too (server.close waits for all). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refuseTimer);
    this.drop();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private createServer(): net.Server {
    return net.createServer((client) => {
      this.accepted++;
      client.on('error', () => undefined);
      if (this.mode === 'accept-and-close' || this.closed) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.target);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => {
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      });
      upstream.on('close', () => client.destroy());
      this.open.add(client);
      this.open.add(upstream);
      this.upstreams.add(upstream);
      upstream.on('close', () => this.upstreams.delete(upstream));
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }
}
