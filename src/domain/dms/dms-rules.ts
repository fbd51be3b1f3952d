/** Rules a DMS definition must satisfy whatever the CAs say; the service adds the checks that need the CA service. */
import { invalid } from '../errors.ts';
import { idPattern } from '../id-limit.ts';
import type { KeySpec } from '../ports/key-engine.ts';
import type { DmsSettings } from './dms.ts';

/** Lamassu-style ids: letters, digits, '-', '_', '.'; no '/' so that an id is one EST path segment. */
const ID = idPattern();

export function checkDmsId(id: string): void {
  if (!ID.test(id)) {
    throw invalid('DMS_ID_INVALID', 'DMS id must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}

const settingsInvalid = (message: string) => invalid('DMS_SETTINGS_INVALID', message);

const KEY_SIZES: Record<KeySpec['type'], number[]> = { RSA: [2048, 3072, 4096], ECDSA: [256, 384, 521], ED25519: [256] };
const sameKey = (a: KeySpec, b: KeySpec) => a.type === b.type && a.bits === b.bits;

export function checkKeySpec(spec: KeySpec): void {
  if (!KEY_SIZES[spec.type]?.includes(spec.bits)) {
    throw settingsInvalid(`server keygen key ${spec.type} ${spec.bits} is not one of RSA 2048/3072/4096, ECDSA 256/384/521, ED25519 256`);
  }
}

/** Checks the settings against themselves and the authorized CA list. */
export function checkDmsSettings(settings: DmsSettings, authorizedCaIds: string[]): void {
  const e = settings.enrollment;
  if (!authorizedCaIds.includes(e.enrollmentCaId)) {
    throw invalid('DMS_ENROLLMENT_CA_NOT_AUTHORIZED', `enrollment CA "${e.enrollmentCaId}" must be one of authorized_cas`, {
      enrollmentCa: e.enrollmentCaId,
    });
  }
  if (new Set(authorizedCaIds).size !== authorizedCaIds.length) throw settingsInvalid('authorized_cas lists a CA twice');
  switch (e.authMode) {
    case 'CLIENT_CERTIFICATE':
      if (e.clientCertificate.validationCaIds.length === 0) {
        throw settingsInvalid('auth mode CLIENT_CERTIFICATE needs at least one validation CA');
      }
      break;
    case 'HTTP_BASIC':
      if (!e.httpBasic || e.httpBasic.username === '' || e.httpBasic.username.includes(':')) {
        throw settingsInvalid('auth mode HTTP_BASIC needs a username (without ":") and a password');
      }
      break;
    case 'EXTERNAL_WEBHOOK': {
      const url = e.webhook?.url;
      if (!url || !/^https?:\/\//.test(url) || !URL.canParse(url)) throw settingsInvalid('auth mode EXTERNAL_WEBHOOK needs an http(s) URL');
      if (!(e.webhook!.timeoutMs >= 100 && e.webhook!.timeoutMs <= 60_000)) throw settingsInvalid('webhook timeout must be 100ms..60s');
      break;
    }
  }
  const r = settings.reenrollment;
  if (!(Number.isSafeInteger(r.windowMs) && r.windowMs > 0)) throw settingsInvalid('reenrollment_delta must be a positive duration');
  const k = settings.serverKeygen;
  for (const spec of k.allowedKeys) checkKeySpec(spec);
  checkKeySpec(k.defaultKey);
  if (k.allowedKeys.length > 0 && !k.allowedKeys.some((a) => sameKey(a, k.defaultKey))) {
    throw settingsInvalid('the server keygen default key must be one of the allowed keys');
  }
  for (const tag of e.deviceProfile.tags) if (typeof tag !== 'string' || tag === '') throw settingsInvalid('device profile tags must be non-empty strings');
}

/** Whether the DMS lets the server generate a key of `spec`. */
export function serverKeyAllowed(settings: DmsSettings, spec: KeySpec): boolean {
  const k = settings.serverKeygen;
  return k.enabled && (k.allowedKeys.length === 0 || k.allowedKeys.some((a) => sameKey(a, spec)));
}

/** Every CA id the settings refer to, for existence and "not internal" checks. */
export function referencedCaIds(authorizedCaIds: string[], settings: DmsSettings): string[] {
  return [
    ...new Set([
      ...authorizedCaIds,
      ...settings.enrollment.clientCertificate.validationCaIds,
      ...settings.reenrollment.additionalValidationCaIds,
      ...settings.caDistribution.managedCaIds,
    ]),
  ];
}

/** Equal-time string comparison: its duration does not depend on where the strings differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
