/** The real `lamassu serve` on either database: SQLite in its data directory, or PostgreSQL in a fresh schema dropped at stop. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startLamassu, type LamassuProcess } from './lamassu-process.ts';
import { postgresUrl } from './services.ts';
import type { StorageKind } from './storage.ts';

export async function startLamassuOn(kind: StorageKind, env: Record<string, string> = {}, opts: Parameters<typeof startLamassu>[1] = {}): Promise<LamassuProcess> {
  if (kind === 'sqlite') return startLamassu(env, opts);
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const dropSchema = async () => {
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    try {
      await client.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await client.end();
    }
  };
  let server: LamassuProcess;
  try {
    server = await startLamassu({ DATABASE_URL: postgresUrl(), LAMASSU_POSTGRES_SCHEMA: schema, ...env }, opts);
  } catch (err) {
    await dropSchema();
    throw err;
  }
  return {
    ...server,
    async stop() {
      await server.stop();
      await dropSchema();
    },
  };
}
