/**
 * Keeps the HTTPS listener's certificate current while the server runs: the generated certificate is
 * re-issued ahead of expiry, the operator's files are re-read (e.g. after certbot replaced them), and a
 * changed certificate is swapped in for new connections without dropping those already open.
 */
import type { Logger } from '../../domain/ports/logger.ts';
import type { TlsMaterial } from '../build-https-app.ts';
import { currentServerTls, SERVER_RENEW_BEFORE, type ServerTlsOptions } from './server-tls.ts';

const SECOND = 1000;
const HOUR = 3600 * SECOND;

/** Often enough that a renewal falls well inside the renew-before window: a tenth of it, between 1 s and 1 h. */
export const renewalCheckInterval = (renewBeforeMs: number): number => Math.min(HOUR, Math.max(SECOND, Math.floor(renewBeforeMs / 10)));

export class ServerTlsRenewal {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly opts: ServerTlsOptions,
    private current: TlsMaterial,
    /** Installs new material on the listener. */
    private readonly apply: (material: TlsMaterial) => void,
  ) {}

  start(): void {
    const every = renewalCheckInterval(this.opts.renewBeforeMs ?? SERVER_RENEW_BEFORE);
    this.timer = setInterval(() => void this.check(), every);
    this.timer.unref();
  }

  /** One check; a failure (unreadable file, key that does not match) keeps the current certificate. */
  check(): Promise<void> {
    // A slow issuance must not overlap the next tick.
    this.running ??= this.renew().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async renew(): Promise<void> {
    const log: Logger = this.opts.logger;
    try {
      const next = await currentServerTls(this.opts);
      if (next.cert === this.current.cert && next.key === this.current.key) return;
      this.apply(next);
      this.current = next;
      log.info({ source: this.opts.certFile ?? 'generated' }, 'TLS server certificate replaced; new connections use it');
    } catch (err) {
      log.warn({ err }, 'TLS server certificate check failed; keeping the current certificate');
    }
  }
}
