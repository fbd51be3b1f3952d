/**
 * Email bodies from templates an operator can replace: `email-subject.txt`, `email.txt` and `email.html`
 * in the templates directory (LAMASSU_ALERTS_TEMPLATES_DIR); a file missing there comes from the defaults
 * shipped in templates/alerts/. `{{name}}` inserts a value (HTML-escaped in email.html), `{{{name}}}` inserts
 * it as is. Names: type, id, source, subject, time, actor, channel_name, data_json, facts_text, facts_html.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventFacts } from '../../domain/alerts/event-facts.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';

/** templates/alerts at the package root: the same two levels up from src/engines/notify and dist/engines/notify. */
export const DEFAULT_TEMPLATES_DIR = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../templates/alerts');

const FILES = { subject: 'email-subject.txt', text: 'email.txt', html: 'email.html' } as const;

export type EmailTemplates = Record<keyof typeof FILES, string>;

export async function loadEmailTemplates(dir?: string): Promise<EmailTemplates> {
  const read = async (file: string) => {
    if (dir) {
      const own = await readFile(path.join(dir, file), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw new Error(`cannot read alert template ${path.join(dir, file)}: ${e.code ?? e.message}`);
      });
      if (own !== undefined) return own;
    }
    return readFile(path.join(DEFAULT_TEMPLATES_DIR, file), 'utf8');
  };
  return { subject: await read(FILES.subject), text: await read(FILES.text), html: await read(FILES.html) };
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export function templateValues(event: CloudEvent, channelName: string): Record<string, string> {
  const facts = eventFacts(event);
  return {
    type: event.type,
    id: event.id,
    source: event.source,
    subject: event.subject ?? '',
    time: event.time,
    actor: event.actor ?? '',
    channel_name: channelName,
    data_json: JSON.stringify(event.data ?? null, null, 2),
    facts_text: facts.map(([k, v]) => `${k}: ${v}`).join('\n'),
    facts_html: facts.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n'),
  };
}

export function render(template: string, values: Record<string, string>, escape: boolean): string {
  return template.replace(/\{\{\{\s*([a-z_]+)\s*\}\}\}|\{\{\s*([a-z_]+)\s*\}\}/g, (_, raw?: string, escaped?: string) => {
    if (raw !== undefined) return values[raw] ?? '';
    const v = values[escaped!] ?? '';
    return escape ? escapeHtml(v) : v;
  });
}

export function renderEmail(templates: EmailTemplates, event: CloudEvent, channelName: string) {
  const values = templateValues(event, channelName);
  return {
    // A subject is one line, whatever the template or the event holds.
    subject: render(templates.subject, values, false).replace(/[\r\n]+/g, ' ').trim(),
    text: render(templates.text, values, false),
    html: render(templates.html, values, true),
  };
}
