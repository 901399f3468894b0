import type * as Core from '@airlock/core';

/**
 * The built engine. tsx honours tsconfig.json `paths`, which point `@airlock/core` at the
 * TypeScript sources for the type checker; a benchmark must time what `npm run build` ships, so
 * the dist entry (the package's `exports` target) is loaded explicitly.
 */
export const CORE_ENTRY = new URL('../../packages/core/dist/index.js', import.meta.url);

const core = (await import(CORE_ENTRY.href)) as typeof Core;

export const { compile, loadBundle, parseBundle, MemoryCounterStore } = core;
