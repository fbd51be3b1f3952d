/** What black-box tests and benchmarks need to run the real `lamassu` program as a separate process. */
import net from 'node:net';
import path from 'node:path';

/** The program `npm start` runs (bin/lamassu.js: the compiled build). */
export const lamassuBin = path.resolve(import.meta.dirname, '../../bin/lamassu.js');

/** A TCP port that was free a moment ago, for a server started next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The parent's environment without Lamassu or seed settings: the server runs on its defaults plus what the caller adds. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const ours = /^(LAMASSU_|POSTGRES_|PKCS11_|VAULT_|GOPEM_)|^(DATABASE_URL|ENGINE)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !ours.test(k)));
}
