/** The CA service's REST API (Lamassu v3 resources); thin: decode, call the service, encode. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isCertificateStatus, parseStatusRequest, type CertificateStatus } from '../../domain/ca/certificate-status.ts';
import { CA_FILTER_FIELDS, CA_SORT_ALIASES } from '../../domain/ca/ca-repository.ts';
import { CERTIFICATE_FILTER_FIELDS, CERTIFICATE_SORT_ALIASES } from '../../domain/ca/certificate-repository.ts';
import { checkValidity } from '../../domain/ca/duration.ts';
import { invalid } from '../../domain/errors.ts';
import type { FieldFilter, FilterFields } from '../../domain/list-filter.ts';
import type { KeyType } from '../../domain/ports/key-engine.ts';
import type { ProfileChoice } from '../../services/ca/issue-certificate.ts';
import type { CaService } from '../../services/ca/ca-service.ts';
import type { StatsFilters } from '../../services/ca/get-stats.ts';
import { toPem } from '../../x509/pem.ts';
import { actorOf } from '../auth/identity.ts';
import { ErrorBody } from '../errors.ts';
import { FilterParam, filtersOf, pageJson, sortKeyOf } from '../list-query.ts';
import { METADATA_METHODS, MetadataBody, metadataChangeOf, metadataSummary } from '../metadata-body.ts';
import { base64Pem, caJson, certificateJson, durationMs, expirationDeltasFromJson, profileJson, settingsFromJson, unwrapBase64Pem, validityFromJson } from './ca-json.ts';
import {
  AboutToExpireBody,
  CaListQuery,
  CaSchema,
  CertificateListQuery,
  CertificateSchema,
  CreateCaBody,
  CreateCertificateBody,
  EngineSchema,
  engineJson,
  ExpiringPerWeekQuery,
  ExpiringPerWeekSchema,
  GeneratedCertificateSchema,
  IdParams,
  ImportCaBody,
  ReissueCaBody,
  ImportCertificateBody,
  listOf,
  ExpirationDeltasBody,
  ProfileInputSchema,
  ProfileSchema,
  SerialParams,
  SignBody,
  StatsSchema,
  StatusBody,
  SweepResultSchema,
  ValiditySchema,
  type ProfileInputJson,
  type ProfileSettingsJson,
} from './ca-schemas.ts';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** A new key of `type`/`bits`, or an existing key by `key_id` (whose type and bits, if given, must fit). */
function keyChoice(k: { type?: string; bits?: number; key_id?: string }) {
  const spec = k.type !== undefined && k.bits !== undefined ? { type: k.type as KeyType, bits: k.bits } : undefined;
  if (k.key_id !== undefined) return { keyId: k.key_id, ...(spec ? { keySpec: spec } : {}) };
  if (!spec) throw invalid('KEY_METADATA_INVALID', 'key_metadata needs type and bits, or the key_id of an existing key');
  return { keySpec: spec };
}
const date = (s: string | undefined) => (s === undefined ? undefined : new Date(s));

function statuses(text: string | undefined): CertificateStatus[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',');
  for (const s of list) if (!isCertificateStatus(s)) throw invalid('STATUS_INVALID', `unknown status "${s}"`);
  return list as CertificateStatus[];
}

function profileChoice(id: string | undefined, inline: ProfileSettingsJson | undefined): ProfileChoice {
  if (id !== undefined && inline !== undefined) throw invalid('PROFILE_AMBIGUOUS', 'give a profile id or an inline profile, not both');
  if (inline !== undefined) return { inline: settingsFromJson(inline) };
  return id !== undefined ? { profileId: id } : { caDefault: true };
}

/** Lamassu's profile for a new CA's own certificate: an id or inline, not both; an empty id is none. */
function ownProfileOf(id: string | undefined, inline: ProfileSettingsJson | undefined) {
  const choice = profileChoice(id === '' ? undefined : id, inline);
  if ('inline' in choice) return { ownProfile: { inline: choice.inline } };
  return 'profileId' in choice ? { ownProfile: { profileId: choice.profileId } } : {};
}

const profileInput = (b: ProfileInputJson) => ({
  name: b.name,
  ...(b.description === undefined ? {} : { description: b.description }),
  settings: {
    ...settingsFromJson(b),
    ...(b.expiration_deltas === undefined ? {} : { expirationDeltas: expirationDeltasFromJson(b.expiration_deltas) }),
  },
});

/** DER when the client asks for application/pkix-cert, PEM otherwise. */
function sendCertificate(request: FastifyRequest, reply: FastifyReply, der: Uint8Array) {
  if ((request.headers.accept ?? '').includes('application/pkix-cert')) {
    return reply.type('application/pkix-cert').send(Buffer.from(der));
  }
  return reply.type('application/x-pem-file').send(toPem(der, 'CERTIFICATE'));
}

const pemOrDer = {
  200: {
    description: 'PEM (application/x-pem-file), or DER with Accept: application/pkix-cert',
    content: { 'application/x-pem-file': { schema: Type.String() }, 'application/pkix-cert': { schema: Type.String({ format: 'binary' }) } },
  },
  404: ErrorBody,
};

export const caRoutes =
  (service: CaService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();
    const read = { access: 'read' as const };
    const write = { access: 'write' as const };
    const tags = ['ca'];

    // ---- CAs ----
    app.post(
      '/cas',
      { config: write, schema: { tags, summary: 'Create a root CA, or with parent_id a subordinate CA', body: CreateCaBody, response: { 201: CaSchema, 403: ErrorBody, ...errors } } },
      async (request, reply) => {
        const b = request.body;
        // Checked before the CA exists, so a bad one creates nothing.
        const expiration = b.issuance_expiration ?? b.validity;
        const validity = expiration === undefined ? undefined : validityFromJson(expiration, 'issuance_expiration');
        if (validity) checkValidity(validity);
        const ca = await service.createCa({
          ...(b.id === undefined ? {} : { id: b.id }),
          ...(b.parent_id === undefined ? {} : { parentId: b.parent_id }),
          subject: b.subject,
          ...keyChoice(b.key_metadata),
          ...(b.ca_expiration === undefined ? {} : { validity: validityFromJson(b.ca_expiration, 'ca_expiration') }),
          ...ownProfileOf(b.ca_issuance_profile_id, b.ca_issuance_profile),
          ...(b.engine_id === undefined ? {} : { engineId: b.engine_id }),
          ...(b.profile_id === undefined ? {} : { profileId: b.profile_id }),
          ...(b.about_to_expire === undefined ? {} : { aboutToExpireMs: durationMs(b.about_to_expire) }),
          ...(b.expiration_deltas === undefined ? {} : { expiryDeltas: expirationDeltasFromJson(b.expiration_deltas) }),
          ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
          actor: actorOf(request),
        });
        if (validity === undefined) return reply.code(201).send(caJson(ca));
        const updated = await service.updateIssuanceExpiration({ id: ca.id, validity, actor: actorOf(request) });
        return reply.code(201).send({ ...caJson(updated), issuance_expiration: validity });
      },
    );

    app.put(
      '/cas/:id/issuance-expiration',
      {
        config: write,
        schema: {
          tags,
          summary: "Lamassu's per-CA issuance expiration: the validity of the CA's own default profile (<id>.issuance)",
          params: IdParams,
          body: ValiditySchema,
          response: { 200: CaSchema, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const validity = validityFromJson(request.body, 'issuance_expiration');
        const ca = await service.updateIssuanceExpiration({ id: request.params.id, validity, actor: actorOf(request) });
        return { ...caJson(ca), issuance_expiration: validity };
      },
    );

    app.post(
      '/cas/import',
      { config: write, schema: { tags, summary: 'Import a CA, with its private key (into an engine) or without (tracked only)', body: ImportCaBody, response: { 201: CaSchema, ...errors } } },
      async (request, reply) => {
        const b = request.body;
        const ca = await service.importCa({
          ...(b.id === undefined ? {} : { id: b.id }),
          certificate: unwrapBase64Pem(b.ca),
          ...(b.private_key === undefined ? {} : { privateKey: unwrapBase64Pem(b.private_key) }),
          ...(b.engine_id === undefined ? {} : { engineId: b.engine_id }),
          ...(b.parent_id === undefined ? {} : { parentId: b.parent_id }),
          ...(b.profile_id === undefined ? {} : { profileId: b.profile_id }),
          ...(b.about_to_expire === undefined ? {} : { aboutToExpireMs: durationMs(b.about_to_expire) }),
          ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
          ...(b.ca_chain === undefined ? {} : { chain: b.ca_chain.map(unwrapBase64Pem) }),
          ...(b.ca_type === undefined ? {} : { caType: b.ca_type }),
          actor: actorOf(request),
        });
        return reply.code(201).send(caJson(ca));
      },
    );

    app.get(
      '/cas',
      { config: read, schema: { tags, summary: 'List CAs (filters, sort, bookmark pagination)', querystring: CaListQuery, response: { 200: listOf(CaSchema), 400: ErrorBody } } },
      async (request) => {
        const q = request.query;
        const page = await service.listCas({
          sortBy: sortKeyOf(q.sort_by, CA_SORT_ALIASES),
          filters: filtersOf(q.filter, CA_FILTER_FIELDS),
          sortMode: q.sort_mode,
          pageSize: q.page_size,
          bookmark: q.bookmark,
          status: statuses(q.status),
          commonName: q.common_name,
          subjectKeyId: q.subject_key_id,
          engineId: q.engine_id,
          parentId: q.parent_id,
          internal: q.internal,
          validToAfter: date(q.valid_to_after),
          validToBefore: date(q.valid_to_before),
          validFromAfter: date(q.valid_from_after),
          validFromBefore: date(q.valid_from_before),
        });
        return pageJson(page, caJson);
      },
    );

    app.get(
      '/cas/:id',
      { config: read, schema: { tags, summary: 'One CA', params: IdParams, response: { 200: CaSchema, 404: ErrorBody } } },
      async (request) => {
        const ca = await service.getCa(request.params.id);
        return { ...caJson(ca), issuance_expiration: await service.issuanceExpirationOf(ca) };
      },
    );

    app.delete(
      '/cas/:id',
      {
        config: write,
        schema: {
          tags,
          summary: 'Delete an EXPIRED or REVOKED CA (or one imported without key) that has no subordinate CAs and no valid certificates; its certificates stay in the inventory',
          description:
            'Retirement: `revoke_certificates=true` first revokes the CA (CessationOfOperation, when it can still sign or is on hold) and every ' +
            'certificate it issued that is still valid or on hold; without it a CA with valid certificates is refused (409 CA_HAS_ACTIVE_CERTIFICATES). ' +
            "`destroy_key=true` deletes the CA's key from its key engine once the CA is deleted (kept when another CA uses the same key). " +
            'Subordinate CAs must be deleted first (409 CA_HAS_SUBORDINATES), checked before anything is revoked.',
          params: IdParams,
          querystring: Type.Object({
            cascade_delete: Type.Optional(Type.Boolean({ description: 'Lamassu; true is 400 CA_CASCADE_DELETE_UNSUPPORTED' })),
            revoke_certificates: Type.Optional(Type.Boolean({ description: 'revoke the CA and its valid certificates first (CessationOfOperation)' })),
            destroy_key: Type.Optional(Type.Boolean({ description: "delete the CA's key from its engine" })),
          }),
          response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request, reply) => {
        if (request.query.cascade_delete) throw invalid('CA_CASCADE_DELETE_UNSUPPORTED', 'cascade_delete is not supported: delete the subordinate CAs first');
        const { revoke_certificates: revokeCertificates = false, destroy_key: destroyKey = false } = request.query;
        await service.deleteCa({ id: request.params.id, actor: actorOf(request), revokeCertificates, destroyKey });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/cas/:id/certificate',
      { config: read, schema: { tags, summary: "The CA's certificate", params: IdParams, response: pemOrDer } },
      async (request, reply) => sendCertificate(request, reply, (await service.getCa(request.params.id)).certificate.der),
    );

    app.get(
      '/cas/:id/chain',
      {
        config: read,
        schema: {
          tags,
          summary: "The CA's certificate and its issuers up to the root, PEM",
          params: IdParams,
          response: { 200: { description: 'PEM bundle', content: { 'application/pem-certificate-chain': { schema: Type.String() } } }, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const chain = await service.caChain(request.params.id);
        return reply.type('application/pem-certificate-chain').send(chain.map((der) => toPem(der, 'CERTIFICATE')).join(''));
      },
    );

    app.post(
      '/cas/:id/status',
      {
        config: write,
        schema: {
          tags,
          summary: 'Revoke, hold or release a CA; final revocation cascades to everything below (internal CAs: 403 CA_INTERNAL, rotate them instead)',
          params: IdParams,
          body: StatusBody,
          response: { 200: CaSchema, 403: ErrorBody, ...errors },
        },
      },
      async (request) => {
        const req = parseStatusRequest('CA', request.body.status, request.body.revocation_reason, request.body.invalidity_date);
        return caJson(await service.updateCaStatus({ id: request.params.id, request: req, actor: actorOf(request) }));
      },
    );

    app.post(
      '/cas/:id/rotate',
      {
        config: write,
        schema: {
          tags,
          summary: 'Rotate the current internal CA (LAMASSU-DMS-MANAGER, then -2, -3 ...): a new internal CA with a new key issues DMS certificates from now on',
          description:
            'Internal CAs refuse status changes (403 CA_INTERNAL); this replaces one instead. `id` must name the current internal CA ' +
            '(409 CA_INTERNAL_SUPERSEDED otherwise, also when another rotation won the race; 409 CA_NOT_INTERNAL for other CAs). ' +
            'The replaced CA stays valid: the DMS certificates it issued keep authenticating EST until they expire or are reissued.',
          params: IdParams,
          response: { 201: CaSchema, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request, reply) => reply.code(201).send(caJson(await service.rotateInternalCa({ id: request.params.id, actor: actorOf(request) }))),
    );

    app.post(
      '/cas/:id/reissue',
      {
        config: write,
        schema: {
          tags,
          summary: 'Reissue a CA: a new certificate for the same key and subject (a root signs it, a subordinate\'s parent does); the CA keeps its id',
          description:
            'The new certificate has the same subject Name and key identifier, so every certificate the CA issued verifies with it as well as ' +
            'with the old one, which stays in the inventory. Validity: `ca_expiration`, or as long as the current one (capped by the parent). ' +
            'The old certificate\'s metadata gets `lamassu.io/ca/reissued-as` (the new serial), the new one\'s `lamassu.io/ca/reissued-from` ' +
            '(the old serial), both `lamassu.io/ca/reissued-at`. Only ACTIVE or ABOUT_TO_EXPIRE CAs holding their key (409 CA_REISSUE_NOT_ALLOWED); ' +
            'internal CAs are rotated instead (403 CA_INTERNAL).',
          params: IdParams,
          body: ReissueCaBody,
          response: { 200: CaSchema, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request) => {
        const b = request.body ?? {};
        const ca = await service.reissueCa({
          id: request.params.id,
          ...(b.ca_expiration === undefined ? {} : { validity: validityFromJson(b.ca_expiration, 'ca_expiration') }),
          ...(b.profile_id === undefined ? {} : { profileId: b.profile_id }),
          ...(b.reason === undefined ? {} : { reason: b.reason }),
          actor: actorOf(request),
        });
        return caJson(ca);
      },
    );

    app.put(
      '/cas/:id/about-to-expire',
      {
        config: write,
        schema: {
          tags,
          summary: "Set the CA's about-to-expire threshold (null: the global one); its ACTIVE certificates are recomputed",
          params: IdParams,
          body: AboutToExpireBody,
          response: { 200: CaSchema, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const text = request.body.about_to_expire;
        return caJson(await service.updateAboutToExpire({ id: request.params.id, aboutToExpireMs: text === null ? null : durationMs(text)!, actor: actorOf(request) }));
      },
    );

    app.put(
      '/cas/:id/expiration-deltas',
      {
        config: write,
        schema: {
          tags,
          summary: "Set the CA's expiration deltas (null: none); the certificates that follow them are re-planned",
          params: IdParams,
          body: ExpirationDeltasBody,
          response: { 200: CaSchema, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) =>
        caJson(
          await service.updateExpiryDeltas({
            id: request.params.id,
            deltas: expirationDeltasFromJson(request.body.expiration_deltas),
            actor: actorOf(request),
          }),
        ),
    );

    app.post(
      '/status-sweep',
      { config: write, schema: { tags, summary: 'Run the status sweep now (it also runs on a schedule)', response: { 200: SweepResultSchema } } },
      async () => {
        const r = await service.sweepStatuses();
        return { expired: r.expired, about_to_expire: r.aboutToExpire, expiring: r.expiring };
      },
    );

    app.post(
      '/cas/:id/certificates/sign',
      {
        config: write,
        schema: { tags, summary: 'Sign a CSR (profile: inline, by id, or the CA default)', params: IdParams, body: SignBody, response: { 201: CertificateSchema, 403: ErrorBody, ...errors } },
      },
      async (request, reply) => {
        const b = request.body;
        const cert = await service.signCertificate({
          caId: request.params.id,
          csr: unwrapBase64Pem(b.csr),
          profile: profileChoice(b.profile_id, b.profile),
          ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
          actor: actorOf(request),
        });
        return reply.code(201).send(certificateJson(cert));
      },
    );

    app.get(
      '/cas/:id/certificates',
      { config: read, schema: { tags, summary: 'Certificates issued by a CA', params: IdParams, querystring: CertificateListQuery, response: { 200: listOf(CertificateSchema), ...errors } } },
      async (request) => {
        await service.getCa(request.params.id);
        return listCertificates(service, { ...request.query, ca_id: request.params.id });
      },
    );

    // ---- certificates ----
    app.post(
      '/certificates',
      {
        config: write,
        schema: { tags, summary: 'Generate a key on the server and issue its certificate in one call', body: CreateCertificateBody, response: { 201: GeneratedCertificateSchema, 403: ErrorBody, 501: ErrorBody, ...errors } },
      },
      async (request, reply) => {
        const b = request.body;
        const out = await service.generateCertificate({
          caId: b.ca_id,
          keySpec: { type: b.key_spec.type as KeyType, bits: b.key_spec.bits },
          ...(b.key_spec.engine_id === undefined ? {} : { engineId: b.key_spec.engine_id }),
          subject: b.subject,
          profile: profileChoice(b.issuance_profile_id, b.issuance_profile),
          ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
          actor: actorOf(request),
        });
        // The private key is in this response only; nothing logs response bodies.
        return reply.code(201).send({
          ...certificateJson(out.certificate),
          ...(out.privateKeyPkcs8 ? { private_key: base64Pem(out.privateKeyPkcs8, 'PRIVATE KEY') } : {}),
          ...(out.keyId ? { key_id: out.keyId } : {}),
        });
      },
    );

    app.get(
      '/certificates',
      { config: read, schema: { tags, summary: 'Certificate inventory (filters, sort, bookmark pagination)', querystring: CertificateListQuery, response: { 200: listOf(CertificateSchema), 400: ErrorBody } } },
      async (request) => listCertificates(service, request.query),
    );

    app.get(
      '/certificates/expiring-per-week',
      {
        config: read,
        schema: {
          tags,
          summary: 'Certificates (not revoked, not expired) expiring per calendar week (Monday 00:00 UTC to Monday), from the current week on: counts, not rows',
          querystring: ExpiringPerWeekQuery,
          response: { 200: ExpiringPerWeekSchema, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const weeks = await service.countExpiringPerWeek({
          weeks: request.query.weeks ?? 12,
          ...(request.query.ca_id === undefined ? {} : { caId: request.query.ca_id }),
        });
        return { weeks: weeks.map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString(), count: w.count })) };
      },
    );

    app.post(
      '/certificates/import',
      { config: write, schema: { tags, summary: 'Track a certificate issued elsewhere', body: ImportCertificateBody, response: { 201: CertificateSchema, ...errors } } },
      async (request, reply) => {
        const cert = await service.importCertificate({
          certificate: unwrapBase64Pem(request.body.certificate),
          ...(request.body.metadata === undefined ? {} : { metadata: request.body.metadata }),
          actor: actorOf(request),
        });
        return reply.code(201).send(certificateJson(cert));
      },
    );

    const CaIdQuery = Type.Object({ ca_id: Type.Optional(Type.String({ description: 'issuer, when several CAs used the serial' })) });
    app.get(
      '/certificates/:serial',
      { config: read, schema: { tags, summary: 'One certificate by serial number', params: SerialParams, querystring: CaIdQuery, response: { 200: CertificateSchema, ...errors } } },
      async (request) => certificateJson(await service.getCertificate(request.params.serial, request.query.ca_id)),
    );

    app.put(
      '/certificates/:serial/status',
      {
        config: write,
        schema: { tags, summary: 'Revoke, hold or release a certificate', params: SerialParams, querystring: CaIdQuery, body: StatusBody, response: { 200: CertificateSchema, 403: ErrorBody, ...errors } },
      },
      async (request) => {
        const req = parseStatusRequest('CERTIFICATE', request.body.status, request.body.revocation_reason, request.body.invalidity_date);
        const cert = await service.updateCertificateStatus({
          serialNumber: request.params.serial,
          ...(request.query.ca_id === undefined ? {} : { issuerCaId: request.query.ca_id }),
          request: req,
          actor: actorOf(request),
        });
        return certificateJson(cert);
      },
    );

    const StatsQuery = Type.Object({ filter: FilterParam, ca_filter: FilterParam, cert_filter: FilterParam });
    const statsDescription =
      'Filtered stats: `filter` takes the list filters; each counts the CAs where it names a CA list field and the certificates where it ' +
      'names a certificate list field (e.g. `status[eq]REVOKED` both, `level[eq]1` only CAs, `is_ca[eq]false` only certificates); ' +
      'a field of neither is 400 FILTER_FIELD_UNKNOWN. Lamassu\'s `ca_filter` (CA list filters, only the CAs) and `cert_filter` ' +
      '(certificate list filters, only the certificates) are taken too; all given filters are ANDed.';
    app.get(
      '/stats',
      {
        config: read,
        schema: { tags, summary: 'Counts of CAs (per engine, status) and certificates (per CA, status)', description: statsDescription, querystring: StatsQuery, response: { 200: StatsSchema, 400: ErrorBody } },
      },
      async (request) => service.getStats(statsFiltersOf(request.query)),
    );

    // ---- metadata (Lamassu: JSON Patch on PUT and PATCH; ours: a plain object replaces or merges) ----
    for (const method of METADATA_METHODS) {
      const summary = metadataSummary(method);
      app.route({
        method,
        url: '/cas/:id/metadata',
        config: write,
        schema: { tags, summary: `CA: ${summary}`, params: IdParams, body: MetadataBody, response: { 200: CaSchema, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody } },
        handler: async (request) => caJson(await service.updateCaMetadata({ id: request.params.id, change: metadataChangeOf(request.body, method), actor: actorOf(request) })),
      });
      app.route({
        method,
        url: '/certificates/:serial/metadata',
        config: write,
        schema: {
          tags,
          summary: `Certificate: ${summary}`,
          params: SerialParams,
          querystring: Type.Object({ ca_id: Type.Optional(Type.String()) }),
          body: MetadataBody,
          response: { 200: CertificateSchema, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody },
        },
        handler: async (request) =>
          certificateJson(
            await service.updateCertificateMetadata({
              serialNumber: request.params.serial,
              ...(request.query.ca_id === undefined ? {} : { issuerCaId: request.query.ca_id }),
              change: metadataChangeOf(request.body, method),
              actor: actorOf(request),
            }),
          ),
      });
    }

    app.get(
      '/engines',
      { config: read, schema: { tags, summary: 'Key engines CAs and certificates can use (engine_id), the default one marked', response: { 200: Type.Array(EngineSchema) } } },
      async () => service.listEngines().map(engineJson),
    );

    // ---- Lamassu's raw signatures with a CA key ----
    const b64 = Type.String({ maxLength: 1_400_000, description: 'base64' });
    const SignatureBody = Type.Object({
      message: b64,
      message_type: Type.String({ maxLength: 16, default: 'raw', description: 'raw: the message itself; hash (or digest): the digest of the algorithm\'s hash, exactly its length' }),
      signature_algorithm: Type.String({ maxLength: 64, description: 'ECDSA_SHA_256|384|512, RSASSA_PKCS1_V1_5_SHA_256|384|512, RSASSA_PSS_SHA_256|384|512' }),
    });
    const bytesOf = (text: string, field: string) => {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s+/g, ''))) throw invalid('SIGNATURE_ENCODING_INVALID', `${field} must be base64`);
      return new Uint8Array(Buffer.from(text, 'base64'));
    };
    app.post(
      '/cas/:id/signature/sign',
      { config: write, schema: { tags, summary: "Sign a message with the CA's key (Lamassu)", params: IdParams, body: SignatureBody, response: { 200: Type.Object({ signed_data: Type.String() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody } } },
      async (request) => {
        const b = request.body;
        const signature = await service.signWithCa({ caId: request.params.id, message: bytesOf(b.message, 'message'), messageType: b.message_type, algorithm: b.signature_algorithm, actor: actorOf(request) });
        return { signed_data: Buffer.from(signature).toString('base64') };
      },
    );
    app.post(
      '/cas/:id/signature/verify',
      {
        config: read,
        schema: {
          tags,
          summary: "Verify a signature with the CA certificate's public key (Lamassu)",
          params: IdParams,
          body: Type.Object({ ...SignatureBody.properties, signature: b64 }),
          response: { 200: Type.Object({ valid: Type.Boolean() }), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const b = request.body;
        const valid = await service.verifyWithCa({ caId: request.params.id, message: bytesOf(b.message, 'message'), messageType: b.message_type, algorithm: b.signature_algorithm, signature: bytesOf(b.signature, 'signature') });
        return { valid };
      },
    );

    app.get(
      '/stats/:id',
      {
        config: read,
        schema: {
          tags,
          summary: "One CA's counts: the CA and the CAs below it; the certificates it issued (Lamassu's CAStats)",
          description: statsDescription,
          params: IdParams,
          querystring: StatsQuery,
          response: { 200: StatsSchema, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => service.getCaStats(request.params.id, statsFiltersOf(request.query)),
    );

    // ---- issuance profiles ----
    const ptags = ['ca profiles'];
    app.get(
      '/profiles',
      { config: read, schema: { tags: ptags, summary: 'Issuance profiles', response: { 200: listOf(ProfileSchema) } } },
      async () => ({ list: (await service.listProfiles()).map(profileJson), next: '' }),
    );
    app.post(
      '/profiles',
      { config: write, schema: { tags: ptags, summary: 'Create an issuance profile', body: ProfileInputSchema, response: { 201: ProfileSchema, ...errors } } },
      async (request, reply) => {
        const b = request.body;
        const p = await service.createProfile({ ...(b.id === undefined ? {} : { id: b.id }), ...profileInput(b), actor: actorOf(request) });
        return reply.code(201).send(profileJson(p));
      },
    );
    app.get(
      '/profiles/:id',
      { config: read, schema: { tags: ptags, summary: 'One issuance profile', params: IdParams, response: { 200: ProfileSchema, 404: ErrorBody } } },
      async (request) => profileJson(await service.getProfile(request.params.id)),
    );
    app.put(
      '/profiles/:id',
      { config: write, schema: { tags: ptags, summary: 'Replace an issuance profile', params: IdParams, body: ProfileInputSchema, response: { 200: ProfileSchema, ...errors } } },
      async (request) => profileJson(await service.updateProfile({ id: request.params.id, ...profileInput(request.body), actor: actorOf(request) })),
    );
    app.delete(
      '/profiles/:id',
      { config: write, schema: { tags: ptags, summary: 'Delete an issuance profile no CA uses as default', params: IdParams, response: { 204: Type.Null(), ...errors } } },
      async (request, reply) => {
        await service.deleteProfile({ id: request.params.id, actor: actorOf(request) });
        return reply.code(204).send(null);
      },
    );
  };

export async function listCertificates(service: CaService, q: import('./ca-schemas.ts').CertificateListQueryJson) {
  const page = await service.listCertificates({
    sortBy: sortKeyOf(q.sort_by, CERTIFICATE_SORT_ALIASES),
    filters: filtersOf(q.filter, CERTIFICATE_FILTER_FIELDS),
    sortMode: q.sort_mode,
    pageSize: q.page_size,
    bookmark: q.bookmark,
    issuerCaId: q.ca_id,
    status: statuses(q.status),
    serialNumber: q.serial_number,
    subjectKeyId: q.subject_key_id,
    commonName: q.common_name,
    expiresAfter: date(q.expires_after),
    expiresBefore: date(q.expires_before),
    isCa: q.is_ca,
  });
  return pageJson(page, certificateJson);
}

/**
 * Stats filters: each of `filter` applies to the CAs, the certificates, or both, as its field allows (a field
 * of neither is refused); Lamassu's `ca_filter` to the CAs only and `cert_filter` to the certificates only,
 * each refusing a field its list does not know.
 */
function statsFiltersOf(q: { filter?: string[] | undefined; ca_filter?: string[] | undefined; cert_filter?: string[] | undefined }): StatsFilters {
  const cas: FieldFilter[] = [...(filtersOf(q.ca_filter, CA_FILTER_FIELDS) ?? [])];
  const certificates: FieldFilter[] = [...(filtersOf(q.cert_filter, CERTIFICATE_FILTER_FIELDS) ?? [])];
  for (const one of q.filter ?? []) {
    const forCas = isKnownField(one, CA_FILTER_FIELDS);
    const forCertificates = isKnownField(one, CERTIFICATE_FILTER_FIELDS);
    // Neither knows the field: the CA list's refusal says why.
    if (!forCas && !forCertificates) filtersOf([one], CA_FILTER_FIELDS);
    if (forCas) cas.push(...filtersOf([one], CA_FILTER_FIELDS)!);
    if (forCertificates) certificates.push(...filtersOf([one], CERTIFICATE_FILTER_FIELDS)!);
  }
  return { ...(cas.length ? { cas } : {}), ...(certificates.length ? { certificates } : {}) };
}

/** Whether `raw`'s field is one of `fields` (its operator and value are then checked by filtersOf). */
function isKnownField(raw: string, fields: FilterFields): boolean {
  const field = raw.slice(0, raw.indexOf('[') === -1 ? raw.length : raw.indexOf('['));
  return Object.hasOwn(fields, field);
}
