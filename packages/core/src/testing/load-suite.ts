import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { formatLoadError } from '../errors.js';
import { formatPath, locator, type Locator } from '../policy/load.js';
import { policySuiteSchema, type PolicySuite } from './suite-schema.js';

export type SuiteErrorCode = 'io_error' | 'yaml_syntax' | 'invalid_suite' | 'no_suites';

/** A problem with a test suite file, located like a policy load error. */
export interface SuiteError {
  code: SuiteErrorCode;
  message: string;
  file: string;
  line?: number;
  path?: string;
}

/** Thrown by the suite loaders: carries every problem found in every file, not just the first. */
export class SuiteLoadError extends Error {
  readonly errors: readonly SuiteError[];
  constructor(errors: readonly SuiteError[]) {
    super(errors.map(formatLoadError).join('\n'));
    this.name = 'SuiteLoadError';
    this.errors = errors;
  }
  static isInstance(value: unknown): value is SuiteLoadError {
    return value instanceof Error && value.name === 'SuiteLoadError' && Array.isArray((value as SuiteLoadError).errors);
  }
}

/** A validated suite and where it came from; `locate` finds the line of a path such as `['cases', 3]`. */
export interface LoadedSuite {
  file: string;
  suite: PolicySuite;
  locate: Locator;
}

const YAML_FILE = /\.ya?ml$/i;

/** Parses one suite file's text. `file` is how errors and results name it. Throws `SuiteLoadError`. */
export function parseSuite(file: string, text: string): LoadedSuite {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SuiteLoadError(
      doc.errors.map((error) => ({
        code: 'yaml_syntax' as const,
        file,
        line: lineCounter.linePos(error.pos[0]).line,
        message: error.message.split('\n')[0] ?? error.message,
      })),
    );
  }
  const locate = locator(doc, lineCounter);
  const parsed = policySuiteSchema.safeParse(doc.toJS({ maxAliasCount: 1000 }));
  if (!parsed.success) {
    throw new SuiteLoadError(
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        return { code: 'invalid_suite' as const, file, line: locate(path), path: formatPath(path), message: issue.message };
      }),
    );
  }
  return { file, suite: parsed.data, locate };
}

/**
 * Loads a suite file, or every `*.yaml` / `*.yml` directly inside a directory (sorted, not
 * recursive). Files are named `<path>/<name>`, as the caller wrote `path`.
 */
export function loadSuites(path: string): LoadedSuite[] {
  const errors: SuiteError[] = [];
  const suites: LoadedSuite[] = [];
  for (const file of suiteFiles(path)) {
    try {
      suites.push(parseSuite(file, readText(file)));
    } catch (error) {
      if (!SuiteLoadError.isInstance(error)) throw error;
      errors.push(...error.errors);
    }
  }
  if (errors.length === 0 && suites.length === 0) errors.push({ code: 'no_suites', file: path, message: 'no test suite files (*.yaml) found' });
  if (errors.length > 0) throw new SuiteLoadError(errors);
  return suites;
}

/** The policy file or bundle directory a suite tests: `bundle` relative to the suite file, default its parent directory. */
export function suiteBundlePath(loaded: LoadedSuite): string {
  return join(dirname(loaded.file), loaded.suite.bundle ?? '..');
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new SuiteLoadError([{ code: 'io_error', file, message: (error as Error).message }]);
  }
}

function suiteFiles(path: string): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => YAML_FILE.test(name) && statSync(join(path, name)).isFile())
      .sort()
      .map((name) => join(path, name));
  } catch (error) {
    throw new SuiteLoadError([{ code: 'io_error', file: path, message: (error as Error).message }]);
  }
}
