import { Readable } from 'node:stream';
import { z } from 'zod';
import { HEAD_HASH } from '../audit/verify.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { AuditRecordView } from '../services/audit.js';
import type { Services } from '../services/services.js';
import type { AuditFilter } from '../store/store.js';
import { REFUSAL_CAUSES, type RefusalCause } from '../services/refusal-cause.js';
import { name, pageLimit } from './schemas.js';
import { argFilterParam, type ArgFilter } from '../audit/arg-index.js';
import { AUDIT_TYPES } from '../audit/record.js';

const filters = {
  agent: name.optional(),
  tool: z.string().min(1).max(256).optional(),
  effect: z.enum(['allow', 'require_approval', 'block']).optional(),
  rule: z.string().min(1).max(256).optional(),
  type: z.string().min(1).max(64).optional(),
  role: z.string().min(1).max(256).optional().describe("decisions of agents registered with this role"),
  environment: z.string().min(1).max(256).optional().describe("decisions of agents registered in this environment"),
  cause: z.enum(REFUSAL_CAUSES as [RefusalCause, ...RefusalCause[]]).optional().describe('decisions with this cause: what decided them (rule, limit, risk, default) or why they were refused (paused, invalid_arguments, unknown_tool, no_policy, evaluation_error)'),
  from: z.iso.datetime({ offset: true }).optional().describe('inclusive'),
  to: z.iso.datetime({ offset: true }).optional().describe('exclusive'),
  arg: argFilterParam.optional(),
};

type FilterQuery = { [K in Exclude<keyof typeof filters, 'arg'>]?: string | undefined } & { arg?: ArgFilter[] | undefined };

function toFilter(query: FilterQuery): AuditFilter {
  const filter: AuditFilter = {};
  if (query.agent !== undefined) filter.agent = query.agent;
  if (query.tool !== undefined) filter.tool = query.tool;
  if (query.effect !== undefined) filter.effect = query.effect;
  if (query.rule !== undefined) filter.rule = query.rule;
  if (query.type !== undefined) filter.type = query.type;
  if (query.role !== undefined) filter.role = query.role;
  if (query.environment !== undefined) filter.environment = query.environment;
  if (query.cause !== undefined) filter.cause = query.cause as RefusalCause;
  if (query.from !== undefined) filter.fromMs = Date.parse(query.from);
  if (query.to !== undefined) filter.toMs = Date.parse(query.to);
  if (query.arg !== undefined && query.arg.length > 0) filter.args = query.arg;
  return filter;
}

const CSV_COLUMNS = ['seq', 'at', 'type', 'actor', 'agent', 'tool', 'effect', 'rule', 'data', 'prevHash', 'hash'] as const;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function* csvLines(records: AsyncIterable<AuditRecordView>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const record of records) yield `${CSV_COLUMNS.map((c) => csvCell(record[c])).join(',')}\r\n`;
}

async function* jsonLines(records: AsyncIterable<AuditRecordView>): AsyncGenerator<string> {
  for await (const record of records) yield `${JSON.stringify(record)}\n`;
}

export function auditRoutes(services: Services) {
  const { audit } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/audit',
      heavy: true,
      response: z.object({
        records: z.array(V.AuditRecord),
        nextCursor: z.string().nullable(),
        searchedTo: z
          .number()
          .int()
          .optional()
          .describe('present when this page examined as many records as one page may (a filter no single index serves) without filling up: the search stopped at this seq, and nextCursor continues below it'),
      }),
      tag: 'audit',
      summary: 'Query the audit trail, newest first, with cursor pagination. A page examines at most 50,000 records when no single index serves its filter (see searchedTo).',
      query: z.object({ ...filters, cursor: z.coerce.number().int().min(1).optional(), limit: pageLimit }),
      handler: ({ query }) => audit.query(toFilter(query), query.cursor, query.limit),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit/types',
      response: z.object({ types: z.array(z.string()) }),
      tag: 'audit',
      summary: 'Every type of audit record the server writes (for type filters).',
      handler: () => ({ types: [...AUDIT_TYPES] }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit/export',
      heavy: true,
      tag: 'audit',
      summary: 'Stream the matching audit records, oldest first, as JSON lines or CSV.',
      produces: 'application/x-ndjson',
      query: z.object({ ...filters, format: z.enum(['jsonl', 'csv']).default('jsonl') }),
      handler({ query, reply }) {
        const records = audit.export(toFilter(query));
        const csv = query.format === 'csv';
        reply
          .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="airlock-audit.${csv ? 'csv' : 'jsonl'}"`);
        return Readable.from(csv ? csvLines(records) : jsonLines(records));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit/verify',
      heavy: true,
      response: V.VerifyResult,
      tag: 'audit',
      summary:
        'Walk the hash chain; names the first edited, missing or reordered record, and answers the head hash to anchor elsewhere. With `expectHead` (an anchored head): fails unless that record is still in the chain (a truncated or rewritten tail), else says how many records follow it.',
      query: z.object({ expectHead: z.string().regex(HEAD_HASH, 'a head hash: 64 hex digits').optional().describe('a head hash printed by an earlier verify') }),
      handler: ({ query }) => audit.verify({ expectHead: query.expectHead }),
    }),
  ];
}
