import { describe, expect, it } from 'vitest';
import { ConfigError, envWithArgs, loadConfig } from './config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, tlsPort: 8443, simCameras: 8, role: 'all', databaseUrl: undefined, sessionTtlHours: 12 });
    expect(c.dataDir).toMatch(/data$/);
  });

  it('refuses bad values with a message naming the variable', () => {
    const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT must be a whole number/],
      [{ PORT: '70000' }, /PORT must be between/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres/],
      [{ STREETEYE_SECRET: 'short' }, /STREETEYE_SECRET must be at least 32/],
      [{ STREETEYE_ADMIN_PASSWORD: 'x' }, /STREETEYE_ADMIN_PASSWORD/],
      [{ STREETEYE_SIM_CAMERAS: '-1' }, /STREETEYE_SIM_CAMERAS/],
      [{ STREETEYE_SIM_SOURCE: '/no/such/clip.mp4' }, /STREETEYE_SIM_SOURCE: no such file/],
      [{ STREETEYE_ROLE: 'worker' }, /STREETEYE_ROLE \(--role\) must be/],
      [{ TLS_CERT_FILE: '/x.pem' }, /TLS_CERT_FILE and TLS_KEY_FILE must be set together/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
      [{ DATABASE_URL: 'postgres://db/x', STREETEYE_ROLE: 'ingest' }, /STREETEYE_SECRET must be set on every node/],
      [{ STREETEYE_NODE_ADDRESS: 'http://x:8080/path' }, /STREETEYE_NODE_ADDRESS must be a base URL/],
      [{ LEASE_TTL_S: '1' }, /LEASE_TTL_S/],
      [{ TRANSCODE_MAX_SESSIONS: '-1' }, /TRANSCODE_MAX_SESSIONS/],
      [{ TRANSCODE_MAX_SESSIONS: 'four' }, /TRANSCODE_MAX_SESSIONS/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    }
  });

  it('cluster settings: capacity follows INGEST_MAX_SESSIONS unless INGEST_CAPACITY says otherwise', () => {
    const secret = 'x'.repeat(32);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', STREETEYE_ROLE: 'api', STREETEYE_SECRET: secret })).toMatchObject({ role: 'api', leaseTtlMs: 3_000 });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).role).toBe('all');
    expect(loadConfig({ INGEST_MAX_SESSIONS: '150' }).ingestCapacity).toBe(150);
    expect(loadConfig({ INGEST_MAX_SESSIONS: '150', INGEST_CAPACITY: '40' }).ingestCapacity).toBe(40);
    expect(loadConfig({ STREETEYE_NODE_ADDRESS: 'http://ingest-1:8080/' }).nodeAddress).toBe('http://ingest-1:8080');
  });

  it('transcode budget: 4 H.264 transcodes a node by default, 0 switches them off', () => {
    expect(loadConfig({}).transcodeMaxSessions).toBe(4);
    expect(loadConfig({ TRANSCODE_MAX_SESSIONS: '0' }).transcodeMaxSessions).toBe(0);
  });

  it('takes --role and friends from the command line', () => {
    expect(loadConfig(envWithArgs({}, ['--role', 'ingest'])).role).toBe('ingest');
    expect(loadConfig(envWithArgs({ STREETEYE_ROLE: 'api' }, ['--role=analytics', '--port', '9090']))).toMatchObject({ role: 'analytics', port: 9090 });
    expect(() => envWithArgs({}, ['--colour', 'red'])).toThrow(/unknown option --colour/);
    expect(() => envWithArgs({}, ['--role'])).toThrow(/needs a value/);
  });
});
