/**
 * Lamassu v3's CA routes that are other spellings of ours: lists by common name, by status, by expiration
 * window; a certificate addressed under its CA; the CA's default issuance profile (POST /cas/{id}/profile).
 * Each calls the same use-case as our route and answers in the same shape.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { CERTIFICATE_STATUSES, type CertificateStatus } from '../../domain/ca/certificate-status.ts';
import { CA_FILTER_FIELDS, CA_SORT_ALIASES } from '../../domain/ca/ca-repository.ts';
import { invalid, notFound } from '../../domain/errors.ts';
import type { CaService } from '../../services/ca/ca-service.ts';
import { actorOf } from '../auth/identity.ts';
import { ErrorBody } from '../errors.ts';
import { filtersOf, pageJson, sortKeyOf } from '../list-query.ts';
import { caJson, certificateJson } from './ca-json.ts';
import { listCertificates } from './ca-routes.ts';
import { CaListQuery, CaSchema, CertificateListQuery, CertificateSchema, IdParams, listOf } from './ca-schemas.ts';

const tags = ['ca'];
const read = { access: 'read' as const };
const write = { access: 'write' as const };
const errors = { 400: ErrorBody, 404: ErrorBody };

/** A status in a path: Lamassu's names, any case. */
function statusOf(text: string): CertificateStatus {
  const s = CERTIFICATE_STATUSES.find((v) => v === text.toUpperCase());
  if (!s) throw invalid('STATUS_INVALID', `unknown status "${text.slice(0, 32)}"; one of ${CERTIFICATE_STATUSES.join(', ')}`);
  return s;
}

export const caLamassuRoutes =
  (service: CaService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/cas/cn/:cn',
      {
        config: read,
        schema: { tags, summary: 'CAs with this subject common name (Lamassu)', params: Type.Object({ cn: Type.String({ minLength: 1, maxLength: 256 }) }), querystring: CaListQuery, response: { 200: listOf(CaSchema), 400: ErrorBody } },
      },
      async (request) => {
        const q = request.query;
        const page = await service.listCas({
          sortBy: sortKeyOf(q.sort_by, CA_SORT_ALIASES),
          filters: [...(filtersOf(q.filter, CA_FILTER_FIELDS) ?? []), { field: 'subject.common_name', op: 'eq', value: request.params.cn }],
          sortMode: q.sort_mode,
          pageSize: q.page_size,
          bookmark: q.bookmark,
        });
        return pageJson(page, caJson);
      },
    );

    app.post(
      '/cas/:id/profile',
      {
        config: write,
        schema: {
          tags,
          summary: "Set the CA's default issuance profile (Lamassu)",
          description: 'The profile the CA applies when a request names none; it must exist (404 PROFILE_NOT_FOUND). Internal CAs keep theirs (403 CA_INTERNAL).',
          params: IdParams,
          body: Type.Object({ profile_id: Type.String({ minLength: 1, maxLength: 128 }) }),
          response: { 200: CaSchema, 403: ErrorBody, ...errors },
        },
      },
      async (request) => {
        const ca = await service.updateCaProfile({ id: request.params.id, profileId: request.body.profile_id, actor: actorOf(request) });
        return { ...caJson(ca), issuance_expiration: await service.issuanceExpirationOf(ca) };
      },
    );

    app.get(
      '/cas/:id/certificates/status/:status',
      {
        config: read,
        schema: { tags, summary: 'Certificates a CA issued, in one status (Lamassu)', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), status: Type.String({ maxLength: 32 }) }), querystring: CertificateListQuery, response: { 200: listOf(CertificateSchema), ...errors } },
      },
      async (request) => {
        const status = statusOf(request.params.status);
        await service.getCa(request.params.id);
        return listCertificates(service, { ...request.query, ca_id: request.params.id, status });
      },
    );

    app.get(
      '/cas/:id/certificates/:serial',
      {
        config: read,
        schema: { tags, summary: 'One certificate a CA issued (Lamassu)', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), serial: Type.String({ minLength: 1, maxLength: 64 }) }), response: { 200: CertificateSchema, ...errors } },
      },
      async (request) => {
        await service.getCa(request.params.id);
        const cert = await service.getCertificate(request.params.serial, request.params.id);
        if (cert.issuerCaId !== request.params.id) {
          throw notFound('CERTIFICATE_NOT_FOUND', `CA "${request.params.id}" issued no certificate with serial ${request.params.serial}`, { serial_number: request.params.serial });
        }
        return certificateJson(cert);
      },
    );

    app.get(
      '/certificates/status/:status',
      { config: read, schema: { tags, summary: 'Certificates in one status (Lamassu)', params: Type.Object({ status: Type.String({ maxLength: 32 }) }), querystring: CertificateListQuery, response: { 200: listOf(CertificateSchema), 400: ErrorBody } } },
      async (request) => listCertificates(service, { ...request.query, status: statusOf(request.params.status) }),
    );

    app.get(
      '/certificates/expiration',
      {
        config: read,
        schema: { tags, summary: 'Certificates expiring in a window: expires_after, expires_before (Lamassu)', querystring: CertificateListQuery, response: { 200: listOf(CertificateSchema), 400: ErrorBody } },
      },
      async (request) => listCertificates(service, request.query),
    );
  };
