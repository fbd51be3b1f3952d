/** One HTTP request to a subscriber's endpoint, its outcome told as a DeliveryError the delivery loop can act on. */
import { DeliveryError } from '../../domain/alerts/delivery.ts';

/** 408, 429 and 5xx are worth another try; any other refusal will be refused again. */
const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

export async function sendHttp(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<void> {
  let response: Response;
  try {
    // Redirects are not followed: a subscriber's URL is where the event goes, nowhere else.
    response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new DeliveryError(`no answer within ${timeoutMs} ms`, true);
    throw new DeliveryError(`cannot reach ${new URL(url).host}: ${err.cause?.code ?? err.cause?.message ?? err.message}`, true);
  }
  // The body is not needed; read it so the connection can be reused, but never wait long for it.
  await Promise.race([response.arrayBuffer().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
  if (response.status >= 200 && response.status < 300) return;
  throw new DeliveryError(`HTTP ${response.status} ${response.statusText}`.trim(), retryableStatus(response.status));
}
