/**
 * Child process of crash-safety.test.ts: commits multi-row transactions through the repositories until
 * it is killed, printing the number of each transaction once it has committed.
 * Transaction k writes the lease `burst-<k>` and ROWS_PER_TRANSACTION admin tokens `<k>-<i>`.
 */
import { createStorage, type StorageConfig } from '../../src/engines/storage/create-storage.ts';

export const ROWS_PER_TRANSACTION = 20;

export const tokenHash = (k: number, i: number) => `${k}-${i}`.padStart(64, '0');

async function main(config: StorageConfig): Promise<void> {
  const storage = await createStorage(config);
  for (let k = 0; ; k++) {
    await storage.transaction(async (tx) => {
      await tx.leases.tryAcquire(`burst-${k}`, 'writer', 60_000, new Date(0));
      for (let i = 0; i < ROWS_PER_TRANSACTION; i++) {
        await tx.adminTokens.insert({
          id: `${k}-${i}`,
          tokenHash: tokenHash(k, i),
          subject: 'crash-writer',
          role: 'pki-viewer',
          createdAt: new Date(k),
        });
      }
    });
    process.stdout.write(`${k}\n`);
  }
}

if (process.argv[2]) await main(JSON.parse(process.argv[2]) as StorageConfig);
