/** Admin API of the DMS manager: DMS CRUD, metadata, stats, authorized CAs and the DMS certificate. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { DMS_FILTER_FIELDS, DMS_SORT_ALIASES } from '../../domain/dms/dms-repository.ts';
import { invalid, notFound } from '../../domain/errors.ts';
import type { IdentityBinding } from '../../services/dms/bind-identity.ts';
import type { DmsService } from '../../services/dms/dms-service.ts';
import { certificateJson } from '../ca/ca-json.ts';
import { deviceJson } from '../devices/device-routes.ts';
import { parseCsrInput } from '../../x509/csr.ts';
import { actorOf } from '../auth/identity.ts';
import { FilterParam, filtersOf, pageJson, sortKeyOf } from '../list-query.ts';
import { idMetadataRoutes } from '../metadata-body.ts';
import { base64Pem, certificateSummaryJson, dmsJson, settingsFromJson, unwrapPemField } from './dms-json.ts';
import { AuthorizedCaBody, CaParams, DmsCertificateBody, DmsCreateSchema, DmsListQuery, DmsUpdateSchema, IdParams, RevokeBody } from './dms-schemas.ts';

const tags = ['dms'];

export const dmsRoutes =
  (dms: DmsService, binding: IdentityBinding): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/stats',
      { config: { access: 'read' }, schema: { tags, summary: 'Number of DMSs (matching the list filters, `filter`, if given)', querystring: Type.Object({ filter: FilterParam }) } },
      (request) => dms.stats(filtersOf(request.query.filter, DMS_FILTER_FIELDS)),
    );

    app.get('/dms', { config: { access: 'read' }, schema: { tags, summary: 'DMSs, by bookmark pages', querystring: DmsListQuery } }, async (request) => {
      const q = request.query;
      const page = await dms.list({
        ...(q.sort_by ? { sortBy: sortKeyOf(q.sort_by, DMS_SORT_ALIASES) } : {}),
        ...(q.sort_mode ? { sortMode: q.sort_mode } : {}),
        ...(q.page_size ? { pageSize: q.page_size } : {}),
        ...(q.bookmark ? { bookmark: q.bookmark } : {}),
        filters: filtersOf(q.filter, DMS_FILTER_FIELDS),
      });
      return pageJson(page, dmsJson);
    });

    app.post(
      '/dms',
      { config: { access: 'write' }, schema: { tags, summary: 'Create a DMS', body: DmsCreateSchema } },
      async (request, reply) => {
        const b = request.body;
        const created = await dms.create(
          { id: b.id, name: b.name, metadata: b.metadata ?? {}, ...(b.authorized_cas ? { authorizedCaIds: b.authorized_cas } : {}), settings: settingsFromJson(b.settings) },
          actorOf(request),
        );
        return reply.code(201).send(dmsJson(created));
      },
    );

    app.post(
      '/dms/bind-identity',
      {
        config: { access: 'write' },
        schema: {
          tags,
          summary: "Bind a certificate as a device's identity (Lamassu's manual assignment)",
          description:
            "The device must belong to a DMS; the certificate (any the CA service holds, not another device's) becomes the default slot's next version and " +
            "gets `lamassu.io/ra/attached-to` in its metadata. bind_mode (PROVISIONED, RE-PROVISIONED, RENEWED; default RE-PROVISIONED) names the timeline " +
            'entry of a replaced identity; a first identity is PROVISIONED. Answers {certificate, dms, device}.',
          body: Type.Object({
            device_id: Type.String({ minLength: 1, maxLength: 128 }),
            certificate_serial_number: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Fa-f:-]+$' }),
            bind_mode: Type.Optional(Type.String({ maxLength: 32 })),
          }),
        },
      },
      async (request) => {
        const b = request.body;
        const r = await binding.bind({
          deviceId: b.device_id,
          certificateSerialNumber: b.certificate_serial_number.replace(/[:-]/g, ''),
          ...(b.bind_mode === undefined ? {} : { bindMode: b.bind_mode }),
          actor: actorOf(request),
        });
        return { certificate: certificateJson(r.certificate), dms: dmsJson(r.dms), device: deviceJson(r.device) };
      },
    );

    app.get('/dms/:id', { config: { access: 'read' }, schema: { tags, summary: 'One DMS', params: IdParams } }, async (request) =>
      dmsJson(await dms.get(request.params.id)),
    );

    app.put(
      '/dms/:id',
      { config: { access: 'write' }, schema: { tags, summary: 'Replace name, metadata, authorized CAs and settings', params: IdParams, body: DmsUpdateSchema } },
      async (request) => {
        const b = request.body;
        const input = { name: b.name, ...(b.authorized_cas ? { authorizedCaIds: b.authorized_cas } : {}), settings: settingsFromJson(b.settings), ...(b.metadata ? { metadata: b.metadata } : {}) };
        return dmsJson(await dms.update(request.params.id, input, actorOf(request)));
      },
    );

    app.delete('/dms/:id', { config: { access: 'write' }, schema: { tags, summary: 'Delete a DMS (revokes its certificate)', params: IdParams } }, async (request, reply) => {
      await dms.delete(request.params.id, actorOf(request));
      return reply.code(204).send();
    });

    idMetadataRoutes(scope, {
      url: '/dms/:id/metadata',
      tags,
      params: IdParams,
      change: async (id, change, actor) => dmsJson(await dms.changeMetadata(id, change, actor)),
    });

    app.post(
      '/dms/:id/authorized-cas',
      { config: { access: 'write' }, schema: { tags, summary: 'Authorize a CA', params: IdParams, body: AuthorizedCaBody } },
      async (request) => dmsJson(await dms.addAuthorizedCa(request.params.id, request.body.ca_id, actorOf(request))),
    );

    app.delete(
      '/dms/:id/authorized-cas/:caId',
      { config: { access: 'write' }, schema: { tags, summary: 'Withdraw a CA (not the enrollment CA)', params: CaParams } },
      async (request) => dmsJson(await dms.removeAuthorizedCa(request.params.id, request.params.caId, actorOf(request))),
    );

    app.post(
      '/dms/:id/certificate',
      {
        config: { access: 'write' },
        schema: {
          tags,
          summary: 'Issue the DMS certificate (LAMASSU-DMS-MANAGER) from a CSR or a server-generated key; the previous one is revoked',
          params: IdParams,
          body: DmsCertificateBody,
        },
      },
      async (request, reply) => {
        const { csr, key } = request.body;
        if ((csr === undefined) === (key === undefined)) throw invalid('DMS_CERTIFICATE_REQUEST_INVALID', 'send exactly one of "csr" and "key"');
        const req = csr !== undefined ? { csrDer: parseCsrInput(unwrapPemField(csr)).der } : { keySpec: key! };
        const res = await dms.issueCertificate(request.params.id, req, actorOf(request));
        return reply.code(201).send({
          ...certificateSummaryJson(res.certificate),
          chain: res.chain.map((der) => base64Pem(der)),
          ...(res.privateKeyPkcs8 ? { private_key: base64Pem(res.privateKeyPkcs8, 'PRIVATE KEY') } : {}),
        });
      },
    );

    app.get('/dms/:id/certificate', { config: { access: 'read' }, schema: { tags, summary: 'The DMS certificate and its status', params: IdParams } }, async (request) => {
      const cert = await dms.certificateOf(request.params.id);
      if (!cert) throw notFound('DMS_CERTIFICATE_MISSING', `DMS "${request.params.id}" has no certificate`);
      return certificateSummaryJson(cert);
    });

    app.post(
      '/dms/:id/certificate/revoke',
      { config: { access: 'write' }, schema: { tags, summary: 'Revoke the DMS certificate: it enrolls nothing more', params: IdParams, body: RevokeBody } },
      async (request) => certificateSummaryJson(await dms.revokeCertificate(request.params.id, request.body.revocation_reason, actorOf(request))),
    );
  };
