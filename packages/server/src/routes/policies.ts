import { parseDuration } from '@airlock/core';
import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';
import { name, toolArgs } from './schemas.js';

/** Most recorded decisions one simulation replays. */
export const MAX_REPLAY = 100_000;

/** The most characters one policy file sent to the server may have. */
export const MAX_POLICY_FILE_CHARS = 262_144;

const bundleBody = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/).default('bundle'),
  files: z
    .array(
      z.object({
        file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.ya?ml$/i, 'a YAML file name without directories'),
        // 256 KiB: eighty times the largest example; what parsing and checking one file may cost.
        text: z.string().max(MAX_POLICY_FILE_CHARS, `a policy file of at most ${MAX_POLICY_FILE_CHARS} characters`),
      }),
    )
    .min(1)
    .max(200)
    .refine((files) => new Set(files.map((f) => f.file)).size === files.length, 'file names must be unique'),
});

const uploadBody = bundleBody.extend({
  note: z.string().trim().max(2000).optional().describe('what changed and why; shown with the version and recorded in the audit trail'),
});

const simulateBody = bundleBody
  .extend({
    call: z
      .object({
        agent: name,
        role: name.optional().describe("default: the registered agent's"),
        environment: name.optional().describe("default: the registered agent's"),
        tool: z.string().min(1).max(256),
        args: toolArgs.default({}),
        session: z.string().max(256).optional(),
      })
      .optional()
      .describe('a hand-written call, decided by the active version and the draft'),
    last: z.number().int().min(1).max(MAX_REPLAY).optional().describe('replay the last N recorded decisions against the draft'),
  })
  .refine((body) => (body.call === undefined) !== (body.last === undefined), 'send either call or last');

const versionParams = z.object({ version: z.coerce.number().int().min(1) });

export function policyRoutes(services: Services) {
  const { policies, shadow } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/policies',
      response: z.object({ versions: z.array(V.PolicyVersion), active: z.number().nullable() }),
      tag: 'policies',
      summary: 'List policy versions.',
      handler: async () => ({ versions: await policies.list(), active: policies.active()?.version ?? null }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies',
      response: V.PolicyVersion,
      tag: 'policies',
      summary:
        'Upload a bundle as a new (inactive) version, with an optional `note`. Invalid bundles answer 422 with every error, by file, line and column (a plain `message`, the parser\'s own text as `detail`); valid ones carry `warnings`, the findings of `airlock policy check`.',
      body: uploadBody,
      async handler({ body, principal, reply }) {
        reply.code(201);
        return policies.upload(actorOf(principal), body.name, body.files, body.note);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/validate',
      response: V.BundleCheck,
      tag: 'policies',
      summary: 'Validate a bundle without storing it: 422 with every error, or `valid: true` with `warnings` (the findings of `airlock policy check`).',
      body: bundleBody,
      handler: ({ body }) => ({ valid: true as const, ...policies.validate(body.name, body.files) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policies/suggestions',
      heavy: true,
      response: V.SuggestionsReport,
      tag: 'policies',
      summary:
        'Progressive trust: changes to the active version that approval history supports (default: the last 30 days), each with its evidence, a diff and the candidate bundle to simulate or upload. Nothing is applied.',
      query: z.object({ since: z.string().regex(/^\d+[smhd]$/).optional().describe('a duration such as 30d (default)') }),
      handler: ({ query }) => {
        const sinceMs = query.since === undefined ? undefined : parseDuration(query.since);
        return services.trust.suggestions(sinceMs === undefined ? {} : { sinceMs });
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/simulate',
      heavy: true,
      response: V.Simulation,
      tag: 'policies',
      summary: `Try a draft bundle without storing it: on one hand-written call, or on the last N (≤ ${MAX_REPLAY}) recorded decisions replayed in time order with fresh limit state; reports which decisions would flip.`,
      body: simulateBody,
      handler: ({ body }) =>
        body.call !== undefined ? services.simulation.call(body.name, body.files, body.call) : services.simulation.recorded(body.name, body.files, body.last ?? 1),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policies/diff',
      response: z.object({ files: z.array(V.FileDiff) }),
      tag: 'policies',
      summary: 'Unified diff, per file, between two versions.',
      query: z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) }),
      handler: ({ query }) => policies.diff(query.from, query.to),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policies/:version',
      response: V.PolicyVersionDetail,
      tag: 'policies',
      summary: 'One version with its sources.',
      params: versionParams,
      handler: ({ params }) => policies.get(params.version),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/:version/activate',
      response: V.PolicyVersion,
      tag: 'policies',
      summary: 'Activate a version atomically; pushed to /v1/policy/stream subscribers.',
      params: versionParams,
      handler: ({ params, principal }) => policies.activate(actorOf(principal), params.version),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/:version/shadow',
      response: V.ShadowReport,
      tag: 'policies',
      summary: 'Shadow mode: this version decides every live call beside the active one, enforcing nothing; disagreements are audited (`shadow.flip`).',
      params: versionParams,
      handler: ({ params, principal }) => shadow.start(actorOf(principal), params.version),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policies/shadow',
      response: z.object({ shadow: V.ShadowReport.nullable() }),
      tag: 'policies',
      summary: 'The shadowed version and its disagreements with the active one, counted by candidate rule, with examples (null when none).',
      handler: () => ({ shadow: shadow.report() }),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/policies/shadow',
      response: z.object({ stopped: z.number().nullable() }),
      tag: 'policies',
      summary: 'Stop shadowing.',
      handler: ({ principal }) => shadow.stop(actorOf(principal)),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/shadow/promote',
      response: V.PolicyVersion,
      tag: 'policies',
      summary: 'Activate the shadowed version and stop shadowing, in one step.',
      handler: ({ principal }) => shadow.promote(actorOf(principal)),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/rollback',
      response: V.PolicyVersion,
      tag: 'policies',
      summary: 'Re-activate the version that was active before the current one.',
      handler: ({ principal }) => policies.rollback(actorOf(principal)),
    }),
  ];
}
