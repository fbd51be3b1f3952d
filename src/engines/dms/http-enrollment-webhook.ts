/** EXTERNAL_WEBHOOK: POSTs the enrollment facts as JSON and reads `{"authorized": true|false}`. */
import type { EnrollmentFacts, EnrollmentWebhook } from '../../domain/dms/enrollment-webhook.ts';
import { unavailable } from '../../domain/errors.ts';

const down = (why: string) => unavailable('ENROLL_WEBHOOK_UNAVAILABLE', `the enrollment webhook did not answer usably: ${why}`);

export class HttpEnrollmentWebhook implements EnrollmentWebhook {
  async authorize(url: string, timeoutMs: number, facts: EnrollmentFacts): Promise<boolean> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          dms_id: facts.dmsId,
          device_id: facts.deviceId,
          slot: facts.slot,
          operation: facts.operation,
          csr: facts.csr,
          client_certificates: facts.clientCertificates,
        }),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw down((err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed');
    }
    // A refusal is an answer; anything that is not a 2xx JSON verdict is not.
    if (res.status === 401 || res.status === 403) return false;
    if (!res.ok) throw down(`HTTP ${res.status}`);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw down('the body is not JSON');
    }
    const verdict = (body as { authorized?: unknown } | null)?.authorized;
    if (typeof verdict !== 'boolean') throw down('no boolean "authorized" in the body');
    return verdict;
  }
}
