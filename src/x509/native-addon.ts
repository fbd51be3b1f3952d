/**
 * Loads one of the optional native addons under native/ (built by `npm install` when a C toolchain is
 * there). Absent, unloadable, or switched off with LAMASSU_NATIVE_CRYPTO=off: the caller gets the reason and
 * uses its node:crypto route instead.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { NamedCurve } from './public-key.ts';

/** How the addons number the curves. */
export const NATIVE_CURVE_CODE: Readonly<Record<NamedCurve, number>> = { 'P-256': 0, 'P-384': 1, 'P-521': 2 };

export type AddonLoad<T> = { addon: T; reason?: undefined } | { addon?: undefined; reason: string };

/** native/<name>/build/Release/<name with underscores>.node; src/x509 and dist/x509 are both two levels below the package root. */
export function loadNativeAddon<T>(name: string): AddonLoad<T> {
  if (process.env.LAMASSU_NATIVE_CRYPTO === 'off') return { reason: 'switched off by LAMASSU_NATIVE_CRYPTO=off' };
  const file = path.resolve(import.meta.dirname, '..', '..', 'native', name, 'build', 'Release', `${name.replace(/-/g, '_')}.node`);
  try {
    return { addon: createRequire(import.meta.url)(file) as T };
  } catch (e) {
    return { reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
}
