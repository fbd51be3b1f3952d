/** Maps the DMS API's JSON to the domain and back. The HTTP Basic password never leaves. */
import { formatDelta, hasDeltas, parseExpiryDeltas, type ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { parseDuration, formatDuration } from '../../domain/ca/duration.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import { invalid } from '../../domain/errors.ts';
import { toPem } from '../../x509/pem.ts';
import type { DmsSettingsInput } from '../../services/dms/dms-service.ts';
import type { DmsSettingsJson } from './dms-schemas.ts';

/** Lamassu carries certificates in JSON as base64 of the PEM. */
export const base64Pem = (der: Uint8Array, label = 'CERTIFICATE') => Buffer.from(toPem(der, label)).toString('base64');

/** A PEM, base64 of a PEM, or base64 DER as text for the CSR parser. */
export function unwrapPemField(field: string): string {
  const trimmed = field.trim();
  if (trimmed.startsWith('-----BEGIN')) return trimmed;
  const decoded = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('latin1');
  return decoded.startsWith('-----BEGIN') ? decoded : trimmed;
}

const durationField = (text: string, field: string) => {
  try {
    return parseDuration(text);
  } catch {
    throw invalid('DMS_SETTINGS_INVALID', `${field} "${text}" is not a duration like "30d"`);
  }
};

type LamassuWebhookJson = { name?: string; url?: string; config?: Record<string, unknown> };

/**
 * Lamassu's `external_webhook` ({name, url, config}) as our webhook. Only its unauthenticated form is
 * taken (config.auth_mode absent or NoAuth): calling a webhook without the authentication it was
 * configured with would fail, or worse, leak; keys, client secrets and certificates are never stored.
 */
function lamassuWebhook(w: LamassuWebhookJson | undefined) {
  if (!w || !w.url) return undefined;
  const config = w.config ?? {};
  const auth = config.auth_mode;
  if (auth !== undefined && auth !== 'NoAuth') {
    throw invalid('DMS_SETTINGS_INVALID', `external_webhook config.auth_mode ${JSON.stringify(String(auth)).slice(0, 40)} is not supported; use NoAuth`);
  }
  const kept: Record<string, string | number | boolean> = {};
  for (const k of ['auth_mode', 'validate_server_cert', 'log_level'] as const) {
    const v = config[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') kept[k] = v;
  }
  return { url: w.url, timeout: '10s', lamassu: { name: w.name ?? '', config: kept } };
}

export function settingsFromJson(s: DmsSettingsJson): DmsSettingsInput {
  const e = s.enrollment_settings;
  const est = e.est_rfc7030_settings;
  const lamassuHook = est.external_webhook_settings ? undefined : lamassuWebhook(est.external_webhook);
  const webhook = est.external_webhook_settings ?? lamassuHook;
  const r = s.reenrollment_settings;
  const k = s.server_keygen_settings;
  const d = s.ca_distribution_settings;
  return {
    enrollment: {
      enrollmentCaId: e.enrollment_ca,
      registrationMode: e.registration_mode,
      authMode: est.auth_mode,
      clientCertificate: {
        validationCaIds: est.client_certificate_settings.validation_cas,
        allowExpired: est.client_certificate_settings.allow_expired,
        ...(est.client_certificate_settings.chain_level_validation === undefined ? {} : { chainLevelValidation: est.client_certificate_settings.chain_level_validation }),
      },
      httpBasic: est.http_basic ? { username: est.http_basic.username, ...(est.http_basic.password === undefined ? {} : { password: est.http_basic.password }) } : null,
      webhook: webhook
        ? {
            url: webhook.url,
            timeoutMs: durationField(webhook.timeout, 'external_webhook_settings.timeout'),
            ...(lamassuHook ? { lamassu: lamassuHook.lamassu } : {}),
          }
        : null,
      verifyCsrSignature: e.verify_csr_signature,
      allowReplacement: e.enable_replaceable_enrollment,
      deviceIdSource: e.device_id_source,
      deviceProfile: {
        tags: e.device_provisioning_profile.tags,
        metadata: e.device_provisioning_profile.metadata,
        ...(e.device_provisioning_profile.icon === undefined ? {} : { icon: e.device_provisioning_profile.icon }),
        ...(e.device_provisioning_profile.icon_color === undefined ? {} : { iconColor: e.device_provisioning_profile.icon_color }),
      },
    },
    reenrollment: {
      windowMs: durationField(r.reenrollment_delta, 'reenrollment_delta'),
      allowExpired: r.enable_expired_renewal,
      revokeSuperseded: r.revoke_on_reenrollment,
      additionalValidationCaIds: r.additional_validation_cas,
      windowText: r.reenrollment_delta.trim(),
      // Kept as written for showing back; parsed and checked into `expiryDeltas` below (EXPIRY_DELTAS_INVALID).
      ...(r.preventive_delta == null ? {} : { preventiveDelta: r.preventive_delta.trim() }),
      ...(r.critical_delta == null ? {} : { criticalDelta: r.critical_delta.trim() }),
    },
    serverKeygen: { enabled: k.enabled, defaultKey: k.key, allowedKeys: k.allowed_keys },
    caDistribution: {
      includeEnrollmentCa: d.include_enrollment_ca,
      includeChain: d.include_chain,
      managedCaIds: d.managed_cas,
      ...(d.include_system_ca === undefined ? {} : { includeSystemCa: d.include_system_ca }),
    },
    issuanceProfileId: s.issuance_profile_id === '' ? null : s.issuance_profile_id,
    expiryDeltas: expiryDeltasOrNull(parseExpiryDeltas(r.preventive_delta, r.critical_delta)),
  };
}

const expiryDeltasOrNull = (d: ExpiryDeltas) => (hasDeltas(d) ? d : null);
const deltaText = (ms: number | null | undefined) => (ms == null ? null : formatDelta(ms));

export function dmsJson(dms: Dms) {
  const e = dms.settings.enrollment;
  const r = dms.settings.reenrollment;
  const k = dms.settings.serverKeygen;
  const d = dms.settings.caDistribution;
  return {
    id: dms.id,
    name: dms.name,
    metadata: dms.metadata,
    creation_ts: dms.createdAt.toISOString(),
    update_ts: dms.updatedAt.toISOString(),
    authorized_cas: dms.authorizedCaIds,
    certificate: dms.certificate && { serial_number: dms.certificate.serialNumber, issuer_ca_id: dms.certificate.issuerCaId },
    settings: {
      enrollment_settings: {
        enrollment_ca: e.enrollmentCaId,
        protocol: 'EST_RFC7030',
        registration_mode: e.registrationMode,
        est_rfc7030_settings: {
          auth_mode: e.authMode,
          client_certificate_settings: {
            validation_cas: e.clientCertificate.validationCaIds,
            chain_level_validation: e.clientCertificate.chainLevelValidation ?? -1,
            allow_expired: e.clientCertificate.allowExpired,
          },
          ...(e.httpBasic ? { http_basic: { username: e.httpBasic.username } } : {}),
          ...(e.webhook ? { external_webhook_settings: { url: e.webhook.url, timeout: formatDuration(e.webhook.timeoutMs) } } : {}),
          ...(e.webhook?.lamassu ? { external_webhook: { name: e.webhook.lamassu.name, url: e.webhook.url, config: e.webhook.lamassu.config } } : {}),
        },
        verify_csr_signature: e.verifyCsrSignature,
        enable_replaceable_enrollment: e.allowReplacement,
        device_id_source: e.deviceIdSource,
        device_provisioning_profile: { icon: e.deviceProfile.icon ?? '', icon_color: e.deviceProfile.iconColor ?? '', tags: e.deviceProfile.tags, metadata: e.deviceProfile.metadata },
      },
      reenrollment_settings: {
        reenrollment_delta: r.windowText ?? formatDuration(r.windowMs),
        enable_expired_renewal: r.allowExpired,
        revoke_on_reenrollment: r.revokeSuperseded,
        additional_validation_cas: r.additionalValidationCaIds,
        // As the client wrote them when it did; the stored deltas (what the sweep follows) otherwise.
        preventive_delta: r.preventiveDelta ?? deltaText(dms.settings.expiryDeltas?.preventiveMs),
        critical_delta: r.criticalDelta ?? deltaText(dms.settings.expiryDeltas?.criticalMs),
      },
      server_keygen_settings: { enabled: k.enabled, key: k.defaultKey, allowed_keys: k.allowedKeys },
      ca_distribution_settings: {
        include_system_ca: d.includeSystemCa ?? false,
        include_enrollment_ca: d.includeEnrollmentCa,
        include_chain: d.includeChain,
        managed_cas: d.managedCaIds,
      },
      issuance_profile_id: dms.settings.issuanceProfileId,
    },
  };
}

/** A certificate as the DMS API shows it: base64 PEM plus what callers branch on. */
export const certificateSummaryJson = (c: Certificate) => ({
  serial_number: c.serialNumber,
  issuer_ca_id: c.issuerCaId,
  status: c.status,
  valid_from: c.notBefore.toISOString(),
  valid_to: c.notAfter.toISOString(),
  revocation_reason: c.revocationReason,
  revocation_timestamp: c.revokedAt?.toISOString() ?? null,
  certificate: base64Pem(c.der),
});
