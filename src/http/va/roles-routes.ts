/**
 * VA settings per CA: GET/PUT /api/va/v1/roles/{ca id or SKI}, admin API (bearer auth). Lamassu keys roles by
 * the CA's subject key identifier (hex), we by CA id: both address the same role, and both are in the answer.
 * Durations as Lamassu writes them.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { formatDuration, parseDuration } from '../../domain/ca/duration.ts';
import type { CrlMeta } from '../../domain/va/crl-record.ts';
import type { VaRole, VaRoleSettings } from '../../domain/va/va-role.ts';
import type { VaService } from '../../services/va/va-service.ts';
import { ErrorBody } from '../errors.ts';

const Duration = Type.String({ minLength: 1, maxLength: 40, description: 'Lamassu duration, e.g. "7d", "6d23h", "30m"' });
const opt = <T extends Parameters<typeof Type.Optional>[0]>(t: T) => Type.Optional(t);

const ScheduleJson = Type.Object({ validity: Duration, refresh_interval: Duration });
const RoleSettingsJson = Type.Object({
  crl_options: Type.Object({ validity: Duration, refresh_interval: Duration, regenerate_on_revoke: Type.Boolean() }),
  delta_crl_options: Type.Object({ enabled: Type.Boolean(), validity: Duration, refresh_interval: Duration }),
  ocsp_options: Type.Object({ validity: Duration, signer: Type.Union([Type.Literal('CA'), Type.Literal('DELEGATED')]) }),
});
const PutBody = Type.Object(
  {
    crl_options: opt(Type.Object({ validity: opt(Duration), refresh_interval: opt(Duration), regenerate_on_revoke: opt(Type.Boolean()) }, { additionalProperties: false })),
    delta_crl_options: opt(Type.Object({ enabled: opt(Type.Boolean()), validity: opt(Duration), refresh_interval: opt(Duration) }, { additionalProperties: false })),
    ocsp_options: opt(
      Type.Object({ validity: opt(Duration), signer: opt(Type.Union([Type.Literal('CA'), Type.Literal('DELEGATED')])) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
const LatestCrl = Type.Object({ version: Type.Integer(), valid_from: Type.String(), valid_until: Type.String() });
const RoleJson = Type.Object({
  ca_id: Type.String(),
  ca_ski: Type.String({ description: "the CA's subject key identifier, hex: Lamassu's key of the role" }),
  ...RoleSettingsJson.properties,
  latest_crl: Type.Union([LatestCrl, Type.Null()]),
  latest_delta_crl: Type.Union([LatestCrl, Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const Params = Type.Object({ caId: Type.String({ minLength: 1, maxLength: 128, description: 'CA id, or its subject key identifier in hex' }) });

const schedule = (s: { validityMs: number; refreshIntervalMs: number }): Static<typeof ScheduleJson> => ({
  validity: formatDuration(s.validityMs),
  refresh_interval: formatDuration(s.refreshIntervalMs),
});
const latest = (m: CrlMeta | undefined) =>
  m ? { version: m.number, valid_from: m.thisUpdate.toISOString(), valid_until: m.nextUpdate.toISOString() } : null;

function roleJson(role: VaRole, ski: string, full: CrlMeta | undefined, delta: CrlMeta | undefined): Static<typeof RoleJson> {
  const s = role.settings;
  return {
    ca_id: role.caId,
    ca_ski: ski,
    crl_options: { ...schedule(s.crl), regenerate_on_revoke: s.crl.regenerateOnRevoke },
    delta_crl_options: { enabled: s.delta.enabled, ...schedule(s.delta) },
    ocsp_options: { validity: formatDuration(s.ocsp.validityMs), signer: s.ocsp.signer },
    latest_crl: latest(full),
    latest_delta_crl: latest(delta),
    created_at: role.createdAt.toISOString(),
    updated_at: role.updatedAt.toISOString(),
  };
}

const ms = (text: string | undefined, fallback: number) => (text === undefined ? fallback : parseDuration(text));

/** Applies the fields the body carries onto the current settings. */
function merge(s: VaRoleSettings, b: Static<typeof PutBody>): VaRoleSettings {
  return {
    crl: {
      validityMs: ms(b.crl_options?.validity, s.crl.validityMs),
      refreshIntervalMs: ms(b.crl_options?.refresh_interval, s.crl.refreshIntervalMs),
      regenerateOnRevoke: b.crl_options?.regenerate_on_revoke ?? s.crl.regenerateOnRevoke,
    },
    delta: {
      enabled: b.delta_crl_options?.enabled ?? s.delta.enabled,
      validityMs: ms(b.delta_crl_options?.validity, s.delta.validityMs),
      refreshIntervalMs: ms(b.delta_crl_options?.refresh_interval, s.delta.refreshIntervalMs),
    },
    ocsp: { validityMs: ms(b.ocsp_options?.validity, s.ocsp.validityMs), signer: b.ocsp_options?.signer ?? s.ocsp.signer },
  };
}

export const rolesRoutes =
  (va: VaService, crls: { meta(caId: string, kind: 'full' | 'delta'): Promise<CrlMeta | undefined> }): FastifyPluginAsync =>
  async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const respond = async (role: VaRole, ski: string) => roleJson(role, ski, await crls.meta(role.caId, 'full'), await crls.meta(role.caId, 'delta'));
    const errors = { 400: ErrorBody, 404: ErrorBody };
    app.get(
      '/roles/:caId',
      { config: { access: 'read' }, schema: { tags: ['va'], summary: "A CA's VA settings and latest CRLs", params: Params, response: { 200: RoleJson, ...errors } } },
      async (request) => {
        const ca = await va.crls.resolveCa(request.params.caId);
        return respond(await va.roles.get(ca.id), ca.subjectKeyId);
      },
    );
    app.put(
      '/roles/:caId',
      {
        config: { access: 'write' },
        schema: { tags: ['va'], summary: "Change a CA's VA settings (fields left out keep their value)", params: Params, body: PutBody, response: { 200: RoleJson, ...errors } },
      },
      async (request) => {
        const ca = await va.crls.resolveCa(request.params.caId);
        const current = await va.roles.get(ca.id);
        const role = await va.roles.put(ca.id, merge(current.settings, request.body));
        // A switch to delta CRLs must show in the next full CRL's Freshest CRL pointer.
        if (role.settings.delta.enabled !== current.settings.delta.enabled) await va.crls.publish(role.caId, 'full');
        return respond(role, ca.subjectKeyId);
      },
    );
  };
