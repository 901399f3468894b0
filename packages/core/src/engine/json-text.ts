/**
 * Checks on JSON text before (or instead of) trusting its parse: how deep it nests, and whether an
 * object names a key twice. `JSON.parse` handles any depth, but everything recursive after it may
 * not (JSON.stringify overflows the stack near 5,000 levels); and it keeps the last of duplicate
 * keys while another parser may keep the first, so a call decided on one value could run with
 * the other (I-JSON, RFC 7493, forbids duplicates). One linear pass with an explicit stack: it
 * never recurses, allocates only for objects with several keys, and jumps over string contents
 * with `indexOf`.
 */

/** How deep any JSON value entering Airlock may nest: request bodies, `airlock eval` lines, SDK calls. */
export const MAX_JSON_DEPTH = 64;

export type JsonTextProblem =
  | { code: 'too_deep'; message: string; path: string }
  | { code: 'invalid_text'; message: string; path: string }
  | { code: 'too_many_values'; message: string; path: string }
  | { code: 'duplicate_key'; message: string; path: string; key: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Up to this many keys an object's keys are compared in a list; past it, in a Set. */
const LIST_KEYS = 16;
/** How many levels of the path to a too-deep container a message shows. */
const SHOWN_LEVELS = 6;

const FRAMES: Frame[] = [];

interface Frame {
  object: boolean;
  /** The key being read (objects) or the item index (arrays): for the path in a message. */
  at: string | number;
  /** Keys seen so far (objects only): the first, then a list, then past LIST_KEYS a Set. */
  first: string | undefined;
  keys: string[] | undefined;
  set: Set<string> | undefined;
}

/**
 * The first problem of a JSON text: a container nested deeper than `maxDepth`, more than
 * `maxValues` values, a key repeated within one object (compared after unescaping: `"am\u006funt"`
 * is `"amount"`), or (with `checkText`) a string or key holding U+0000 or an unpaired surrogate
 * (`invalid_text`: it could not be stored as sent). Undefined when there is none. Never throws; for text that is not JSON it may answer anything or nothing
 * (`JSON.parse` judges syntax), but always in linear time.
 */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH, maxValues = MAX_JSON_VALUES, checkText = true): JsonTextProblem | undefined {
  // Frames are reused across calls (the scan is synchronous): a typical body allocates nothing
  // but the keys of its objects.
  const stack = FRAMES;
  let depth = 0;
  // Containers plus separators: within one of the true count of values, which is what every walk
  // after the parse (validation, canonical JSON, the argument index) costs.
  let values = 0;
  let expectKey = false;
  const length = text.length;
  // Escapes are where NUL and unpaired surrogates can hide (raw control characters are not JSON,
  // and a body decoded from UTF-8 holds no unpaired surrogate): most texts have none to look at.
  // The next `\u` at or after the scan, found once per escape: the scan stays linear.
  let nextEscape = checkText ? text.indexOf('\\u') : -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      if (nextEscape >= 0 && nextEscape < i) nextEscape = text.indexOf('\\u', i);
      if (nextEscape >= 0 && nextEscape < end && !wellFormedString(text, i, end)) {
        if (expectKey) (stack[depth - 1] as Frame).at = '(a key)';
        const path = pathOf(stack, depth);
        return {
          code: 'invalid_text',
          message: `a string at ${path || 'the top'} holds U+0000 or an unpaired surrogate (\\uD800–\\uDFFF without its pair): text must be well-formed Unicode without NUL`,
          path,
        };
      }
      if (expectKey) {
        const frame = stack[depth - 1] as Frame;
        const raw = text.slice(i + 1, end);
        const key = raw.indexOf('\\') < 0 ? raw : unescapeKey(text.slice(i, end + 1));
        if (key !== undefined && seen(frame, key)) {
          frame.at = key;
          return { code: 'duplicate_key', message: `duplicate key ${JSON.stringify(key)} at ${pathOf(stack, depth)}: a JSON object may name a key once`, path: pathOf(stack, depth), key };
        }
        frame.at = key ?? raw;
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++values > maxValues) return tooMany(maxValues);
      if (depth >= maxDepth) {
        const path = pathOf(stack, Math.min(depth, SHOWN_LEVELS)) + (depth > SHOWN_LEVELS ? '…' : '');
        return { code: 'too_deep', message: `JSON nested deeper than ${maxDepth} levels at ${path || 'the top'}`, path };
      }
      const object = c === OPEN_OBJECT;
      const frame = stack[depth];
      if (frame) {
        frame.object = object;
        frame.at = object ? '' : 0;
        frame.first = undefined;
        frame.keys = undefined;
        frame.set = undefined;
      } else {
        stack.push({ object, at: object ? '' : 0, first: undefined, keys: undefined, set: undefined });
      }
      depth++;
      expectKey = object;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA) {
      if (++values > maxValues) return tooMany(maxValues);
      const frame = stack[depth - 1];
      if (frame) {
        if (frame.object) expectKey = true;
        else frame.at = (frame.at as number) + 1;
      }
    } else if (c === COLON) {
      expectKey = false;
    }
  }
  return undefined;
}

/**
 * Most values (objects, arrays and their members) one JSON text may hold. 1 MiB of JSON can hold
 * ~250,000: an argument of 100,000 ids or 60,000 keys cost 200–480 ms of the event loop in one
 * decide (parse, validation, canonical JSON, the argument index, the approval); this many cost a
 * few tens of milliseconds. A batch of 500 outcome reports holds ~7,500.
 */
export const MAX_JSON_VALUES = 20_000;

function tooMany(maxValues: number): JsonTextProblem {
  return { code: 'too_many_values', message: `JSON holding more than ${maxValues} values`, path: '' };
}

/**
 * Whether the JSON string from `start` to `end` (its quotes) decodes to well-formed Unicode without
 * U+0000. Such a string cannot be stored as it was sent (PostgreSQL's text holds no NUL; an unpaired
 * surrogate becomes U+FFFD in UTF-8, so the stored column would no longer match the sealed record).
 */
function wellFormedString(text: string, start: number, end: number): boolean {
  // Read in place, escapes decoded by hand: a JSON.parse per string cost ~1.6× the body's own
  // parse on a body of nothing but short escaped strings.
  let high = false; // a high surrogate waiting for its low half
  for (let j = start + 1; j < end; j++) {
    let code = text.charCodeAt(j);
    if (code === BACKSLASH) {
      if (text.charCodeAt(j + 1) === LETTER_U) {
        code = hex4(text, j + 2);
        if (code < 0) return true; // not JSON: JSON.parse judges the whole text
        j += 5;
      } else {
        code = LETTER_U; // \n, \", \\ …: one character, never a surrogate or NUL
        j += 1;
      }
    }
    if (code === 0) return false;
    if (high) {
      if (code < 0xdc00 || code > 0xdfff) return false;
      high = false;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      high = true;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return false;
    }
  }
  return !high;
}

const LETTER_U = 0x75;

/** The value of the four hex digits at `at`, or -1. */
function hex4(text: string, at: number): number {
  let value = 0;
  for (let k = at; k < at + 4; k++) {
    const c = text.charCodeAt(k);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end > 0) {
    let backslashes = 0;
    for (let j = end - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

function unescapeKey(quoted: string): string | undefined {
  try {
    const key: unknown = JSON.parse(quoted);
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Records `key` in the frame; true when it was already there. */
function seen(frame: Frame, key: string): boolean {
  if (frame.first === undefined) {
    frame.first = key;
    return false;
  }
  if (frame.first === key) return true;
  if (frame.set) {
    if (frame.set.has(key)) return true;
    frame.set.add(key);
    return false;
  }
  const keys = (frame.keys ??= []);
  for (let k = 0; k < keys.length; k++) if (keys[k] === key) return true;
  keys.push(key);
  if (keys.length > LIST_KEYS) {
    frame.set = new Set(keys);
    frame.keys = undefined;
  }
  return false;
}

/** `args.records.1.qty`: the keys and indexes leading to the current position. */
function pathOf(stack: Frame[], depth: number): string {
  let path = '';
  for (let d = 0; d < depth; d++) path += `${d > 0 ? '.' : ''}${String((stack[d] as Frame).at)}`;
  return path;
}

/**
 * Whether a value nests containers deeper than `maxDepth` (the top container is level 1). An
 * explicit stack, never recursion; stops at the first container past the bound. For values that
 * did not come from JSON text (an SDK caller's object): cycles are reported as too deep.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (maxDepth < 1) return true;
  // Allocated only when a container holds another: most arguments are flat.
  let values: object[] | undefined;
  let depths: number[] | undefined;
  let current: object | undefined = value;
  let depth = 1;
  while (current !== undefined) {
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const item: unknown = current[i];
        if (item === null || typeof item !== 'object') continue;
        if (depth >= maxDepth) return true;
        (values ??= []).push(item);
        (depths ??= []).push(depth + 1);
      }
    } else {
      for (const key in current) {
        if (!Object.prototype.hasOwnProperty.call(current, key)) continue;
        const member: unknown = (current as Record<string, unknown>)[key];
        if (member === null || typeof member !== 'object') continue;
        if (depth >= maxDepth) return true;
        (values ??= []).push(member);
        (depths ??= []).push(depth + 1);
      }
    }
    current = values?.pop();
    depth = depths?.pop() ?? 0;
  }
  return false;
}

/**
 * Whether a string can be stored as it is: well-formed Unicode without U+0000 (what
 * `jsonTextProblem` refuses as `invalid_text` in JSON text).
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A string made storable: each unpaired surrogate and each U+0000 becomes U+FFFD. */
export function storableText(text: string): string {
  return isStorableText(text) ? text : (text as string & { toWellFormed(): string }).toWellFormed().replaceAll('\u0000', '\ufffd');
}

/**
 * Whether some string in a value (a key or a member, at any depth; an explicit stack, never
 * recursion) cannot be stored as it is. For values that did not come from checked JSON text: an
 * SDK caller's arguments.
 */
export function holdsUnstorableText(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (!isStorableText(current)) return true;
    } else if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else if (current !== null && typeof current === 'object') {
      for (const key of Object.keys(current)) {
        if (!isStorableText(key)) return true;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * A parsed JSON value with every string (keys too) made storable (`storableText`): for reports of
 * calls that already ran (edge decisions, outcomes), which must be recorded, not refused. Depth is
 * bounded by the JSON text check before the parse. Keys that become equal keep the last member.
 */
export function withStorableText(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(withStorableText);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) out[storableText(key)] = withStorableText(member);
  return out;
}
