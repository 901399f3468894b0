import * as crypto from 'node:crypto';

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
  try {
    return flat(canonical(value, 0));
  } catch (error) {
    if (error === TOO_DEEP) return flat(canonicalIterative(value));
    throw error;
  }
}

/**
 * The text built above is a rope (V8 joins `a + b` as a pair, not a copy): a hundred pieces for a
 * decision record. Whoever reads it first flattens it, which costs little now, while the pieces
 * are fresh in the cache and in the young generation, and a lot later: the audit record's copy to
 * the writer thread took 5.7–7.2 µs a record under load reading ropes and 1.8–2.3 µs reading flat
 * text (bench/README: "Runs after flat canonical text and compact budget keys"), and a rope held
 * across a scavenge has every piece copied. Reading a character makes V8 flatten the string in
 * place; the text is the same either way.
 */
function flat(text: string): string {
  // Kept where the optimizing compiler cannot drop the read as unused.
  flattened.firstChar = text.charCodeAt(0);
  return text;
}
const flattened = { firstChar: 0 };

/**
 * Past this depth the recursive pass gives up and the iterative one starts over: the recursion is
 * the fast path for every real call, the explicit stack is for values nested deeper than any stack
 * could hold (100,000 levels), so that no input ends in a stack overflow.
 */
const RECURSION_LIMIT = 512;
const TOO_DEEP = Symbol('too deep');

function canonical(value: unknown, depth: number): string {
  if (typeof value !== 'object' || value === null) return scalar(value);
  if (depth >= RECURSION_LIMIT) throw TOO_DEEP;
  const frozen = Object.isFrozen(value);
  if (frozen) {
    const known = FROZEN_TEXT.get(value);
    if (known !== undefined) return known;
  }
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonical(value[i], depth + 1);
    }
    out += ']';
  } else {
    const record = value as Record<string, unknown>;
    const keys = sortedKeys(record);
    out = '{';
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      if (!first) out += ',';
      out += `${quotedKey(key)}:${canonical(member, depth + 1)}`;
      first = false;
    }
    out += '}';
  }
  if (frozen) remember(value, out);
  return out;
}

/**
 * The text of deeply frozen values, by identity: the engine shares frozen parts between decisions
 * (a rule's `matched` list, the policy reference, a risk tier), written again for every audited
 * decision otherwise. A frozen object can still hold a getter or a mutable member; it is
 * remembered only when every member is plain data, frozen all the way down (checked once).
 */
const FROZEN_TEXT = new WeakMap<object, string>();
const NOT_DEEPLY_FROZEN = new WeakSet<object>();
/** Deeper frozen values are written each time (the check stays cheap and never recurses far). */
const FROZEN_DEPTH = 8;

function remember(value: object, text: string): void {
  if (NOT_DEEPLY_FROZEN.has(value)) return;
  if (deeplyFrozen(value, 0)) FROZEN_TEXT.set(value, flat(text));
  else NOT_DEEPLY_FROZEN.add(value);
}

function deeplyFrozen(value: object, depth: number): boolean {
  if (depth > FROZEN_DEPTH || !Object.isFrozen(value)) return false;
  for (const key of Object.keys(value)) {
    const own = Object.getOwnPropertyDescriptor(value, key);
    if (own === undefined || !('value' in own)) return false;
    const member: unknown = own.value;
    if (typeof member === 'object' && member !== null && !FROZEN_TEXT.has(member) && !deeplyFrozen(member, depth + 1)) return false;
  }
  return true;
}

/** Strings that JSON.stringify writes other than as themselves in quotes (it escapes lone surrogates; any surrogate goes the long way). */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function scalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number');
      // Number-to-string is what JSON.stringify writes for a finite number (-0 as 0).
      return `${value}`;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      // null; undefined, functions and symbols as null; a bigint throws as JSON.stringify does.
      return value === null ? 'null' : (JSON.stringify(value) ?? 'null');
  }
}

function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      if (keys.length > SMALL_SORT) keys.sort();
      else insertionSort(keys, i);
      break;
    }
  }
  return keys;
}

/** Up to this many keys (a decision has ten), an insertion sort in place beats Array#sort's setup. */
const SMALL_SORT = 24;

/** Sorts `keys` in place by UTF-16 code units (as Array#sort does), `keys[0..from)` already in order. */
function insertionSort(keys: string[], from: number): void {
  for (let i = from; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}

interface Open {
  items: unknown[] | undefined;
  record: Record<string, unknown> | undefined;
  keys: string[];
  next: number;
  first: boolean;
}

/** The same text as `canonical`, with an explicit stack instead of recursion. */
export function canonicalIterative(root: unknown): string {
  let out = '';
  const open: Open[] = [];
  const begin = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) {
      out += scalar(value);
    } else if (Array.isArray(value)) {
      out += '[';
      open.push({ items: value, record: undefined, keys: [], next: 0, first: true });
    } else {
      out += '{';
      const record = value as Record<string, unknown>;
      open.push({ items: undefined, record, keys: sortedKeys(record), next: 0, first: true });
    }
  };
  begin(root);
  while (open.length > 0) {
    const top = open[open.length - 1] as Open;
    if (top.items) {
      if (top.next >= top.items.length) {
        out += ']';
        open.pop();
        continue;
      }
      if (top.next > 0) out += ',';
      begin(top.items[top.next++]);
      continue;
    }
    const record = top.record as Record<string, unknown>;
    while (top.next < top.keys.length && record[top.keys[top.next] as string] === undefined) top.next++;
    if (top.next >= top.keys.length) {
      out += '}';
      open.pop();
      continue;
    }
    const key = top.keys[top.next++] as string;
    if (!top.first) out += ',';
    top.first = false;
    out += `${quotedKey(key)}:`;
    begin(record[key]);
  }
  return out;
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

/**
 * crypto.hash (Node ≥ 20.12): one call, no Hash object and stream around it. createHash's object
 * was ~4 % of the event loop's time under load, spent on the API key check of every decide.
 */
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;

export function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/** The SHA-256 of a text's UTF-8 bytes, as bytes (to compare with timingSafeEqual). */
export function sha256Bytes(text: string): Buffer {
  return oneShotHash ? oneShotHash('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest();
}

/** The identity of one call: who, which tool, exactly which arguments. */
export function callHash(call: { agent: string; tool: string; args: Record<string, unknown>; sessionAttributes?: Record<string, unknown> | null | undefined }): string {
  // The session's attributes are part of the call when it has any (an approval granted in one
  // customer's session cannot be spent in another's); a call without them hashes as it always did.
  const attributes = call.sessionAttributes;
  if (attributes && Object.keys(attributes).length > 0) return sha256Hex(canonicalJson({ agent: call.agent, tool: call.tool, args: call.args, sessionAttributes: attributes }));
  return sha256Hex(canonicalJson({ agent: call.agent, tool: call.tool, args: call.args }));
}
