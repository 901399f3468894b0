import { randomBytes } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** Bytes from the CSPRNG, drawn from a pooled buffer: one system call per ~340 ids instead of one each. */
function random(size: number): Buffer {
  if (offset + size > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + size);
  offset += size;
  return bytes;
}

/** A random identifier with a type prefix (`dec_…`, `apr_…`): 96 bits, URL-safe, never guessable. */
export function newId(prefix: string): string {
  return `${prefix}_${random(12).toString('base64url')}`;
}

/** A random secret for tokens and keys: 256 bits, base64url. Not pooled: secrets share no buffer. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
