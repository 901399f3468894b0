import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Sdk from '@airlock/sdk';
import type * as AiAdapter from '@airlock/sdk/ai';

/**
 * The "tracing off" vs "tracing code absent" rows compare two fresh copies of the built SDK, each
 * used by nothing but its own rows, so neither inherits the other rows' warmed-up, polymorphic
 * call sites (the main build runs every transport, and tracing on): `asBuilt`, the build as it
 * ships (tracing off: no endpoint, no option), and `untraced`, the build with its tracing code cut
 * out mechanically — the `Tracing` import and construction removed from `airlock.js` and
 * `remote-transport.js`, every remaining `this.tracing` made the literal `undefined` (so each
 * branch on it is dead code the optimizer drops) and the trace headers of a request gone — loaded
 * beside the real build in the same process. The copy lives next to the real `dist` (the modules
 * read `../package.json`) and is removed when the bench ends. Each cut is checked: a build that
 * no longer matches stops the bench rather than timing a half-stripped copy.
 */
const DIST = fileURLToPath(new URL('../../packages/sdk/dist', import.meta.url));
const COPY = fileURLToPath(new URL('../../packages/sdk/.bench-untraced', import.meta.url));
const AS_BUILT = fileURLToPath(new URL('../../packages/sdk/.bench-as-built', import.meta.url));

function cut(file: string, edits: [RegExp, string][]): void {
  const path = `${COPY}/${file}`;
  let text = readFileSync(path, 'utf8');
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(text)) throw new Error(`bench: cannot strip tracing from ${file}: ${String(pattern)} not found (the build changed)`);
    text = text.replace(pattern, replacement);
  }
  if (/Tracing|traceHeaders|tracing\.js|this\.tracing/.test(text)) throw new Error(`bench: tracing code left in the stripped ${file}`);
  writeFileSync(path, text);
}

for (const copy of [COPY, AS_BUILT]) {
  rmSync(copy, { recursive: true, force: true });
  cpSync(DIST, copy, { recursive: true });
}
rmSync(`${COPY}/tracing.js`);
cut('airlock.js', [
  [/^import \{ Tracing \} from '\.\/tracing\.js';\n/m, ''],
  [/^\s*\/\*\* Undefined when tracing is off[^\n]*\n\s*tracing;\n/m, ''],
  [/^\s*this\.tracing = Tracing\.from\([^\n]*\);\n/m, ''],
  [/this\.tracing/g, 'undefined'],
  [/Tracing off: just `fn\(\)`\./, ''],
]);
cut('remote-transport.js', [
  [/^import \{ traceHeadersFor \} from '\.\/tracing\.js';\n/m, ''],
  [/^\s*traceHeaders;\n/m, ''],
  [/^\s*this\.traceHeaders = traceHeadersFor\(options\.tracing\);\n/m, ''],
  [/, \.\.\.this\.traceHeaders\?\.\(\)/, ''],
]);
if (!existsSync(`${COPY}/index.js`)) throw new Error('bench: the stripped SDK has no index.js');

/** Removes both copies. */
export function removeUntraced(): void {
  for (const copy of [COPY, AS_BUILT]) rmSync(copy, { recursive: true, force: true });
}

type Entry = Pick<typeof Sdk, 'createAirlock'> & Pick<typeof AiAdapter, 'governTools'>;
const load = async (dir: string): Promise<Entry> => ({
  ...((await import(new URL(`../../packages/sdk/${dir}/index.js`, import.meta.url).href)) as Pick<typeof Sdk, 'createAirlock'>),
  ...((await import(new URL(`../../packages/sdk/${dir}/adapters/ai-sdk.js`, import.meta.url).href)) as Pick<typeof AiAdapter, 'governTools'>),
});
export const untraced = await load('.bench-untraced');
export const asBuilt = await load('.bench-as-built');
