/// <reference types="vitest/config" />
// `npm run dev` serves the UI with hot reload and proxies the API to a running `shoegen serve`
// (VITE_API_URL, default http://127.0.0.1:8011); `npm run build` writes dist/, which `shoegen serve` serves at /.
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '');
  const target = env.VITE_API_URL || 'http://127.0.0.1:8011';
  const proxied = { target, changeOrigin: true };
  return {
    plugins: [react()],
    server: {
      port: 5173,
      proxy: { '/api': proxied, '/sdapi': proxied, '/openapi.json': proxied, '/docs': proxied },
    },
    preview: { proxy: { '/api': proxied, '/sdapi': proxied } },
    build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 600 },
    test: {
      environment: 'happy-dom',
      include: ['src/**/*.test.{ts,tsx}', 'scripts/**/*.test.mjs'],
      setupFiles: ['src/test/setup.ts'],
      restoreMocks: true,
      pool: 'threads',
      maxWorkers: 2,
    },
  };
});
