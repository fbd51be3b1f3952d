/**
 * The CLI's failures and the exit codes scripts can rely on (docs/cli.md):
 * 0 done, 1 the server refused (its `{code, message}` is printed), 2 bad usage or configuration,
 * 3 the server could not be reached (connection refused, DNS, TLS trust).
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Bad flags, missing files, no token: nothing was sent. */
export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** The server answered with an error; `code` is its stable error code (docs/errors.md). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail} (HTTP ${status})`, EXIT.refused);
  }
}

/** No answer at all: connection refused, unknown host, TLS verification failed, timeout. */
export class UnreachableError extends CliError {
  constructor(url: string, cause: string) {
    super(`cannot reach ${url}: ${cause}`, EXIT.unreachable);
  }
}
