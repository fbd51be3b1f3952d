/**
 * Keeps the KMS in step with CA keys through the CA service's events: a CA created or imported with a key
 * makes that key a KMS key bound to the CA; a deleted CA unbinds it. One consumer group, so each event is
 * handled once among replicas; handling is idempotent, so a redelivery changes nothing.
 */
import type { CaRepository } from '../../domain/ca/ca-repository.ts';
import type { EventBus } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { KmsService } from './kms-service.ts';

export const KMS_CA_KEYS_GROUP = 'kms.ca-keys';

interface CaEventData {
  id?: unknown;
  key_id?: unknown;
  engine_id?: unknown;
}

export async function followCaKeys(kms: KmsService, bus: EventBus, logger: Logger): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  for (const type of ['ca.create', 'ca.import', 'ca.delete']) {
    stops.push(
      await bus.subscribe(type, `${KMS_CA_KEYS_GROUP}.${type}`, async (event) => {
        const d = (event.data ?? {}) as CaEventData;
        if (typeof d.id !== 'string' || typeof d.key_id !== 'string' || typeof d.engine_id !== 'string') return;
        try {
          if (event.type === 'ca.delete') await kms.unbindCaKey({ caId: d.id, keyId: d.key_id });
          else await kms.bindCaKey({ caId: d.id, keyId: d.key_id, engineId: d.engine_id });
        } catch (err) {
          logger.warn({ err, caId: d.id, keyId: d.key_id, type: event.type }, 'could not record the key of a CA in the KMS');
          throw err;
        }
      }),
    );
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}

/**
 * Records the keys of CAs that are not KMS keys yet (CAs made before the KMS ran, or while it was down), at
 * start. Reads the CAs through the CA repository port, page by page; idempotent like the event handlers.
 */
export async function backfillCaKeys(kms: KmsService, cas: CaRepository, logger: Logger): Promise<number> {
  let bookmark: string | undefined;
  let bound = 0;
  do {
    const page = await cas.list({ pageSize: 500, ...(bookmark ? { bookmark } : {}) });
    for (const ca of page.list) {
      if (!ca.keyId || !ca.engineId) continue;
      try {
        if (await kms.bindCaKey({ caId: ca.id, keyId: ca.keyId, engineId: ca.engineId })) bound++;
      } catch (err) {
        logger.warn({ err, caId: ca.id, keyId: ca.keyId }, 'could not record the key of a CA in the KMS');
      }
    }
    bookmark = page.next ?? undefined;
  } while (bookmark);
  return bound;
}
