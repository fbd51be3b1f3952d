/** One HTTP request to a subscriber's endpoint, its outcome told as a DeliveryError the delivery loop can act on. */
import { STATUS_CODES } from 'node:http';
import { Agent, request } from 'undici';
import { DeliveryError } from '../../domain/alerts/delivery.ts';

/** 408, 429 and 5xx are worth another try; any other refusal will be refused again. */
const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * Kept-alive connections shared by every send. No cap per endpoint: the delivery loop bounds the sends in
 * flight, and a cap here would let one slow subscription hold up another to the same host.
 * undici's `request` rather than `fetch`: no WHATWG streams or Response objects per send, a fraction of the CPU.
 */
const agent = new Agent({ keepAliveTimeout: 30_000 });

export async function sendHttp(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<void> {
  let status: number;
  try {
    // Redirects are not followed (undici's request never does): a subscriber's URL is where the event goes, nowhere else.
    const response = await request(url, { ...init, dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    status = response.statusCode;
    // The body is not needed; read it so the connection can be reused, but never wait long or keep much of it.
    await Promise.race([response.body.dump({ limit: 64 * 1024 }).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
  } catch (e) {
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED') throw new DeliveryError(`no answer within ${timeoutMs} ms`, true);
    throw new DeliveryError(`cannot reach ${new URL(url).host}: ${err.code ?? err.cause?.code ?? err.cause?.message ?? err.message}`, true);
  }
  if (status >= 200 && status < 300) return;
  throw new DeliveryError(`HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trim(), retryableStatus(status));
}
