/**
 * The server's OpenAPI document as JSON: starts the real app (all services, embedded defaults, a temporary
 * data directory, ports chosen by the system), reads the document @fastify/swagger serves at /api/docs/json,
 * and stops. `node --import tsx scripts/openapi-document.ts web/openapi.json` writes it for the web
 * console's generated client (web/src/api/schema.d.ts); test/unit/web-api-schema.test.ts checks both are current.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startServer } from '../src/app.ts';
import { loadConfig } from '../src/config/load-config.ts';

export async function openApiDocument(): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-openapi-'));
  try {
    const config = loadConfig({
      env: { LAMASSU_DATA_DIR: dataDir, LAMASSU_HTTPS_PORT: '0', LAMASSU_HTTP_PORT: '0', LAMASSU_LISTEN_ADDRESS: '127.0.0.1' },
    });
    const server = await startServer(config, { logger: pino({ level: 'silent' }) });
    try {
      return `${JSON.stringify(server.https.swagger(), null, 2)}\n`;
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const out = process.argv[2];
  const doc = await openApiDocument();
  if (out) writeFileSync(out, doc);
  else process.stdout.write(doc);
}
