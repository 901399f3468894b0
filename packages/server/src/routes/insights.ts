import { parseDuration } from '@airlock/core';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { AirlockError } from '../errors.js';
import { userOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';
import type { DecisionFilter, TimeRange } from '../store/store.js';
import { idParams } from './schemas.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Widths tried, smallest first, when the caller names none. */
const AUTO_BUCKETS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 6 * 60 * MINUTE, DAY];
/** Aim of the automatic width; the most a series may have either way. */
const AUTO_POINTS = 120;
const MAX_POINTS = 1000;
const MAX_RANGE = 366 * DAY;

const rangeQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe('inclusive; default: 24 hours before `to`'),
  to: z.iso.datetime({ offset: true }).optional().describe('exclusive; default: now'),
  bucket: z.string().max(16).optional().describe('series bucket width (1m, 5m, 1h, 1d…); default: about 120 points over the range'),
});

type RangeQuery = z.infer<typeof rangeQuery>;

/** Which decisions the figures count (the dashboard keeps these in its URLs). */
const scopeQuery = {
  agent: z.string().min(1).max(256).optional(),
  role: z.string().min(1).max(256).optional(),
  tool: z.string().min(1).max(256).optional(),
  environment: z.string().min(1).max(256).optional(),
};

function scopeOf(query: { agent?: string | undefined; role?: string | undefined; tool?: string | undefined; environment?: string | undefined }): DecisionFilter {
  const filter: DecisionFilter = {};
  if (query.agent !== undefined) filter.agent = query.agent;
  if (query.role !== undefined) filter.role = query.role;
  if (query.tool !== undefined) filter.tool = query.tool;
  if (query.environment !== undefined) filter.environment = query.environment;
  return filter;
}

/**
 * The time range of a read: `to` defaults to now and `from` to a day before. With `align`, series
 * buckets are multiples of their width (UTC), so `from` moves back to the start of its bucket.
 */
export function resolveRange(query: RangeQuery, clock: Clock, align = true): { range: TimeRange; bucketMs: number } {
  const toMs = query.to === undefined ? clock.now() : Date.parse(query.to);
  const requestedFrom = query.from === undefined ? toMs - DAY : Date.parse(query.from);
  if (requestedFrom >= toMs) throw new AirlockError('invalid_request', 'query.from: must be before to', { param: 'query.from' });
  if (toMs - requestedFrom > MAX_RANGE) throw new AirlockError('invalid_request', 'query.from: the range is limited to 366 days', { param: 'query.from' });
  let bucketMs: number;
  if (query.bucket === undefined) {
    bucketMs = AUTO_BUCKETS.find((width) => (toMs - requestedFrom) / width <= AUTO_POINTS) ?? DAY;
  } else {
    const parsed = parseDuration(query.bucket);
    if (parsed === undefined || !Number.isInteger(parsed) || parsed < 1000) {
      throw new AirlockError('invalid_request', 'query.bucket: a duration of at least 1s like 1m, 15m, 1h, 1d', { param: 'query.bucket' });
    }
    bucketMs = parsed;
  }
  const fromMs = align ? Math.floor(requestedFrom / bucketMs) * bucketMs : requestedFrom;
  if ((toMs - fromMs) / bucketMs > MAX_POINTS) {
    throw new AirlockError('invalid_request', `query.bucket: more than ${MAX_POINTS} buckets; choose a wider bucket`, { param: 'query.bucket' });
  }
  return { range: { fromMs, toMs }, bucketMs };
}

export function insightRoutes(services: Services) {
  const { insights, clock } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/stats/overview',
      heavy: true,
      response: V.Overview,
      tag: 'insights',
      summary:
        'Decisions over time by effect, top blocked tools and refusal causes, the per-environment split, the approval queue with its oldest approval, and the median time people took to decide; optionally of one agent, role, tool or environment.',
      query: rangeQuery.extend(scopeQuery),
      handler({ query }) {
        const { range, bucketMs } = resolveRange(query, clock);
        return insights.overview(range, bucketMs, scopeOf(query));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/anomalies',
      heavy: true,
      response: z.object({ alerts: z.array(V.AnomalyAlert), baseline: V.AnomalyBaseline }),
      tag: 'insights',
      summary:
        'Anomaly alerts, newest first: per agent and tool, calls, blocks, approvals or limit hits far above the agent’s own baseline, and tools an agent never used before (default: the last 24 hours). `baseline` says how much history each agent has and whether it is still being learned (no alert can be raised before).',
      query: z.object({
        since: z.string().regex(/^\d+[smhd]$/).optional().describe('a duration such as 24h (default)'),
        agent: z.string().min(1).max(256).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      async handler({ query }) {
        const sinceMs = clock.now() - (query.since === undefined ? DAY : (parseDuration(query.since) ?? DAY));
        return {
          alerts: await services.anomalies.recent({ sinceMs, limit: query.limit, ...(query.agent === undefined ? {} : { agent: query.agent }) }),
          baseline: services.anomalies.baseline(query.agent),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/fleet',
      heavy: true,
      response: z.object({ from: z.string(), to: z.string(), agents: z.array(V.FleetAgent) }),
      tag: 'insights',
      summary:
        'Every agent with role, environment, last seen, decision mix in the range, hourly blocked-rate trend and anomaly flags; optionally only the agents of one role or environment (or one agent), counting the calls of one tool.',
      query: rangeQuery.extend(scopeQuery),
      async handler({ query }) {
        const { range } = resolveRange({ ...query, bucket: undefined }, clock, false);
        return { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString(), agents: await insights.fleet(range, scopeOf(query)) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/fleet/:id',
      heavy: true,
      response: V.FleetAgentDetail,
      tag: 'insights',
      summary: 'One agent: the fleet view plus its decisions over time and its top tools and rules.',
      params: idParams,
      query: rangeQuery,
      handler({ params, query }) {
        const { range, bucketMs } = resolveRange(query, clock);
        return insights.agent(params.id, range, bucketMs);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id/context',
      response: V.ApprovalContext,
      tag: 'approvals',
      summary: "An approval with the full decision that opened it, the budgets it consulted, and the agent's recent decisions.",
      params: idParams,
      handler: ({ params, principal }) => insights.approvalContext(params.id, { user: userOf(principal).username }),
    }),
  ];
}
