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
    // the simulated cameras listen on loopback (and a few tests use TEST-NET-1 addresses): allowed in tests, as
    // the demo fleet's own endpoints are in `npm start`; the node processes of the cluster tests inherit it
    env: { CAMERA_NETWORKS: '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,::1/128,192.0.2.0/24' },
    reporters: ['default'],
  },
});
