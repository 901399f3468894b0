import { z } from 'zod';
import { AirlockError } from '../errors.js';
import { defineRoute } from '../http/route.js';
import { openRecordStream } from '../http/record-stream.js';
import { streamCaller } from '../http/sse.js';
import { contiguous, type FeedRead } from '../services/audit-feed.js';
import type { Services } from '../services/services.js';

export interface AuditStreamOptions {
  heartbeatMs: number;
  /** Open streams, ended on shutdown. */
  open: Set<() => void>;
  /** A missing seq followed by a stored one is reported (`audit_gap`) after this long, never skipped. */
  gapGraceMs?: number;
}

const SEQ = /^\d{1,15}$/;
const PAGE = 500;
/** How soon a follower looks again at a missing seq. */
const GAP_RETRY_MS = 250;

/**
 * `GET /v1/audit/stream`: every audit record after a seq, in order, then each new one as it is
 * committed (by any instance), as NDJSON or Server-Sent Events. See docs/audit-stream.md.
 */
export function auditStreamRoutes(services: Services, options: AuditStreamOptions) {
  const { auditFeed: feed, auth } = services;
  const gapGraceMs = options.gapGraceMs ?? 2_000;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/audit/stream',
      tag: 'audit',
      summary:
        'Every audit record after `after` (or the SSE `Last-Event-ID`), oldest first, then each new record as it is committed by any instance: exactly once and in order across reconnects (resume after the last seq received). NDJSON (one record per line, blank lines as heartbeats), or Server-Sent Events (`event: record`, `id: <seq>`) with `Accept: text/event-stream` or `format=sse`. Each record carries `prevHash` and `hash`, so a receiver verifies the chain as it goes. `follow=false` ends at the newest record. A line/event `error` (`audit_gap`, `store_unavailable`, or `audit_archived` with the `seq` and `hash` of the last archived record when `after` is below it) ends the stream.',
      produces: 'application/x-ndjson',
      query: z.object({
        after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).describe('the last seq already received; 0: from the first record'),
        follow: z
          .enum(['true', 'false'])
          .default('true')
          .transform((v) => v === 'true')
          .describe('false: end once the newest record is sent'),
        format: z.enum(['ndjson', 'sse']).optional().describe('default: sse when Accept names text/event-stream, else ndjson'),
      }),
      headers: z.object({
        accept: z.string().optional(),
        'last-event-id': z.string().optional(),
      }),
      handler({ query, headers, reply, principal }) {
        const lastEventId = headers['last-event-id']?.trim();
        if (lastEventId !== undefined && lastEventId !== '' && !SEQ.test(lastEventId)) {
          throw new AirlockError('invalid_request', 'Last-Event-ID: a seq (digits)', { param: 'headers.last-event-id' });
        }
        // A reconnecting EventSource repeats the first URL: the id it last received wins.
        let after = lastEventId ? Number(lastEventId) : query.after;
        const sse = query.format === 'sse' || (query.format === undefined && (headers.accept ?? '').includes('text/event-stream'));
        const stream = openRecordStream(reply, sse ? 'sse' : 'ndjson', options.heartbeatMs, options.open, streamCaller(principal));
        if (principal.kind === 'user') {
          // A person's stream lives as long as their session: it ends at logout and at expiry.
          const hash = principal.user.sessionHash;
          stream.onClose(auth.onSessionEnd(hash, () => stream.end()));
          stream.keepWhile(() => auth.sessionActive(hash));
        }
        const follow = query.follow;
        // Followers share the feed (one read of the store per commit); a one-off read goes to the store.
        if (follow) stream.onClose(feed.follow());
        const read = (from: number): Promise<FeedRead> => (follow ? feed.read(from, PAGE) : services.store.auditAfter(from, PAGE).then((rows) => contiguous(rows, from)));
        void (async () => {
          // An archived start is not a gap: the client is told where the trail kept here begins,
          // and the hash its first record links to, and resumes after it (`airlock audit tail` does).
          const base = await services.store.auditBase();
          if (base && after < base.seq) {
            stream.error('audit_archived', `records up to ${base.seq} were archived (${base.file}): this trail starts after ${base.seq}, whose hash its first record links to; resume after ${base.seq}`, {
              seq: base.seq,
              hash: base.hash,
              file: base.file,
            });
            return;
          }
          const until = follow ? undefined : await services.store.newestSeq();
          let gapSince: number | undefined;
          while (!stream.closed && (until === undefined || after < until)) {
            let page: FeedRead;
            try {
              page = await read(after);
            } catch (error) {
              stream.error('store_unavailable', `reading the audit trail failed: ${error instanceof Error ? error.message : String(error)}; reconnect after ${after}`, { after });
              return;
            }
            const rows = until === undefined ? page.rows : page.rows.filter((row) => row.seq <= until);
            if (rows.length > 0) {
              gapSince = undefined;
              await stream.records(rows);
              after = rows[rows.length - 1]?.seq ?? after;
              continue;
            }
            if (page.gap === undefined) {
              gapSince = undefined;
              if (!follow) break;
            } else {
              gapSince ??= Date.now();
              if (Date.now() - gapSince >= gapGraceMs) {
                stream.error('audit_gap', `record ${page.gap} is missing from the audit trail while later records exist: the chain is broken (GET /v1/audit/verify names the damage)`, { seq: page.gap });
                return;
              }
            }
            await (follow ? feed.changed(page.gap === undefined ? options.heartbeatMs : GAP_RETRY_MS) : new Promise((resolve) => setTimeout(resolve, GAP_RETRY_MS)));
          }
          stream.end();
        })().catch(() => stream.end());
      },
    }),
  ];
}
