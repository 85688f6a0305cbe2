/**
 * A throw-away PostgreSQL server of its own (initdb in a temp dir, a free port, trust auth on loopback) for tests
 * that restart or stop the database. Restarting the shared CI server instead would pull it from under every other
 * test file running beside this one.
 *
 * Needs the server binaries (Debian's postgresql-NN package puts them in /usr/lib/postgresql/NN/bin); PostgreSQL
 * refuses to run as root, so as root the server runs as the `postgres` user through runuser.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './test-harness.js';

export interface PrivatePostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  restart(): void;
  stop(): void;
}

/** The newest installed server's bin directory at version 15 or later, or null when there is none. */
function serverBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).map(Number).filter((v) => v >= 15 && existsSync(join(root, String(v), 'bin', 'pg_ctl'))).sort((a, b) => a - b);
  // the oldest one: 15 is the version production runs
  return versions.length ? join(root, String(versions[0]), 'bin') : null;
}

/** The user the server runs as: ourselves, or `postgres` when we are root. Null when root has no such user. */
function serverUser(): { uid: number; gid: number; name: string } | null {
  const me = userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, name: me.username };
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid, name: 'postgres' };
  } catch {
    return null;
  }
}

export function privatePostgresAvailable(): boolean {
  return serverBinDir() !== null && serverUser() !== null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = serverBinDir();
  const user = serverUser();
  if (!bin || !user) throw new Error('no PostgreSQL server binaries (or no postgres user to run them as root)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'streeteye-pg-'));
  chmodSync(dir, 0o700);
  if (userInfo().uid === 0) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const run = (tool: string, args: string[]) => {
    const argv = userInfo().uid === 0 ? ['runuser', ['-u', user.name, '--', join(bin, tool), ...args]] as const : [join(bin, tool), args] as const;
    execFileSync(argv[0], [...argv[1]], { stdio: 'ignore', timeout: 60_000, cwd: dir });
  };
  const ctl = (action: string) => run('pg_ctl', [
    '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-m', 'fast',
    '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=200`, action,
  ]);
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
  ctl('start');
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => ctl('restart'),
    stop: () => {
      if (stopped) return;
      stopped = true;
      try { ctl('stop'); } catch { /* already down */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
