/** The facts of an event as name/value lines, for emails and cards: the envelope first, then the data's fields. */
import type { CloudEvent } from '../ports/event-bus.ts';

const MAX_FACTS = 24;
const MAX_VALUE = 300;

const shown = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
};

export function eventFacts(event: CloudEvent): [string, string][] {
  const facts: [string, string][] = [['Event', event.type]];
  if (event.subject !== undefined) facts.push(['Subject', event.subject]);
  facts.push(['Time', event.time], ['Source', event.source]);
  if (event.actor !== undefined) facts.push(['Actor', event.actor]);
  facts.push(['Event id', event.id]);
  const data = event.data;
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) if (v !== null && v !== undefined) facts.push([k, shown(v)]);
  } else if (data !== undefined) {
    facts.push(['data', shown(data)]);
  }
  return facts.slice(0, MAX_FACTS);
}
