import { z } from 'zod';
import { actorOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import type { Services } from '../services/services.js';

const bundleBody = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/).default('bundle'),
  files: z
    .array(
      z.object({
        file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.ya?ml$/i, 'a YAML file name without directories'),
        text: z.string(),
      }),
    )
    .min(1)
    .max(200)
    .refine((files) => new Set(files.map((f) => f.file)).size === files.length, 'file names must be unique'),
});

const versionParams = z.object({ version: z.coerce.number().int().min(1) });

export function policyRoutes(services: Services) {
  const { policies } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/policies',
      tag: 'policies',
      summary: 'List policy versions.',
      handler: async () => ({ versions: await policies.list(), active: policies.active()?.version ?? null }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies',
      tag: 'policies',
      summary:
        'Upload a bundle as a new (inactive) version. Invalid bundles answer 422 with every error, by file and line; valid ones carry `warnings`, the findings of `airlock policy check`.',
      body: bundleBody,
      async handler({ body, principal, reply }) {
        reply.code(201);
        return policies.upload(actorOf(principal), body.name, body.files);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/validate',
      tag: 'policies',
      summary: 'Validate a bundle without storing it: 422 with every error, or `valid: true` with `warnings` (the findings of `airlock policy check`).',
      body: bundleBody,
      handler: ({ body }) => ({ valid: true, ...policies.validate(body.name, body.files) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policies/diff',
      tag: 'policies',
      summary: 'Unified diff, per file, between two versions.',
      query: z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) }),
      handler: ({ query }) => policies.diff(query.from, query.to),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policies/:version',
      tag: 'policies',
      summary: 'One version with its sources.',
      params: versionParams,
      handler: ({ params }) => policies.get(params.version),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/:version/activate',
      tag: 'policies',
      summary: 'Activate a version atomically; pushed to /v1/policy/stream subscribers.',
      params: versionParams,
      handler: ({ params, principal }) => policies.activate(actorOf(principal), params.version),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policies/rollback',
      tag: 'policies',
      summary: 'Re-activate the version that was active before the current one.',
      handler: ({ principal }) => policies.rollback(actorOf(principal)),
    }),
  ];
}
