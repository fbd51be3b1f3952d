/**
 * `lamassu bulk revoke|import`: long runs with a progress bar and an ETA, resumable. Each item done is
 * appended to a state file at once, so an interrupted run (Ctrl-C, a crash, a lost connection) started
 * again with the same state file does only what is left.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { fromPemAll, toPem } from '../x509/pem.ts';
import type { CertificateJson } from './api-types.ts';
import { normalSerial, setStatus } from './cert.ts';
import { examples, run, type Ctx } from './context.ts';
import { ApiError, CliError, EXIT, UnreachableError, usageError } from './errors.ts';
import { parsePositiveInt, readInput, REVOCATION_REASONS } from './options.ts';
import { note, printJson, printRecord, printTable } from './output.ts';

interface Item {
  /** What the state file records. */
  key: string;
  label: string;
}

type Outcome = 'done' | 'already';

interface Failure {
  item: string;
  code: string;
  message: string;
}

interface BulkReport {
  total: number;
  skipped_from_state: number;
  done: number;
  already: number;
  failed: Failure[];
  interrupted: boolean;
  state_file: string;
}

function readState(file: string): Set<string> {
  if (!existsSync(file)) return new Set();
  return new Set(readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean));
}

/** Errors that would fail every item the same way: stop instead of hammering on. */
const fatal = (e: unknown) => e instanceof UnreachableError || (e instanceof ApiError && (e.status === 401 || e.status === 403));

async function runBulk(items: Item[], stateFile: string, concurrency: number, work: (item: Item) => Promise<Outcome>, showProgress: boolean): Promise<BulkReport> {
  const state = readState(stateFile);
  const todo = items.filter((i) => !state.has(i.key));
  const report: BulkReport = { total: items.length, skipped_from_state: items.length - todo.length, done: 0, already: 0, failed: [], interrupted: false, state_file: stateFile };
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted} | failed {failed}', stream: process.stderr, hideCursor: true, etaBuffer: 50, noTTYOutput: false },
    cliProgress.Presets.shades_classic,
  );
  if (showProgress) bar.start(items.length, report.skipped_from_state, { failed: 0, rate: '-' });
  const started = performance.now();
  let stopping = false;
  let fatalError: unknown;
  const onSignal = () => {
    stopping = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let next = 0;
  const worker = async () => {
    while (!stopping && next < todo.length) {
      const item = todo[next++]!;
      try {
        const outcome = await work(item);
        appendFileSync(stateFile, `${item.key}\n`);
        if (outcome === 'done') report.done++;
        else report.already++;
      } catch (e) {
        if (fatal(e)) {
          fatalError ??= e;
          stopping = true;
          return;
        }
        const api = e instanceof ApiError ? e : undefined;
        report.failed.push({ item: item.label, code: api?.code ?? 'ERROR', message: api ? api.detail : (e as Error).message });
      }
      if (showProgress) {
        const handled = report.done + report.already + report.failed.length;
        bar.update(report.skipped_from_state + handled, { failed: report.failed.length, rate: (handled / ((performance.now() - started) / 1000)).toFixed(1) });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
  } finally {
    if (showProgress) bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (fatalError) {
    note(`stopped after ${report.done + report.already} items; run the same command again to resume (state: ${stateFile})`);
    throw fatalError;
  }
  report.interrupted = stopping && next < todo.length;
  return report;
}

function finish(ctx: Ctx, report: BulkReport, verb: string): void {
  if (ctx.json) printJson(report);
  else {
    printRecord({ total: report.total, 'done before (state file)': report.skipped_from_state, [verb]: report.done, 'already so': report.already, failed: report.failed.length, 'state file': report.state_file });
    if (report.failed.length > 0) printTable(report.failed, [{ header: 'ITEM', value: (f) => f.item }, { header: 'CODE', value: (f) => f.code }, { header: 'MESSAGE', value: (f) => f.message }]);
  }
  if (report.interrupted) throw new CliError(`interrupted; run the same command again to resume (state: ${report.state_file})`, 130);
  if (report.failed.length > 0) throw new CliError(`${report.failed.length} item(s) failed; run the same command again to retry them`, EXIT.refused);
}

/** Serials, one a line; blank lines and # comments ignored; duplicates once. */
export function serialsOf(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  return [...new Set(lines.map(normalSerial))];
}

/** Certificates of a PEM bundle, or of every .pem/.crt/.cer/.der file of a directory. */
function certificatesAt(target: string): { der: Uint8Array; source: string }[] {
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch (e) {
    throw usageError(`cannot read ${target}: ${(e as NodeJS.ErrnoException).code}`);
  }
  const files = isDir
    ? readdirSync(target)
        .filter((f) => /\.(pem|crt|cer|der)$/i.test(f))
        .sort()
        .map((f) => path.join(target, f))
    : [target];
  const out: { der: Uint8Array; source: string }[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    const text = bytes.toString('latin1');
    if (text.includes('-----BEGIN')) {
      fromPemAll(text)
        .filter((b) => b.label === 'CERTIFICATE')
        .forEach((b, i) => out.push({ der: b.der, source: `${path.basename(file)}#${i + 1}` }));
    } else out.push({ der: new Uint8Array(bytes), source: path.basename(file) });
  }
  return out;
}

interface BulkOptions {
  state?: string;
  concurrency: number;
  progress: boolean;
}

export function bulkCommand(): Command {
  const bulk = new Command('bulk').description('long runs with a progress bar, resumable: revoke many certificates, import many');

  bulk
    .command('revoke')
    .description('revoke every certificate of a file of serial numbers (one a line, # comments); resumable')
    .argument('<file>', 'serial numbers ("-": stdin)')
    .addOption(new Option('--reason <reason>', 'RFC 5280 reason').choices(REVOCATION_REASONS).default('Unspecified'))
    .option('--ca <id>', 'issuer CA, when several CAs used the serials')
    .option('--state <file>', 'state file of serials done (default: <file>.done)')
    .option('--concurrency <n>', 'requests in flight', parsePositiveInt, 4)
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      examples(
        'lamassu cert list --ca line-7 --json | jq -r ".[].serial_number" > line-7.serials',
        'lamassu bulk revoke line-7.serials --reason CessationOfOperation',
        '# interrupted (Ctrl-C, crash)? the same command resumes where it stopped:',
        'lamassu bulk revoke line-7.serials --reason CessationOfOperation',
      ),
    )
    .action(
      run(async (ctx, file: string, o: BulkOptions & { reason: string; ca?: string }) => {
        if (file === '-' && !o.state) throw usageError('reading serials from stdin needs --state');
        const serials = serialsOf(readInput(file, 'serial list'));
        const report = await runBulk(
          serials.map((s) => ({ key: s, label: s })),
          o.state ?? `${file}.done`,
          o.concurrency,
          async (item) => {
            try {
              await setStatus(ctx, item.key, o.ca, { status: 'REVOKED', revocation_reason: o.reason });
              return 'done';
            } catch (e) {
              if (!(e instanceof ApiError && e.status === 409)) throw e;
              const current = await ctx.api.json<CertificateJson>('GET', `/api/ca/v1/certificates/${item.key}${o.ca ? `?ca_id=${encodeURIComponent(o.ca)}` : ''}`);
              if (current.status === 'REVOKED' && current.revocation_reason !== 'CertificateHold') return 'already';
              throw e;
            }
          },
          o.progress && !ctx.json,
        );
        finish(ctx, report, 'revoked');
      }),
    );

  bulk
    .command('import')
    .description('track certificates issued elsewhere: a PEM bundle, or a directory of .pem/.crt/.cer/.der files; resumable')
    .argument('<path>', 'PEM bundle or directory')
    .option('--state <file>', 'state file of certificates done, by SHA-256 fingerprint (default: <path>.done, or <dir>/.lamassu-import.done)')
    .option('--concurrency <n>', 'requests in flight', parsePositiveInt, 4)
    .option('--no-progress', 'no progress bar')
    .addHelpText('after', examples('lamassu bulk import legacy-devices/', 'lamassu bulk import fleet.pem --json'))
    .action(
      run(async (ctx, target: string, o: BulkOptions) => {
        const certs = certificatesAt(target);
        const byKey = new Map(certs.map((c) => [createHash('sha256').update(c.der).digest('hex'), c]));
        const defaultState = statSync(target).isDirectory() ? path.join(target, '.lamassu-import.done') : `${target}.done`;
        const report = await runBulk(
          [...byKey].map(([key, c]) => ({ key, label: c.source })),
          o.state ?? defaultState,
          o.concurrency,
          async (item) => {
            try {
              await ctx.api.json('POST', '/api/ca/v1/certificates/import', { certificate: toPem(byKey.get(item.key)!.der, 'CERTIFICATE') });
              return 'done';
            } catch (e) {
              if (e instanceof ApiError && e.code === 'CERTIFICATE_SERIAL_EXISTS') return 'already';
              throw e;
            }
          },
          o.progress && !ctx.json,
        );
        finish(ctx, report, 'imported');
      }),
    );

  return bulk;
}
