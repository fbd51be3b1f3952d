/** What a command's action gets: the resolved connection, API clients, and whether to print JSON. */
import type { Command } from 'commander';
import { ApiClient, type ClientTls } from './api-client.ts';
import { resolveConnection, type Connection, type GlobalOptions } from './connection.ts';

export class Ctx {
  readonly connection: Connection;
  private readonly clients: ApiClient[] = [];
  private admin?: ApiClient;

  constructor(readonly globals: GlobalOptions) {
    this.connection = resolveConnection(globals);
  }

  get json(): boolean {
    return this.globals.json === true;
  }

  /** The admin API client (bearer token). */
  get api(): ApiClient {
    this.admin ??= this.client();
    return this.admin;
  }

  /** A client with its own TLS settings (an EST client certificate). */
  client(tls: ClientTls = {}): ApiClient {
    const c = new ApiClient(this.connection, tls);
    this.clients.push(c);
    return c;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

/**
 * A commander action that runs `fn` with a context. Commander calls actions with the positional
 * arguments, then the command's options, then the command; `fn` gets the first two groups.
 */
export function run<A extends unknown[]>(fn: (ctx: Ctx, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = new Ctx(command.optsWithGlobals<GlobalOptions>());
    try {
      await fn(ctx, ...(args.slice(0, -1) as A));
    } finally {
      await ctx.close();
    }
  };
}

/** Help text that ends with examples, one per line, each after a `$`. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => (l.startsWith('#') ? `  ${l}` : `  $ ${l}`)).join('\n')}\n`;
}
