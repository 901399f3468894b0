import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w @airlock/dashboard` proxies the API to a server started with `npm start`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/v1': 'http://127.0.0.1:7300' } },
});
