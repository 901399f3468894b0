import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isNode, isScalar, LineCounter, parseAllDocuments, visit, YAMLParseError, type Document } from 'yaml';
import type { LoadError } from '../errors.js';
import { PolicyLoadError } from '../errors.js';
import { policyDocumentSchema, type PolicyDocument } from './document.js';
import { firstYamlProblem } from './yaml-errors.js';

/** One YAML file of a bundle. `file` is bundle-relative and appears in every error about it. */
export interface PolicySource {
  file: string;
  text: string;
}

/** Finds the 1-based line of a path inside the document it was parsed from. */
export type Locator = (path: readonly (string | number)[]) => number | undefined;

/** A 1-based line and column in a source file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Finds where a path's value starts; `offset`, a character offset inside a string value (a CEL
 * expression), moves the position to that character of the value as written in the file.
 */
export type Positioner = (path: readonly (string | number)[], offset?: number) => SourcePosition | undefined;

export interface LoadedPolicy {
  document: PolicyDocument;
  file: string;
  locate: Locator;
  /** Line and column of a path, or of a character inside its string value. */
  position?: Positioner;
}

/** A validated, not yet compiled, set of policies. */
export interface PolicyBundle {
  name: string;
  /** Content digest: the same sources always give the same version string. */
  digest: string;
  policies: LoadedPolicy[];
  sources: PolicySource[];
}

const YAML_FILE = /\.ya?ml$/i;

/** Reads a policy file, or every `*.yaml` / `*.yml` directly inside a directory (not recursive). */
export function readPolicySources(path: string): PolicySource[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new PolicyLoadError([{ code: 'io_error', file: path, message: (error as Error).message }]);
  }
  if (!stat.isDirectory()) return [{ file: basename(path), text: readFileSync(path, 'utf8') }];
  return readdirSync(path)
    .filter((name) => YAML_FILE.test(name) && statSync(join(path, name)).isFile())
    .sort()
    .map((name) => ({ file: name, text: readFileSync(join(path, name), 'utf8') }));
}

/** Loads and validates a bundle from a file or directory. Throws `PolicyLoadError` with every problem found. */
export function loadBundle(path: string): PolicyBundle {
  return parseBundle(readPolicySources(path), basename(path).replace(YAML_FILE, ''));
}

export function digestSources(sources: readonly PolicySource[]): string {
  const hash = createHash('sha256');
  for (const source of [...sources].sort((a, b) => a.file.localeCompare(b.file))) {
    hash.update(source.file).update('\0').update(source.text).update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

export function parseBundle(sources: readonly PolicySource[], name = 'bundle'): PolicyBundle {
  const errors: LoadError[] = [];
  const policies: LoadedPolicy[] = [];
  for (const source of sources) {
    const lineCounter = new LineCounter();
    const deep = tooDeep(source.text);
    if (deep !== undefined) {
      // Before parsing: the parser recurses once per level (400,000 `[`: 5.9 s and 415 MB, then a stack overflow).
      const before = source.text.slice(0, deep);
      const line = before.split('\n').length;
      errors.push({ code: 'yaml_syntax', file: source.file, line, column: deep - before.lastIndexOf('\n'), message: `brackets are nested more than ${MAX_FLOW_DEPTH} deep here: a policy never needs that many; flatten it` });
      continue;
    }
    // uniqueKeys off: the parser compares each key with every earlier key of its mapping (20,000
    // keys: 5 s); duplicates are found below with a set, and reported as the parser would.
    const documents = parseAllDocuments(source.text, { lineCounter, prettyErrors: false, uniqueKeys: false });
    const list = Array.isArray(documents) ? documents : [];
    for (const doc of list) {
      if (doc.errors.length === 0) findDuplicateKey(doc);
      if (doc.errors.length > 0) {
        // One mistake, one problem: what follows the first error is the parser thrown off by it.
        const problem = firstYamlProblem(source.text, doc.errors, lineCounter);
        if (problem) errors.push({ code: 'yaml_syntax', file: source.file, ...problem });
        continue;
      }
      let raw: unknown;
      try {
        raw = doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        // Aliases are resolved here, not while parsing: an alias to no anchor, or an alias bomb.
        errors.push({
          code: 'yaml_syntax',
          file: source.file,
          ...firstAliasPosition(doc, lineCounter),
          message: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      if (raw === null || raw === undefined) continue; // an empty document, e.g. a trailing `---`
      const locate = locator(doc, lineCounter);
      const position = positioner(doc, lineCounter, source.text);
      const parsed = policyDocumentSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
          const at = position(path);
          errors.push({
            code: 'invalid_policy',
            file: source.file,
            line: at?.line,
            ...(at ? { column: at.column } : {}),
            path: formatPath(path),
            message: issue.message,
          });
        }
        continue;
      }
      policies.push({ document: parsed.data, file: source.file, locate, position });
    }
  }
  const seen = new Map<string, LoadedPolicy>();
  for (const policy of policies) {
    const previous = seen.get(policy.document.policy);
    if (previous) {
      errors.push({
        code: 'duplicate_policy',
        file: policy.file,
        line: policy.locate(['policy']),
        path: 'policy',
        message: `policy '${policy.document.policy}' is already defined in ${previous.file}`,
      });
    }
    seen.set(policy.document.policy, policy);
  }
  if (errors.length === 0 && policies.length === 0) {
    errors.push({ code: 'empty_bundle', file: name, message: 'no policy documents found' });
  }
  if (errors.length > 0) throw new PolicyLoadError(errors);
  return { name, digest: digestSources(sources), policies, sources: [...sources] };
}

/** Flow collections (`[`, `{`) nested deeper than this are refused before the file is parsed. */
export const MAX_FLOW_DEPTH = 64;

/**
 * The offset of the first bracket nested deeper than MAX_FLOW_DEPTH, counting every `[` and `{`
 * (quoted or not: a count that may only err towards refusing a file with dozens of brackets left
 * open in its strings, and cannot be fooled by quotes into missing real nesting).
 */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return undefined;
}

/** Adds the parser's DUPLICATE_KEY error for the first key repeated in one mapping, in document order. */
function findDuplicateKey(doc: Document): void {
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          const [start, end] = pair.key.range ?? [0, 0];
          doc.errors.push(new YAMLParseError([start, end], 'DUPLICATE_KEY', 'Map keys must be unique'));
          return visit.BREAK;
        }
        seen.add(pair.key.value);
      }
      return undefined;
    },
  });
}

function firstAliasPosition(doc: Document, lineCounter: LineCounter): Partial<SourcePosition> {
  let position: Partial<SourcePosition> = {};
  visit(doc, {
    Alias(_key, node) {
      if (node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        position = { line, column: col };
      }
      return visit.BREAK;
    },
  });
  return position;
}

/**
 * A positioner over a parsed YAML document. An offset inside a string value is mapped to the file
 * by walking the value's characters through its source: quotes, escapes, line breaks and the
 * indentation of block scalars are skipped, so the position lands on the character as written.
 */
export function positioner(doc: Document, lineCounter: LineCounter, text: string): Positioner {
  return (path, offset) => {
    for (let length = path.length; length >= 0; length--) {
      const node = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
      if (!isNode(node) || !node.range) continue;
      let at = node.range[0];
      if (offset !== undefined && length === path.length && isScalar(node) && typeof node.value === 'string') {
        at = offsetInSource(text, node.value, node.range[0], node.range[1], offset);
      }
      const { line, col } = lineCounter.linePos(at);
      return { line, column: col };
    }
    return undefined;
  };
}

function offsetInSource(text: string, value: string, start: number, end: number, offset: number): number {
  // Skip a block scalar's header line (`|`, `>-`, ...): the value starts on the next line.
  let at = start;
  if (text[at] === '|' || text[at] === '>') {
    const newline = text.indexOf('\n', at);
    at = newline < 0 ? start : newline + 1;
  }
  const target = Math.min(Math.max(0, offset), value.length);
  for (let i = 0; i < target && at < end; i++) {
    const char = value[i] as string;
    const found = text.indexOf(char, at);
    if (found < 0 || found >= end) return start;
    at = found + 1;
  }
  // Land on the target character itself, past any quote, escape or indentation before it.
  if (target < value.length) {
    const found = text.indexOf(value[target] as string, at);
    if (found >= 0 && found < end) at = found;
  }
  return at;
}

/** A locator over a parsed YAML document: the line where a path's node starts. */
export function locator(doc: Document, lineCounter: LineCounter): Locator {
  return (path) => {
    // Walk up to the nearest existing node: a missing key is reported where its parent starts.
    for (let length = path.length; length >= 0; length--) {
      const node = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/** `['rules', 2, 'when']` → `rules[2].when` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}
