import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into web/dist, which `lamassu serve` serves at / (src/http/web/web-console.ts).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The console must stay small: fail the build rather than ship a bloated chunk unnoticed.
    chunkSizeWarningLimit: 500,
  },
  server: {
    // `npm run dev` in web/: the API of a local `lamassu serve`.
    proxy: { '/api': { target: 'https://localhost:8443', secure: false } },
  },
});
