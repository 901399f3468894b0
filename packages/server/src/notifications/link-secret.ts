import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LINK_SECRET_FILE = 'link-secret';

/**
 * The key that signs approve/deny links: AIRLOCK_LINK_SECRET when set (share it between instances
 * behind one URL), otherwise 256 random bits kept in the data directory (mode 0600), created on
 * first start so links stay valid across restarts.
 */
export function loadLinkSecret(dataDir: string, configured: string | undefined): Buffer {
  if (configured !== undefined) {
    if (configured.length < 32) throw new Error('the link secret must be at least 32 characters');
    return Buffer.from(configured, 'utf8');
  }
  const file = join(dataDir, LINK_SECRET_FILE);
  if (existsSync(file)) {
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (secret.length < 32) throw new Error(`${file} does not hold a 256-bit hex secret`);
    return secret;
  }
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}
