/** Builds CloudEvents 1.0 envelopes for the event bus, with time and id from ports so tests can fix them. */
import type { Clock } from './ports/clock.ts';
import type { CloudEvent } from './ports/event-bus.ts';
import type { RandomSource } from './ports/id-generator.ts';

/**
 * `type` is the event key ("certificate.status.update"), `source` the emitting service ("lamassu/ca"),
 * `subject` the resource id (undefined when there is none), `actor` who caused it (token subject,
 * client-certificate CN, or "system").
 */
export function newEvent<T>(
  type: string,
  source: string,
  subject: string | undefined,
  data: T,
  actor: string,
  clock: Clock,
  random: RandomSource,
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: random.uuid(),
    source,
    type,
    time: clock.now().toISOString(),
    ...(subject === undefined ? {} : { subject }),
    datacontenttype: 'application/json',
    data,
    actor,
  };
}
