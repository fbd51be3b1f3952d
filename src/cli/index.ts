/**
 * `lamassu <noun> <verb>`: admin commands over the REST API of a running server (docs/cli.md).
 * Returns the exit code: 0 done, 1 refused by the server, 2 bad usage or configuration, 3 unreachable.
 */
import { Command, CommanderError } from 'commander';
import { bulkCommand } from './bulk.ts';
import { caCommand } from './ca.ts';
import { certCommand } from './cert.ts';
import { deviceGroupCommand } from './device-group.ts';
import { deviceCommand } from './device.ts';
import { dmsCommand } from './dms.ts';
import { ApiError, CliError, EXIT } from './errors.ts';
import { estCommand } from './est.ts';
import { kmsCommand } from './kms.ts';
import { profileCommand } from './profile.ts';
import { crlCommand, ocspCommand } from './va.ts';

export function cliProgram(): Command {
  const program = new Command('lamassu')
    .description('Lamassu PKI admin commands over the REST API of a running `lamassu serve`')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage and examples)')
    .option('--url <url>', 'HTTPS base URL of the server (LAMASSU_URL; default https://127.0.0.1:$LAMASSU_HTTPS_PORT or :8443)')
    .option('--http-url <url>', 'plain-HTTP base URL for OCSP and CRLs (LAMASSU_HTTP_URL; default the --url host on $LAMASSU_HTTP_PORT or :8080)')
    .option('--token <token>', 'admin API token (LAMASSU_TOKEN; default <data-dir>/admin-token)')
    .option('--cacert <file>', "CA to trust for HTTPS (LAMASSU_CACERT; default <data-dir>/tls/ca.pem)")
    .option('--data-dir <dir>', 'data directory of a local server, for the defaults above (LAMASSU_DATA_DIR; default ./lamassu-data)')
    .option('--json', 'print JSON for scripts instead of tables')
    .addHelpText(
      'after',
      `
Exit codes: 0 done; 1 the server refused (its error code and message are printed); 2 bad usage or
configuration; 3 the server could not be reached (connection, DNS, TLS trust). See docs/cli.md.`,
    );
  for (const noun of [caCommand(), certCommand(), profileCommand(), crlCommand(), ocspCommand(), dmsCommand(), deviceCommand(), deviceGroupCommand(), estCommand(), bulkCommand(), kmsCommand()]) {
    program.addCommand(noun);
  }
  // addCommand does not pass settings down: every level exits through us and shows the global options.
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureHelp({ showGlobalOptions: true }).showHelpAfterError('(add --help for usage and examples)');
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await cliProgram().parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version asked for: success; anything commander refused (unknown option, missing argument): usage.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof ApiError && argv.includes('--json')) {
      // Scripts asked for JSON: the server's error as it sent it, on stderr.
      process.stderr.write(`${JSON.stringify({ status: e.status, code: e.code, message: e.detail })}\n`);
      return e.exitCode;
    }
    if (e instanceof CliError) {
      process.stderr.write(`lamassu: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
