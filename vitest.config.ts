import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{server,ingest,media,onvif,media-tools,lib,analytics,simulator,console,test,gb28181}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'console/dist/**', 'data/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
