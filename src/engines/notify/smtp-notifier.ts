/**
 * EMAIL channel over SMTP (nodemailer, pooled connections). SMTP 4xx replies and connection trouble are
 * worth another try; 5xx replies (unknown mailbox, refused credentials) are final.
 */
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError } from '../../domain/alerts/delivery.ts';
import type { ChannelNotifier } from '../../domain/alerts/ports.ts';
import type { Subscription } from '../../domain/alerts/subscription.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { renderEmail, type EmailTemplates } from './email-templates.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  /** `starttls`: plain connection upgraded by STARTTLS, which is then required; `tls`: TLS from the first byte; `none`: never TLS. */
  security: 'starttls' | 'tls' | 'none';
  username?: string;
  password?: string;
  from: string;
  /** PEM file of the CA(s) that signed the SMTP server's certificate, when it is not publicly trusted. */
  caFile?: string;
}

export class SmtpNotifier implements ChannelNotifier {
  private readonly transport: Transporter;

  constructor(
    private readonly settings: SmtpSettings,
    private readonly templates: EmailTemplates,
    opts: { timeoutMs: number; maxConnections: number },
  ) {
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: opts.maxConnections,
      host: settings.host,
      port: settings.port,
      secure: settings.security === 'tls',
      requireTLS: settings.security === 'starttls',
      ignoreTLS: settings.security === 'none',
      ...(settings.username ? { auth: { user: settings.username, pass: settings.password ?? '' } } : {}),
      ...(settings.caFile ? { tls: { ca: readFileSync(settings.caFile, 'utf8') } } : {}),
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
    });
  }

  async send(event: CloudEvent, subscription: Subscription): Promise<void> {
    const { channel } = subscription;
    if (channel.type !== 'EMAIL') throw new Error(`not an email subscription: ${subscription.id}`);
    const mail = renderEmail(this.templates, event, channel.name);
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        to: channel.config.email,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: { 'X-Lamassu-Event-Id': event.id, 'X-Lamassu-Event-Type': event.type },
      });
    } catch (e) {
      const err = e as Error & { responseCode?: number; code?: string; response?: string };
      if (typeof err.responseCode === 'number') {
        throw new DeliveryError(`SMTP ${err.responseCode}: ${(err.response ?? err.message).slice(0, 300)}`, err.responseCode < 500);
      }
      throw new DeliveryError(`SMTP ${err.code ?? 'error'}: ${err.message.slice(0, 300)}`, true);
    }
  }

  close(): void {
    this.transport.close();
  }
}
