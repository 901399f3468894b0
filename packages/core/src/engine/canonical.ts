import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, no whitespace, so equal values always serialise the same.
 * Approvals are bound to the hash of the canonical call; audit records hash their canonical form.
 * Undefined object members are left out; undefined array items, functions and symbols are `null`;
 * a non-finite number throws.
 *
 * Written as one string-building pass because it runs on every audited decision: it is about
 * twice as fast as sorting `Object.entries` and joining mapped parts (no intermediate arrays, keys
 * sorted only when they are not already in order, quoted keys cached).
 */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (!first) out += ',';
    out += `${quotedKey(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}

/** Object keys repeat across calls (argument and decision field names): quote each once. */
const QUOTED_KEYS = new Map<string, string>();
const QUOTED_KEYS_LIMIT = 4096;

function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (QUOTED_KEYS.size < QUOTED_KEYS_LIMIT) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The identity of one call: who, which tool, exactly which arguments. */
export function callHash(call: { agent: string; tool: string; args: Record<string, unknown>; sessionAttributes?: Record<string, unknown> | null | undefined }): string {
  // The session's attributes are part of the call when it has any (an approval granted in one
  // customer's session cannot be spent in another's); a call without them hashes as it always did.
  const attributes = call.sessionAttributes;
  if (attributes && Object.keys(attributes).length > 0) return sha256Hex(canonicalJson({ agent: call.agent, tool: call.tool, args: call.args, sessionAttributes: attributes }));
  return sha256Hex(canonicalJson({ agent: call.agent, tool: call.tool, args: call.args }));
}
