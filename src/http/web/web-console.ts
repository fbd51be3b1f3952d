/**
 * The web console (web/, built by `npm install` into web/dist) served from the HTTPS listener at `/`.
 * The build is a few hundred KB, so it is read into memory once at start. Hashed files under /assets/ are
 * cached for a year; index.html is revalidated on every load so a new build shows at once. The console's
 * own screens (CONSOLE_SCREENS, the routes of web/src/App.tsx) answer index.html so a deep link or a reload
 * works; routes are registered only for those and for the built files, so no other path (API, EST, health)
 * is ever shadowed and each keeps its own 404.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm --prefix web run build` writes (the same from src/http/web and dist/http/web). */
export const WEB_DIST_DIR = path.resolve(import.meta.dirname, '../../../web/dist');

/** First path segments of the console's screens (web/src/App.tsx); each answers index.html, with any sub-path. */
export const CONSOLE_SCREENS = ['cas', 'certificates', 'dms', 'devices', 'profiles', 'alerts', 'device-groups', 'keys'];

/**
 * The console runs only its own scripts and talks only to this server, plus `connectOrigins` (the OIDC
 * identity provider, for discovery and the code exchange, when the console signs in there). Styles may be
 * inline: Mantine sets CSS variables in a <style> element and style attributes.
 */
export function consoleCsp(connectOrigins: string[]): string {
  return (
    `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src ${["'self'", ...connectOrigins].join(' ')}; ` +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

function readTree(dir: string, base = dir, files = new Map<string, WebFile>()): Map<string, WebFile> {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      readTree(full, base, files);
      continue;
    }
    const urlPath = '/' + path.relative(base, full).split(path.sep).join('/');
    const body = readFileSync(full);
    files.set(urlPath, {
      body,
      type: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      // Vite names everything under assets/ by content hash.
      immutable: urlPath.startsWith('/assets/'),
    });
  }
  return files;
}

/** Registers the console's routes; without a build (web/dist missing) logs why and serves nothing. */
export function registerWebConsole(app: FastifyInstance, dir = WEB_DIST_DIR, connectOrigins: string[] = []): void {
  if (!existsSync(path.join(dir, 'index.html'))) {
    app.log.warn({ dir }, 'web console not built (run `npm install` or `npm --prefix web run build`); not served');
    return;
  }
  const files = readTree(dir);
  const index = files.get('/index.html')!;
  const csp = consoleCsp(connectOrigins);

  const send = (request: FastifyRequest, reply: FastifyReply, file: WebFile) => {
    reply
      .header('content-type', file.type)
      .header('etag', file.etag)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (file === index) reply.header('content-security-policy', csp).header('x-frame-options', 'DENY');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  };
  const hidden = { schema: { hide: true } };

  for (const [urlPath, file] of files) app.get(urlPath, hidden, (request, reply) => send(request, reply, file));
  const spa = (request: FastifyRequest, reply: FastifyReply) => send(request, reply, index);
  app.get('/', hidden, spa);
  for (const screen of CONSOLE_SCREENS) {
    app.get(`/${screen}`, hidden, spa);
    app.get(`/${screen}/*`, hidden, spa);
  }
}
