import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Served by the C++ server under /admin: hashed files in /admin/assets/ are cached for a year,
// index.html never. Nothing is inlined (no data: URIs, no inline script), so the server's
// Content-Security-Policy can stay `'self'` only.
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: {
    // The CMake build writes into its own tree (admin-ui/CMakeLists.txt); a plain build into dist/.
    outDir: process.env.CXP_UI_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npm run dev` against a local gateway (make run): the API and the auth routes are proxied.
    proxy: {
      '/admin/api': 'http://127.0.0.1:4000',
      '/bootstrap/status': 'http://127.0.0.1:4000',
      '/session': 'http://127.0.0.1:4000',
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
