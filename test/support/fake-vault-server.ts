/**
 * TEST ONLY. A fake HashiCorp Vault, because no Vault server can run on the machines this project
 * is built and tested on. It follows Vault's documented HTTP API for the parts the Vault key
 * engine uses: AppRole login (`POST /v1/auth/approle/login`), KV v2 data read/write
 * (`/v1/<mount>/data/<path>`), metadata read/list/delete (`/v1/<mount>/metadata/<path>`; lists by
 * `GET ?list=true`, which Vault documents as equal to `LIST`, a method Node's HTTP parser refuses),
 * `GET /v1/sys/health`, and 403 "permission denied" for a missing, unknown, revoked or expired
 * token. Tokens expire by the injected clock, so tests move time.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/domain/ports/clock.ts';

export interface FakeVaultOptions {
  roleId: string;
  secretId: string;
  clock: Clock;
  /** Lease of issued tokens, seconds. Default 3600. */
  tokenTtlSeconds?: number;
  /** KV v2 mounts. Default ["secret"]. */
  mounts?: string[];
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

interface Version {
  data: Record<string, unknown>;
  created_time: string;
}

export class FakeVaultServer {
  /** Successful AppRole logins so far. */
  logins = 0;
  /** Requests answered 403 so far. */
  denied = 0;
  sealed = false;
  private readonly tokens = new Map<string, number>();
  /** "<mount>/<path>" -> versions, oldest first. */
  private readonly secrets = new Map<string, Version[]>();

  private constructor(
    private readonly options: FakeVaultOptions,
    private readonly server: http.Server,
  ) {}

  static async start(options: FakeVaultOptions): Promise<FakeVaultServer> {
    let fake: FakeVaultServer | undefined;
    const handler: http.RequestListener = (req, res) => fake!.handle(req, res);
    const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
    fake = new FakeVaultServer(options, server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get address(): string {
    const { port } = this.server.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** Invalidates every issued token, as `vault token revoke` would. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** The latest version of a secret, e.g. secret("secret", "lamassu/keys/<id>"). */
  secret(mount: string, path: string): Record<string, unknown> | undefined {
    return this.secrets.get(`${mount}/${path}`)?.at(-1)?.data;
  }

  /** Stores a secret directly, as another Vault client would. */
  putSecret(mount: string, path: string, data: Record<string, unknown>): void {
    this.write(`${mount}/${path}`, data);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> | undefined;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        return send(res, 400, { errors: ['failed to parse JSON input'] });
      }
      this.route(req, new URL(req.url ?? '/', 'http://vault'), body, res);
    });
  }

  private route(
    req: http.IncomingMessage,
    url: URL,
    body: Record<string, unknown> | undefined,
    res: http.ServerResponse,
  ): void {
    const method = req.method ?? 'GET';
    if (url.pathname === '/v1/sys/health') {
      return send(res, this.sealed ? 503 : 200, { initialized: true, sealed: this.sealed, standby: false });
    }
    if (this.sealed) return send(res, 503, { errors: ['Vault is sealed'] });
    if (url.pathname === '/v1/auth/approle/login' && method === 'POST') return this.login(body, res);

    const token = req.headers['x-vault-token'];
    const expires = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (expires === undefined || this.options.clock.now().getTime() >= expires) {
      this.denied++;
      return send(res, 403, { errors: ['permission denied'] });
    }

    const match = /^\/v1\/([^/]+)\/(data|metadata)\/(.*)$/.exec(url.pathname);
    if (!match || !(this.options.mounts ?? ['secret']).includes(match[1])) {
      return send(res, 404, { errors: [`no handler for route "${url.pathname.slice(4)}"`] });
    }
    const [, mount, kind, rawPath] = match;
    const path = decodeURIComponent(rawPath).replace(/\/+$/, '');
    const key = `${mount}/${path}`;
    const isList = method === 'GET' && url.searchParams.get('list') === 'true';

    if (kind === 'data' && (method === 'POST' || method === 'PUT')) {
      const data = body?.data;
      if (!data || typeof data !== 'object') return send(res, 400, { errors: ['no data provided'] });
      const version = this.write(key, data as Record<string, unknown>);
      const number = this.secrets.get(key)!.length;
      return send(res, 200, {
        data: { created_time: version.created_time, deletion_time: '', destroyed: false, version: number },
      });
    }
    if (kind === 'data' && method === 'GET') {
      const versions = this.secrets.get(key);
      const latest = versions?.at(-1);
      if (!latest) return send(res, 404, { errors: [] });
      return send(res, 200, {
        request_id: randomBytes(8).toString('hex'),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          data: latest.data,
          metadata: {
            created_time: latest.created_time,
            custom_metadata: null,
            deletion_time: '',
            destroyed: false,
            version: versions!.length,
          },
        },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    if (kind === 'metadata' && isList) {
      const prefix = path ? `${key}/` : `${mount}/`;
      const children = new Set<string>();
      for (const name of this.secrets.keys()) {
        if (!name.startsWith(prefix)) continue;
        const rest = name.slice(prefix.length);
        const slash = rest.indexOf('/');
        children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      if (children.size === 0) return send(res, 404, { errors: [] });
      return send(res, 200, { data: { keys: [...children].sort() } });
    }
    if (kind === 'metadata' && method === 'GET') {
      const versions = this.secrets.get(key);
      if (!versions) return send(res, 404, { errors: [] });
      return send(res, 200, { data: { current_version: versions.length, oldest_version: 1, versions: {} } });
    }
    if (kind === 'metadata' && method === 'DELETE') {
      this.secrets.delete(key);
      return send(res, 204);
    }
    return send(res, 405, { errors: ['unsupported operation'] });
  }

  private login(body: Record<string, unknown> | undefined, res: http.ServerResponse): void {
    if (body?.role_id !== this.options.roleId || body?.secret_id !== this.options.secretId) {
      return send(res, 400, { errors: ['invalid role or secret ID'] });
    }
    const ttl = this.options.tokenTtlSeconds ?? 3600;
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    this.tokens.set(token, this.options.clock.now().getTime() + ttl * 1000);
    this.logins++;
    send(res, 200, {
      auth: {
        client_token: token,
        accessor: randomBytes(8).toString('hex'),
        policies: ['default', 'lamassu'],
        lease_duration: ttl,
        renewable: true,
      },
    });
  }

  private write(key: string, data: Record<string, unknown>): Version {
    const version = { data, created_time: this.options.clock.now().toISOString() };
    const versions = this.secrets.get(key) ?? [];
    versions.push(version);
    this.secrets.set(key, versions);
    return version;
  }
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
