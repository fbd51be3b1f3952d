/**
 * The `lamassu` command: `serve` runs the server until SIGTERM/SIGINT, `migrate` brings the database
 * up to date. Exit codes: 0 done, 1 failure, 2 bad usage or configuration.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { CLI_NOUNS } from './cli/nouns.ts';
import type { ConfigError } from './config/load-config.ts';
// Constants only (node:cluster and node:crypto): the server's modules load later.
import { READY_MESSAGE, TICKET_KEYS_ENV } from './serve-workers.ts';

const USAGE = `Usage: lamassu <command> [options]

Commands:
  serve      run the server (HTTPS admin API and EST, plain-HTTP health, metrics, OCSP and CRLs)
  migrate    apply pending database migrations and exit

Admin commands, over the REST API of a running server (lamassu <command> --help; docs/cli.md):
  ca, cert, profile, crl, ocsp, dms, device, device-group, est, bulk

Options:
  --config <file>     YAML configuration file (environment variables override it)
  --services <list>   services to run, e.g. ca,va (default: all; overrides LAMASSU_SERVICES)
  --workers <n|auto>  server processes sharing the listeners (default auto: one per core with
                      PostgreSQL, 1 with SQLite; overrides LAMASSU_WORKERS)
  -h, --help          show this help

Settings are described in docs/configuration.md.
`;

/** How long shutdown may take before the process gives up on a clean exit. */
const SHUTDOWN_DEADLINE_MS = 15_000;

function configError(e: ConfigError): never {
  process.stderr.write(`lamassu: configuration error:\n${e.problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(2);
}

function usageError(message: string): never {
  process.stderr.write(`lamassu: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/**
 * For a command that is done: the process ends from the last 'exit' listener (after pino's and the others')
 * instead of going through Node's handle teardown, which on Node 20 now and then spins forever at full CPU
 * after the JavaScript has ended (seen in our test runs under gdb: Environment::CleanupHandles; nodejs/node
 * issue 47748). A deployment's `lamassu migrate` must not hang on that.
 */
function endPromptly(): void {
  process.once('exit', () => process.exit());
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] !== undefined && CLI_NOUNS.includes(argv[0])) {
    const { runCli } = await import('./cli/index.ts');
    process.exitCode = await runCli(argv);
    endPromptly();
    return;
  }
  // Loaded here, not at the top: the admin commands above start in a fraction of the time without the server.
  const { ConfigError, loadConfig } = await import('./config/load-config.ts');
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, services: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    usageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === 'help' || command === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  if (positionals.length > 1) usageError(`unexpected argument "${positionals[1]}"`);
  if (command !== 'serve' && command !== 'migrate') usageError(`unknown command "${command}"`);
  if (command === 'migrate' && values.services !== undefined) usageError('--services applies to serve only');
  if (command === 'migrate' && values.workers !== undefined) usageError('--workers applies to serve only');
  // Everything the server writes (the SQLite database and its -wal/-shm, keys, TLS files) is its user's alone.
  process.umask(0o077);

  let config;
  try {
    config = loadConfig({ env: process.env, file: values.config, flags: { '--services': values.services, '--workers': values.workers } });
  } catch (e) {
    if (e instanceof ConfigError) configError(e);
    throw e;
  }
  if (command === 'serve' && config.workers > 1 && cluster.isPrimary) {
    // The primary only supervises: it never loads the server's modules (its memory stays small).
    const [{ pino }, { superviseWorkers }] = await Promise.all([import('pino'), import('./serve-workers.ts')]);
    process.exitCode = await superviseWorkers({ workers: config.workers, logger: pino({ level: config.logLevel }), shutdownDeadlineMs: SHUTDOWN_DEADLINE_MS });
    endPromptly();
    return;
  }
  const { createLogger, startServer } = await import('./app.ts');
  const logger = createLogger(config);

  if (command === 'migrate') {
    const { runMigrations } = await import('./engines/storage/migrate.ts');
    const { applied } = await runMigrations(config.storage, logger);
    logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'database already up to date');
    endPromptly();
    return;
  }

  let server;
  // A worker of `serve --workers N`: the primary's TLS ticket keys, so a ticket works on every worker.
  const ticketKeys = cluster.isWorker ? process.env[TICKET_KEYS_ENV] : undefined;
  delete process.env[TICKET_KEYS_ENV];
  try {
    server = await startServer(config, { logger, ...(ticketKeys ? { tlsTicketKeys: Buffer.from(ticketKeys, 'base64') } : {}) });
  } catch (e) {
    if (e instanceof ConfigError) configError(e);
    logger.fatal({ err: e }, 'lamassu failed to start');
    process.exit(1);
  }
  const running = server;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    running.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (cluster.isWorker) {
    // Without its primary nobody would stop this worker.
    process.once('disconnect', () => stop('primary gone'));
    process.send!(READY_MESSAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`lamassu: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
