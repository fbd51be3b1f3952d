/**
 * The EST operations (RFC 7030 4) under one prefix: with a label (`/{label}/cacerts`, a DMS id or a CA id)
 * and without one (the configured default DMS). Framing only: decode, call the enrollment service, encode.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isDomainError } from '../../domain/errors.ts';
import type { EstOperation, MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { EnrollmentService } from '../../services/dms/enrollment-service.ts';
import { estErrorHandler, estNotFoundHandler, sendPlainError } from './est-errors.ts';
import { writeCanonicalHeaderNames } from './est-header-case.ts';
import { credentialsOf, csrFromRequest, EST_BODY_LIMIT } from './est-request.ts';
import { sendCertificates, sendCsrAttrs, sendServerKeygen } from './est-response.ts';

/** The part of the enrollment service EST needs. */
export type EstEnrollment = Pick<EnrollmentService, 'enroll' | 'reenroll' | 'serverKeygen' | 'cacerts' | 'csrattrs'>;

export interface EstOptions {
  enrollment: EstEnrollment;
  /** DMS id the label-less paths use; without it they answer 404. */
  defaultDms?: string | undefined;
  /** Counts and times enrollments (lamassu_est_enrollments_total, lamassu_est_enrollment_duration_seconds). */
  metrics?: MetricsRecorder;
}

/**
 * Runs one enrollment operation and reports it: "success" or the error code. A label that names nothing is
 * counted as "unknown", so that requests for made-up labels cannot add series without end.
 */
async function metered<T>(metrics: MetricsRecorder | undefined, dms: string | undefined, operation: EstOperation, work: () => Promise<T>): Promise<T> {
  if (!metrics) return work();
  const elapsed = metrics.stopwatch();
  try {
    const result = await work();
    metrics.estEnrollment(dms ?? 'unknown', operation, 'success', elapsed());
    return result;
  } catch (err) {
    const code = isDomainError(err) ? err.code : 'INTERNAL';
    const known = dms !== undefined && !(isDomainError(err) && err.kind === 'not_found');
    metrics.estEnrollment(known ? dms : 'unknown', operation, code, elapsed());
    throw err;
  }
}

export const estRoutes =
  (opts: EstOptions): FastifyPluginAsync =>
  async (scope) => {
    const { enrollment, metrics } = opts;
    // EST bodies are not JSON: take every body as bytes, small, and judge its type per route.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: EST_BODY_LIMIT }, (_request, body, done) => done(null, body));
    scope.setErrorHandler(estErrorHandler);
    scope.setNotFoundHandler(estNotFoundHandler);
    // Strict embedded clients match header names case-sensitively: every answer here, errors included.
    scope.addHook('onRequest', (_request, reply, done) => {
      writeCanonicalHeaderNames(reply.raw);
      done();
    });

    for (const path of ['/:label', '']) {
      const labelOf = (request: FastifyRequest) => (request.params as { label?: string }).label ?? opts.defaultDms;
      const enroll = (request: FastifyRequest) => ({ label: labelOf(request), csrDer: csrFromRequest(request), credentials: credentialsOf(request) });

      scope.get(`${path}/cacerts`, async (request, reply) => sendCertificates(request, reply, await enrollment.cacerts(labelOf(request))));

      scope.post(`${path}/simpleenroll`, async (request, reply) => {
        const result = await metered(metrics, labelOf(request), 'enroll', () => enrollment.enroll(enroll(request)));
        return sendCertificates(request, reply, [result.certificate.der]);
      });

      scope.post(`${path}/simplereenroll`, async (request, reply) => {
        const result = await metered(metrics, labelOf(request), 'reenroll', () => enrollment.reenroll(enroll(request)));
        return sendCertificates(request, reply, [result.certificate.der]);
      });

      // The key type is the DMS's choice (its default key), not the CSR's: the CSR only names the subject.
      scope.post(`${path}/serverkeygen`, async (request, reply) => {
        const result = await metered(metrics, labelOf(request), 'serverkeygen', () => enrollment.serverKeygen(enroll(request)));
        return sendServerKeygen(reply, result.privateKeyPkcs8, result.certificate.der);
      });

      scope.get(`${path}/csrattrs`, async (request, reply) => sendCsrAttrs(reply, await enrollment.csrattrs(labelOf(request))));

      // Full CMC (RFC 7030 4.3) is optional and not offered: say so instead of "not found".
      scope.post(`${path}/fullcmc`, async (_request, reply) => sendPlainError(reply, 501, 'EST_OPERATION_UNSUPPORTED', 'fullcmc is not supported'));
    }
  };
