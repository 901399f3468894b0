import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The store's threads, each a module beside this one. */
export type StoreThread = 'write-worker' | 'checkpoint-worker' | 'read-worker';

/** Starts one of the store's threads, from the built `.js` or, under the test suite, the `.ts` source. */
export function spawnWorker(name: StoreThread, workerData: Record<string, unknown>): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  // Running from the TypeScript sources (the test suite): load the thread through tsx's loader.
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const api = new URL(exports['./esm/api']?.import.default ?? '', pathToFileURL(manifest)).href;
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
