/**
 * A minimal HashiCorp Vault HTTP client: AppRole login, a cached client token renewed by logging
 * in again shortly before its lease ends or whenever Vault answers 403, and JSON requests. Neither
 * the secret id nor the token ever appears in an error. Uses undici's own fetch so that a custom
 * CA (VAULT_CA) goes through an Agent of the same undici version.
 */
import { readFile } from 'node:fs/promises';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { DomainError } from '../../../domain/errors.ts';
import { unavailable } from '../../../domain/errors.ts';
import type { Clock } from '../../../domain/ports/clock.ts';
import { keyEngineUnavailable } from '../key-errors.ts';

export interface VaultClientOptions {
  engineId: string;
  /** e.g. https://vault.example:8200 */
  address: string;
  roleId: string;
  secretId: string;
  /** PEM file with the CA that signed Vault's TLS certificate. */
  caFile?: string;
  clock: Clock;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export interface VaultResponse {
  status: number;
  body: unknown;
}

interface Token {
  value: string;
  /** Epoch ms after which we log in again; Infinity for tokens without a lease. */
  renewAt: number;
}

const authFailed = (engineId: string, reason: string): DomainError =>
  unavailable('KEY_ENGINE_AUTH_FAILED', `key engine ${engineId} could not authenticate to Vault: ${reason}`, {
    engineId,
  });

export class VaultClient {
  private token: Token | undefined;
  private loggingIn: Promise<Token> | undefined;

  private constructor(
    private readonly options: VaultClientOptions,
    private readonly dispatcher: Dispatcher | undefined,
  ) {}

  static async create(options: VaultClientOptions): Promise<VaultClient> {
    let dispatcher: Dispatcher | undefined;
    if (options.caFile) {
      let ca: string;
      try {
        ca = await readFile(options.caFile, 'utf8');
      } catch (e) {
        throw keyEngineUnavailable(
          options.engineId,
          `cannot read Vault CA file ${options.caFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
      dispatcher = new Agent({ connect: { ca } });
    }
    return new VaultClient(options, dispatcher);
  }

  /** An authenticated request; a 403 is answered by one fresh login and one retry. */
  async request(method: string, path: string, body?: unknown): Promise<VaultResponse> {
    const token = await this.currentToken();
    const first = await this.send(method, path, body, token.value);
    if (first.status !== 403) return first;
    if (this.token === token) this.token = undefined;
    const retry = await this.send(method, path, body, (await this.currentToken()).value);
    if (retry.status === 403) {
      throw authFailed(this.options.engineId, `permission denied on ${path} (check the AppRole policy)`);
    }
    return retry;
  }

  /** Unauthenticated request (sys/health). */
  unauthenticated(method: string, path: string): Promise<VaultResponse> {
    return this.send(method, path, undefined, undefined);
  }

  /** Logs in now if no valid token is held; for health checks. */
  async ensureLoggedIn(): Promise<void> {
    await this.currentToken();
  }

  async close(): Promise<void> {
    this.token = undefined;
    await this.dispatcher?.close();
  }

  private currentToken(): Promise<Token> {
    const t = this.token;
    if (t && this.options.clock.now().getTime() < t.renewAt) return Promise.resolve(t);
    if (!this.loggingIn) {
      this.loggingIn = this.login().finally(() => {
        this.loggingIn = undefined;
      });
    }
    return this.loggingIn;
  }

  private async login(): Promise<Token> {
    const res = await this.send('POST', '/v1/auth/approle/login', {
      role_id: this.options.roleId,
      secret_id: this.options.secretId,
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw authFailed(this.options.engineId, `AppRole login refused (HTTP ${res.status})`);
    }
    const auth = (res.body as { auth?: { client_token?: unknown; lease_duration?: unknown } } | undefined)?.auth;
    if (res.status !== 200 || typeof auth?.client_token !== 'string') {
      throw keyEngineUnavailable(this.options.engineId, `Vault AppRole login answered HTTP ${res.status}`);
    }
    const lease = typeof auth.lease_duration === 'number' ? auth.lease_duration : 0;
    // Log in again when 90% of the lease is gone, so a token never expires between check and use.
    const renewAt = lease > 0 ? this.options.clock.now().getTime() + lease * 900 : Number.POSITIVE_INFINITY;
    this.token = { value: auth.client_token, renewAt };
    return this.token;
  }

  private async send(method: string, path: string, body: unknown, token?: string): Promise<VaultResponse> {
    const headers: Record<string, string> = {};
    if (token) headers['X-Vault-Token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(new URL(path, this.options.address), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? (e as Error).name ?? 'network error';
      throw keyEngineUnavailable(this.options.engineId, `cannot reach Vault at ${this.options.address}: ${why}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      const what = `Vault answered ${method} ${path} with non-JSON (HTTP ${res.status})`;
      throw keyEngineUnavailable(this.options.engineId, what);
    }
    return { status: res.status, body: parsed };
  }
}
