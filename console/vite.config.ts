import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const server = process.env.STREETEYE_API ?? 'http://localhost:8080';

// root is console/ (vite build console); the server serves console/dist.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: true, ws: true },
      '/live': { target: server, changeOrigin: true },
    },
  },
});
