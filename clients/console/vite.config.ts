import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

// Served by the service under /console (its pages, its assets); the tRPC client package
// resolves to its TypeScript source, as everywhere in this repository.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  resolve: { conditions: ['account-deletion-source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline script or style: the service's Content-Security-Policy allows neither.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev -w @account-deletion/console`: the service (npm start) answers the calls.
    proxy: { '/trpc': 'http://127.0.0.1:8080', '/console/session': 'http://127.0.0.1:8080' },
  },
});
