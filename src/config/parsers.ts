/**
 * Value parsers for settings. A value comes as a string from the environment or as any YAML value from
 * the config file; a parser returns the typed value or throws InvalidValue with a message that the
 * loader prefixes with the setting's name.
 */
import net from 'node:net';
import { parseDuration } from '../domain/ca/duration.ts';
import { isDomainError } from '../domain/errors.ts';

export class InvalidValue extends Error {}

export type Parser<T> = (raw: unknown) => T;

const show = (raw: unknown) => JSON.stringify(raw) ?? String(raw);

export const text: Parser<string> = (raw) => {
  if (typeof raw === 'number') return String(raw);
  if (typeof raw !== 'string' || raw.trim() === '') throw new InvalidValue(`must be a non-empty string, got ${show(raw)}`);
  return raw.trim();
};

/** 0 asks the operating system for any free port (tests). */
export const port: Parser<number> = (raw) => {
  const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  const n = /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new InvalidValue(`must be a port number, got ${show(raw)}`);
  return n;
};

export const oneOf =
  <const T extends string>(values: readonly T[]): Parser<T> =>
  (raw) => {
    const s = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    if (!values.includes(s as T)) throw new InvalidValue(`must be one of ${values.join(', ')}, got ${show(raw)}`);
    return s as T;
  };

/** true/false (also YAML booleans, 1/0, yes/no). */
export const flag: Parser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return raw;
  const s = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim().toLowerCase() : '';
  if (['true', '1', 'yes'].includes(s)) return true;
  if (['false', '0', 'no'].includes(s)) return false;
  throw new InvalidValue(`must be true or false, got ${show(raw)}`);
};

/** A comma-separated string (environment) or a YAML list of strings; never empty. */
export const list =
  <T>(item: Parser<T>): Parser<T[]> =>
  (raw) => {
    const parts = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : undefined;
    if (!parts) throw new InvalidValue(`must be a comma-separated list, got ${show(raw)}`);
    const items = parts.filter((p) => !(typeof p === 'string' && p.trim() === '')).map(item);
    if (items.length === 0) throw new InvalidValue(`must list at least one value, got ${show(raw)}`);
    return items;
  };

export const httpUrl: Parser<string> = (raw) => {
  const s = text(raw);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new InvalidValue(`must be an http(s) URL, got ${show(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidValue(`must be an http(s) URL, got ${show(raw)}`);
  return s.replace(/\/+$/, '');
};

export const amqpUrl: Parser<string> = (raw) => {
  const s = text(raw);
  if (!/^amqps?:\/\/[^/]/.test(s)) throw new InvalidValue('must be an amqp:// or amqps:// URL');
  return s;
};

export const postgresUrl: Parser<string> = (raw) => {
  const s = text(raw);
  if (!/^postgres(ql)?:\/\//.test(s)) throw new InvalidValue('must be a postgres:// URL');
  return s;
};

const dnsName = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A DNS name or an IP address, as it goes into a certificate's subjectAltName. */
export const hostname: Parser<string> = (raw) => {
  const s = text(raw);
  if (net.isIP(s) === 0 && !dnsName.test(s)) throw new InvalidValue(`must be a DNS name or IP address, got ${show(raw)}`);
  return s.toLowerCase();
};

export const listenAddress: Parser<string> = (raw) => {
  const s = text(raw);
  if (net.isIP(s) === 0 && s !== 'localhost') throw new InvalidValue(`must be an IP address, got ${show(raw)}`);
  return s;
};

/** Ids name engines in the database; keep them simple and stable. */
/** An AMQP name prefix: what RabbitMQ takes in exchange and queue names, short enough for the suffixes. */
export const amqpNamePrefix: Parser<string> = (raw) => {
  const s = text(raw);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(s)) {
    throw new InvalidValue(`must be letters, digits, ".", "-" or "_" (at most 100), got ${show(raw)}`);
  }
  return s;
};

export const identifier: Parser<string> = (raw) => {
  const s = text(raw);
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(s)) {
    throw new InvalidValue(`must be letters, digits, "-" or "_" (at most 63), got ${show(raw)}`);
  }
  return s;
};

/** A Lamassu duration such as "30d", "1h" or "1y2w" (units ms s m h d w y), in milliseconds. */
export const duration: Parser<number> = (raw) => {
  const s = text(raw);
  try {
    return parseDuration(s);
  } catch (e) {
    if (isDomainError(e)) throw new InvalidValue(`must be a duration like "30d" or "1h" (units ms s m h d w y), got ${show(raw)}`);
    throw e;
  }
};

/** A whole number in [min, max]. */
export const integerIn =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    const n = /^-?\d{1,9}$/.test(s) ? Number(s) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidValue(`must be a whole number from ${min} to ${max}, got ${show(raw)}`);
    return n;
  };

/** A duration of at least `minMs` (e.g. a schedule that must not spin). */
export const durationAtLeast =
  (minMs: number, shown: string): Parser<number> =>
  (raw) => {
    const ms = duration(raw);
    if (ms < minMs) throw new InvalidValue(`must be at least ${shown}, got ${show(raw)}`);
    return ms;
  };
