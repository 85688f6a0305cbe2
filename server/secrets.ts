import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';

const KEY_FILE = 'streeteye.key';

/**
 * The server's 32-byte master key: derived from STREETEYE_SECRET, else read from (or created in)
 * DATA_DIR/streeteye.key with mode 0600. It seals camera credentials and signs live URLs.
 */
export async function loadSecretKey(dataDir: string, secret?: string): Promise<Buffer> {
  if (secret) return createHash('sha256').update(`streeteye:${secret}`).digest();
  const path = join(dataDir, KEY_FILE);
  try {
    const hex = (await readFile(path, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${path} is not a 64-hex-digit key`);
    return Buffer.from(hex, 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return key;
}

/** Sub-keys so that one purpose's key never doubles as another's. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return createHash('sha256').update(master).update(`\0${purpose}`).digest();
}

/** AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>" in base64url. */
export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function open(key: Buffer, sealed: string): string {
  const [version, iv, tag, ct] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unrecognised sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
