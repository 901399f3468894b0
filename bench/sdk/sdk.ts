import type * as Sdk from '@airlock/sdk';
import type * as AiAdapter from '@airlock/sdk/ai';

/**
 * The built SDK. tsx honours tsconfig.json `paths`, which point `@airlock/sdk` at the TypeScript
 * sources for the type checker; a benchmark times what `npm run build` ships, so the dist entries
 * are loaded by path.
 */
export const SDK_ENTRY = new URL('../../packages/sdk/dist/index.js', import.meta.url);
const AI_ENTRY = new URL('../../packages/sdk/dist/adapters/ai-sdk.js', import.meta.url);

export const { createAirlock, Airlock, OutcomeBatcher } = (await import(SDK_ENTRY.href)) as typeof Sdk;
export type { Transport, ExecutionOutcome } from '@airlock/sdk';
export const { governTools } = (await import(AI_ENTRY.href)) as typeof AiAdapter;
