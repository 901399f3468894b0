import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = (file: string): string => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

/** A module resolution hook under which importing any of the frameworks fails, as if none were installed. */
const noFrameworks = `export async function resolve(specifier, context, next) {
  if (/^(ai|@openai\\/agents|@langchain\\/core)(\\/|$)/.test(specifier)) throw new Error('framework imported: ' + specifier);
  return next(specifier, context);
}`;
const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(noFrameworks)}));`;

function importWithoutFrameworks(entry: string): { status: number | null; stderr: string } {
  const child = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', `await import(${JSON.stringify(entry)})`], {
    encoding: 'utf8',
  });
  return { status: child.status, stderr: child.stderr };
}

// Runs against the build (npm test builds first), as an application would import the package.
describe('entry points', () => {
  it("'@airlock/sdk' loads with no framework installed", () => {
    expect(importWithoutFrameworks(dist('index.js'))).toMatchObject({ status: 0 });
  });

  it('each adapter is a subpath of its own that needs its framework', () => {
    for (const [file, framework] of [
      ['adapters/ai-sdk.js', 'ai'],
      ['adapters/langchain.js', '@langchain/core'],
    ] as const) {
      const { status, stderr } = importWithoutFrameworks(dist(file));
      expect(status).not.toBe(0);
      expect(stderr).toContain(`framework imported: ${framework}`);
    }
  });
});
