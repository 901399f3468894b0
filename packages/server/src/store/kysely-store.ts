import { randomUUID } from 'node:crypto';
import { PostgresAdapter, sql, type Expression, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { groupByPath, prefixSuccessor, type ArgFilter } from '../audit/arg-index.js';
import { DECIDED_BY_OF, ERROR_CODES_OF, type RefusalCause } from '../services/refusal-cause.js';
import { COUNT_MINUTE_MS } from '../audit/decision-counts.js';
import type { PreparedEntry, Sealed } from '../audit/record.js';
import { KyselyBatchWriter, type BatchWriter } from './batch-writer.js';
import { needsScanBound } from './store.js';
import type {
  AuditFilter,
  AuditPage,
  ApprovalFilter,
  ApprovalOutcomeRow,
  ApprovalResolution,
  CauseCount,
  DecisionBucket,
  DecisionCountRow,
  DecisionFilter,
  EnvironmentCount,
  DecisionRef,
  OutcomeCountRow,
  OutcomeRate,
  Store,
  TimeRange,
  ValueCount,
} from './store.js';
import type {
  AgentRow,
  ApiKeyRow,
  ApprovalRow,
  AuditRow,
  AuditArchiveRow,
  AuditForwarderRow,
  Database,
  IdempotencyRow,
  NotificationDeliveryRow,
  OutcomeRow,
  PauseRow,
  PolicyActivationRow,
  OidcLoginRow,
  PolicyVersionRow,
  SessionRow,
  UserRow,
  UserTokenRow,
} from './schema.js';

/**
 * The `Store` over any Kysely dialect: the queries are written once, the dialect is plugged in.
 * Reads run on `db` (index point lookups on `pointReads` when given); writes go to the batch
 * writer, by default a transaction on `db` itself (SQLite plugs in its writer and reader threads).
 */
export class KyselyStore implements Store {
  private readonly writer: BatchWriter;
  /** Reads a text field of the decision inside an audit record's JSON payload (dialects differ). */
  private readonly decisionField: (field: 'decidedBy' | 'code') => RawBuilder<string | null>;
  private readonly postgres: boolean;
  /** Reads a text field at `path` inside an audit record's JSON payload (dialects differ). */
  private readonly payloadField: (path: readonly string[]) => RawBuilder<string | null>;

  /**
   * Where index point lookups run (a key, a session, an approval by id: bounded, microseconds):
   * `db` unless the dialect gives them a connection of their own. SQLite runs everything else on
   * its reader thread, and these on the event loop, so that a decision's lookups never queue
   * behind a long search.
   */
  private readonly point: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    writer?: BatchWriter,
    options: { pointReads?: Kysely<Database> } = {},
  ) {
    this.point = options.pointReads ?? db;
    this.writer = writer ?? new KyselyBatchWriter(db);
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    this.postgres = postgres;
    this.payloadField = (path) =>
      postgres
        ? sql<string | null>`(${pgJson(sql.ref('audit.payload'))} #>> ${sql.lit(`{${path.join(',')}}`)})`
        : sql<string | null>`json_extract(audit.payload, ${sql.lit(`$.${path.join('.')}`)})`;
    this.decisionField = (field) => this.payloadField(field === 'code' ? ['data', 'decision', 'error', 'code'] : ['data', 'decision', field]);
  }

  commit(entries: readonly PreparedEntry[]): Promise<Sealed[]> {
    return this.writer.commit(entries);
  }

  async ping(): Promise<void> {
    await this.point.selectFrom('policy_versions').select('version').limit(1).execute();
    await this.writer.ping();
  }

  async close(): Promise<void> {
    await this.writer.close?.();
    await this.db.destroy();
    if (this.point !== this.db) await this.point.destroy();
  }

  async findDecisions(refs: readonly { id: string; at: number }[]): Promise<DecisionRef[]> {
    if (refs.length === 0) return [];
    const id = this.payloadField(['data', 'id']);
    // In seq order: a decision's own record comes before anything later claiming its id (an edge report).
    const rows = await this.db
      .selectFrom('audit')
      .select(['seq', 'at', 'agent', 'tool', 'effect', 'rule', id.as('id'), this.payloadField(['data', 'approval']).as('approval')])
      .where('type', '=', 'decision')
      .where('at', 'in', [...new Set(refs.map((ref) => ref.at))])
      .where(id, 'in', [...new Set(refs.map((ref) => ref.id))])
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({
      id: row.id ?? '',
      at: Number(row.at),
      agent: row.agent ?? '',
      tool: row.tool ?? '',
      effect: row.effect ?? '',
      rule: row.rule,
      approvalId: row.approval,
      seq: Number(row.seq),
    }));
  }

  async getOutcomes(decisionIds: readonly string[]): Promise<OutcomeRow[]> {
    if (decisionIds.length === 0) return [];
    const rows = await this.point.selectFrom('outcomes').selectAll().where('decision_id', 'in', [...new Set(decisionIds)]).execute();
    return rows.map(outcomeRow);
  }

  async outcomeOf(filter: { decisionId?: string; approvalId?: string }): Promise<OutcomeRow | undefined> {
    let query = this.point.selectFrom('outcomes').selectAll();
    if (filter.decisionId !== undefined) query = query.where('decision_id', '=', filter.decisionId);
    if (filter.approvalId !== undefined) query = query.where('approval_id', '=', filter.approvalId);
    if (filter.decisionId === undefined && filter.approvalId === undefined) return undefined;
    const row = await query.limit(1).executeTakeFirst();
    return row && outcomeRow(row);
  }

  async reportingAgents(agent?: string): Promise<{ agent: string; since: number }[]> {
    let query = this.db.selectFrom('outcomes').select(['agent', (eb) => eb.fn.min('decided_at').as('since')]).groupBy('agent');
    if (agent !== undefined) query = query.where('agent', '=', agent);
    const rows = await query.execute();
    return rows.map((row) => ({ agent: row.agent, since: Number(row.since) }));
  }

  async unreportedAllows(agent: string, fromMs: number, toMs: number, limit: number): Promise<DecisionRef[]> {
    const rows = await this.allowsWithoutOutcome(agent)
      .select(['audit.seq', 'audit.at', 'audit.agent', 'audit.tool', 'audit.effect', 'audit.rule', this.payloadField(['data', 'id']).as('id')])
      .where('audit.at', '>=', fromMs)
      .where('audit.at', '<', toMs)
      .orderBy('audit.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id ?? '', at: Number(row.at), agent: row.agent ?? '', tool: row.tool ?? '', effect: row.effect ?? '', rule: row.rule, approvalId: null, seq: Number(row.seq) }));
  }

  async unreportedRedemptions(agent: string, fromMs: number, toMs: number, limit: number): Promise<ApprovalRow[]> {
    return this.redemptionsUnfinished(agent)
      .selectAll('approvals')
      .where('approvals.redeemed_at', '>=', fromMs)
      .where('approvals.redeemed_at', '<', toMs)
      .orderBy('approvals.redeemed_at', 'desc')
      .limit(limit)
      .execute();
  }

  async unfinishedOutcomes(agent: string, startedBefore: number, limit: number): Promise<OutcomeRow[]> {
    const rows = await this.startedUnfinished(agent).selectAll().where('started_at', '<', startedBefore).orderBy('decided_at', 'desc').limit(limit).execute();
    return rows.map(outcomeRow);
  }

  async earliestPendingCall(agent: string, fromMs: number): Promise<number | undefined> {
    // What the three queries above list, from `fromMs` on, oldest first: each stops at the first
    // row it finds (the agent's time index walks its window in order).
    const [allow, redemption, started] = await Promise.all([
      this.allowsWithoutOutcome(agent).select('audit.at').where('audit.at', '>=', fromMs).orderBy('audit.at').limit(1).executeTakeFirst(),
      this.redemptionsUnfinished(agent).select('approvals.redeemed_at').where('approvals.redeemed_at', '>=', fromMs).orderBy('approvals.redeemed_at').limit(1).executeTakeFirst(),
      this.startedUnfinished(agent).select('started_at').where('started_at', '>=', fromMs).orderBy('started_at').limit(1).executeTakeFirst(),
    ]);
    const times = [allow?.at, redemption?.redeemed_at, started?.started_at].filter((at) => at !== undefined && at !== null).map(Number);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** The agent's allowed decisions with no outcome reported (what `allowedUnreported` lists, at any time). */
  private allowsWithoutOutcome(agent: string) {
    return this.db
      .selectFrom('audit')
      .leftJoin('outcomes', (join) => join.on(sql<SqlBool>`outcomes.decision_id = ${this.payloadField(['data', 'id'])}`))
      .where('audit.type', '=', 'decision')
      .where('audit.agent', '=', agent)
      .where('audit.effect', '=', 'allow')
      .where('outcomes.decision_id', 'is', null);
  }

  /** The agent's approvals redeemed whose call never reported finishing (what `redeemedUnreported` lists, at any time). */
  private redemptionsUnfinished(agent: string) {
    return this.db
      .selectFrom('approvals')
      .leftJoin('outcomes', 'outcomes.decision_id', 'approvals.decision_id')
      .where('approvals.agent', '=', agent)
      .where('approvals.status', '=', 'redeemed')
      .where((eb) => eb.or([eb('outcomes.decision_id', 'is', null), eb('outcomes.status', '=', 'started')]));
  }

  /** The agent's calls without approval reported started and never finished (what `startedUnfinished` lists, at any time). */
  private startedUnfinished(agent: string) {
    return this.db.selectFrom('outcomes').where('agent', '=', agent).where('status', '=', 'started').where('approval_id', 'is', null);
  }

  async reportedTwice(agent: string | undefined, limit: number): Promise<OutcomeRow[]> {
    let query = this.db.selectFrom('outcomes').selectAll().where('duplicates', '>', 0);
    if (agent !== undefined) query = query.where('agent', '=', agent);
    const rows = await query.orderBy('reported_at', 'desc').limit(limit).execute();
    return rows.map(outcomeRow);
  }

  async recordDuplicateOutcomes(decisionIds: readonly string[]): Promise<void> {
    if (decisionIds.length === 0) return;
    await this.writer.apply(decisionIds.map((decisionId) => ({ kind: 'outcome.duplicate', decisionId })));
  }

  async outcomeCounts(range: TimeRange, bucketMs: number): Promise<OutcomeCountRow[]> {
    const bucket = sql<number>`cast((${sql.ref('reported_at')} - ${sql.lit(Math.trunc(range.fromMs))}) / ${sql.lit(Math.trunc(bucketMs))} as integer)`;
    const rows = await this.db
      .selectFrom('outcomes')
      .select((eb) => [bucket.as('bucket'), 'agent', 'tool', 'status', eb.fn.countAll<number | string>().as('count')])
      .where('reported_at', '>=', range.fromMs)
      .where('reported_at', '<', range.toMs)
      .where('status', 'in', ['succeeded', 'failed'])
      .groupBy([bucket, 'agent', 'tool', 'status'])
      .orderBy('bucket')
      .execute();
    return rows.map((row) => ({ bucket: Number(row.bucket), agent: row.agent, tool: row.tool, status: row.status, count: Number(row.count) }));
  }

  async outcomeRates(range: TimeRange, filter: { agent?: string } = {}): Promise<OutcomeRate[]> {
    let query = this.db
      .selectFrom('outcomes')
      .select(['agent', 'tool', 'status', (eb) => eb.fn.countAll<number>().as('count')])
      .where('finished_at', '>=', range.fromMs)
      .where('finished_at', '<', range.toMs)
      .groupBy(['agent', 'tool', 'status']);
    if (filter.agent !== undefined) query = query.where('agent', '=', filter.agent);
    const rows = await query.execute();
    return rows.map((row) => ({ agent: row.agent, tool: row.tool, status: row.status, count: Number(row.count) }));
  }

  async queryAudit(filter: AuditFilter, page: AuditPage): Promise<AuditRow[]> {
    return (await this.pageOfAudit(filter, page, undefined)).rows;
  }

  async searchAudit(filter: AuditFilter, page: AuditPage & { scanLimit: number }): Promise<{ rows: AuditRow[]; resumeBefore: number | undefined; truncated: boolean }> {
    const chars = Math.min(AUDIT_PAGE_CHARS, page.maxChars ?? AUDIT_PAGE_CHARS);
    return this.pageOfAudit(filter, page, needsScanBound(filter) ? page.scanLimit : undefined, { chars, kept: 0, truncated: false });
  }

  async auditRecords(seqs: readonly number[]): Promise<AuditRow[]> {
    if (seqs.length === 0) return [];
    return this.db.selectFrom('audit').selectAll().where('seq', 'in', [...new Set(seqs)]).orderBy('seq').execute();
  }

  private async pageOfAudit(
    filter: AuditFilter,
    page: AuditPage,
    scanLimit: number | undefined,
    budget?: PageBudget,
  ): Promise<{ rows: AuditRow[]; resumeBefore: number | undefined; truncated: boolean }> {
    await this.argIndexReady(filter);
    const plan = await this.searchPlan(filter, page, scanLimit);
    if (plan === undefined) return { rows: [], resumeBefore: undefined, truncated: false };
    const rows = plan.empty === true ? [] : await this.planRows(filter, plan, page, budget);
    const truncated = budget?.truncated === true;
    // Cut by its size, the page goes on from its last record: the scan bound's floor is further down.
    return { rows, resumeBefore: rows.length < page.limit && !truncated ? plan.resumeBefore : undefined, truncated };
  }

  private async planRows(filter: AuditFilter, plan: SearchPlan, page: AuditPage, budget?: PageBudget): Promise<AuditRow[]> {
    if (plan.splitAt === undefined) return this.auditPage(filter, plan, page.limit, budget);
    // The newest part of the range, walked; then, if the page is not full, the older part with
    // its own choice: a field read as a set when it has fewer entries there than a quarter of
    // the records (a set entry costs about four probed records), else walked too.
    const newest = await this.auditPage(filter, { ...plan, fromSeq: plan.splitAt, splitAt: undefined }, page.limit, budget);
    if (newest.length === page.limit || budget?.truncated === true) return newest;
    const older = { fromSeq: plan.fromSeq, beforeSeq: plan.splitAt };
    const groups = [...groupByPath(filter.args ?? [])];
    const cap = Math.max(ARG_CAP_MIN, Math.ceil((plan.splitAt - (plan.fromSeq ?? 0)) / 4));
    const driver = await this.argDriver(groups, older.fromSeq, older.beforeSeq, page.plan === 'split' ? undefined : cap);
    if (driver === 'empty') return newest;
    return [...newest, ...(await this.auditPage(filter, { ...older, driver }, page.limit - newest.length, budget))];
  }

  /**
   * One page of the plan, newest first. With a budget (a search someone asked for), the matching
   * seqs and payload sizes first, then only the records that fit in it, by primary key: a page of
   * 1,000 records of an agent's 900 KB arguments is not read whole (it was, ~900 MB).
   */
  private async auditPage(filter: AuditFilter, plan: SearchPlan, limit: number, budget?: PageBudget): Promise<AuditRow[]> {
    let query = this.applyAuditFilter(this.db.selectFrom('audit').selectAll(), filter, plan);
    if (plan.fromSeq !== undefined) query = query.where('seq', '>=', plan.fromSeq);
    if (plan.beforeSeq !== undefined) query = query.where('seq', '<', plan.beforeSeq);
    if (budget === undefined) return query.orderBy('seq', 'desc').limit(limit).execute();
    return this.fittingRows(query, 'desc', limit, budget);
  }

  /**
   * Up to `limit` records of the query in seq order, as many as fit in the budget (at least one a
   * page): their seqs and payload sizes first, without the payloads, then the records by key.
   */
  private async fittingRows(query: SelectQueryBuilder<Database, 'audit', AuditRow>, order: 'asc' | 'desc', limit: number, budget: PageBudget): Promise<AuditRow[]> {
    const sizes = await query
      .clearSelect()
      .select(['seq', sql<number | string>`length(payload)`.as('chars')])
      .orderBy('seq', order)
      .limit(limit)
      .execute();
    const kept: number[] = [];
    for (const row of sizes) {
      const chars = Number(row.chars);
      if (budget.kept > 0 && chars > budget.chars) {
        budget.truncated = true;
        break;
      }
      budget.chars -= chars;
      budget.kept++;
      kept.push(Number(row.seq));
    }
    if (kept.length === 0) return [];
    return this.db.selectFrom('audit').selectAll().where('seq', 'in', kept).orderBy('seq', order).execute();
  }

  /**
   * How to read one page of a search (docs/search.md "Query plans"), or undefined when a cheap
   * look already shows it is empty. Every plan answers the same records; they differ in what the
   * database reads:
   *
   * - A time window becomes a seq range, [min seq, max seq] of the records in the window, read
   *   from the (at, seq) index alone. The range is exact whatever the order of `at` (clocks
   *   may step back), and it lets the page come from a seq index over just that range (the
   *   `(tool, seq)` index for tool + window) instead of a walk from the newest record down to
   *   the window. A window holding more than WINDOW_CAP records is not converted (counting it
   *   would cost more than it saves): the page walks the trail newest first, where a dense
   *   window fills it quickly.
   * - Argument filters: each field's matching index entries are counted, up to a cap. The
   *   sparsest field under the cap drives the query (`seq IN (its entries)`: the matching
   *   entries are few, reading them all is cheap); the other fields are probed per record
   *   (`EXISTS` on the (seq, path) index). When every field matches more than the cap, every
   *   field is probed while the trail is walked newest first: about limit × total / matches
   *   records, fewer than the cap. The cap is √(limit × records in range), where both costs meet.
   * - Several fields, each over the cap, may still match few records together: the newest
   *   SPLIT_BUDGET × cap records are walked first, the rest only when that part did not fill
   *   the page (queryAudit).
   */
  private async searchPlan(filter: AuditFilter, page: AuditPage, scanLimit?: number): Promise<SearchPlan | undefined> {
    const force = page.plan ?? 'auto';
    let fromSeq: number | undefined;
    let beforeSeq = page.beforeSeq;
    if ((filter.fromMs !== undefined || filter.toMs !== undefined) && force !== 'walk') {
      let window = this.db.selectFrom('audit').select('seq');
      if (filter.fromMs !== undefined) window = window.where('at', '>=', filter.fromMs);
      if (filter.toMs !== undefined) window = window.where('at', '<', filter.toMs);
      if (beforeSeq !== undefined) window = window.where('seq', '<', beforeSeq);
      if (force === 'auto') window = window.limit(WINDOW_CAP + 1);
      const stats = await this.db
        .selectFrom(window.as('w'))
        .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min<number | string | null>('w.seq').as('low'), eb.fn.max<number | string | null>('w.seq').as('high')])
        .executeTakeFirstOrThrow();
      const n = Number(stats.n);
      if (n === 0) return undefined;
      if (n <= WINDOW_CAP || force === 'lookup') {
        fromSeq = Number(stats.low);
        beforeSeq = Number(stats.high) + 1;
      }
    }
    // The scan bound (searchAudit): at most `scanLimit` records below the top of the range, the
    // rest left to the next page. Applied after the time window became a seq range, so an old
    // window is searched from its own newest record, not from the trail's.
    let resumeBefore: number | undefined;
    if (scanLimit !== undefined) {
      const top = beforeSeq ?? (await this.seqBound('max')) + 1;
      const floor = top - scanLimit;
      const lowest = fromSeq ?? (await this.seqBound('min'));
      if (floor > lowest) {
        fromSeq = floor;
        beforeSeq = top;
        resumeBefore = floor;
      }
    }
    const groups = [...groupByPath(filter.args ?? [])];
    if (groups.length === 0 || force === 'walk') return { fromSeq, beforeSeq, driver: undefined, resumeBefore };
    if (filter.type !== undefined && filter.type !== 'decision') return undefined;
    let span: number;
    if (beforeSeq === undefined) {
      const newest = await this.seqBound('max');
      if (newest === 0) return undefined;
      span = newest + 1 - (fromSeq ?? 0);
    } else {
      span = beforeSeq - (fromSeq ?? 0);
    }
    const cap = force === 'lookup' ? undefined : Math.max(ARG_CAP_MIN, Math.ceil(Math.sqrt(page.limit * Math.max(span, 1))));
    const chosen = await this.argDriver(groups, fromSeq, beforeSeq, cap);
    if (chosen === 'empty') return resumeBefore === undefined ? undefined : { fromSeq, beforeSeq, driver: undefined, resumeBefore, empty: true };
    // Several fields, each dense: together they may still be sparse (fields that rarely meet),
    // which the counts cannot see. Walk a bounded newest part of the range first; the rest is
    // read only if that part did not fill the page (see queryAudit).
    const top = beforeSeq ?? span + (fromSeq ?? 0);
    const budget = force === 'split' ? page.limit : SPLIT_BUDGET * (cap ?? 0);
    const splitAt = top - budget;
    if ((force === 'split' || (force === 'auto' && groups.length > 1 && chosen === undefined)) && splitAt > (fromSeq ?? 0)) {
      return { fromSeq, beforeSeq, driver: undefined, splitAt, resumeBefore };
    }
    return { fromSeq, beforeSeq, driver: chosen, resumeBefore };
  }

  /** The trail's newest (`max`) or oldest (`min`) seq; 0 when it is empty. */
  private async seqBound(which: 'max' | 'min'): Promise<number> {
    const row = await this.db
      .selectFrom('audit')
      .select((eb) => (which === 'max' ? eb.fn.max<number | string | null>('seq') : eb.fn.min<number | string | null>('seq')).as('seq'))
      .executeTakeFirst();
    return row?.seq === null || row?.seq === undefined ? 0 : Number(row.seq);
  }

  /**
   * The sparsest argument field whose matching index entries in [fromSeq, beforeSeq) are fewer
   * than `cap` (all of them when undefined), counted up to the cap; 'empty' when a field has none.
   */
  private async argDriver(groups: readonly [string, ArgFilter[]][], fromSeq: number | undefined, beforeSeq: number | undefined, cap: number | undefined): Promise<string | undefined | 'empty'> {
    let driver: { path: string; count: number } | undefined;
    for (const [path, filters] of groups) {
      let entries = this.db
        .selectFrom('audit_args')
        .select('seq')
        .where('path', '=', path)
        .where(argValueCondition(filters));
      if (fromSeq !== undefined) entries = entries.where('seq', '>=', fromSeq);
      if (beforeSeq !== undefined) entries = entries.where('seq', '<', beforeSeq);
      if (cap !== undefined) entries = entries.limit(cap);
      const counted = await this.db.selectFrom(entries.as('e')).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      const count = Number(counted.n);
      if (count === 0) return 'empty';
      if ((cap === undefined || count < cap) && (driver === undefined || count < driver.count)) driver = { path, count };
    }
    return driver?.path;
  }

  async auditAfter(afterSeq: number, limit: number, filter: AuditFilter = {}, throughSeq?: number): Promise<AuditRow[]> {
    await this.argIndexReady(filter);
    // The range goes into the plan too: an argument filter's `seq IN (…)` then reads only its
    // entries in (afterSeq, throughSeq], not every matching entry of the trail for each page.
    const range = { fromSeq: afterSeq + 1, beforeSeq: throughSeq === undefined ? undefined : throughSeq + 1 };
    let query = this.applyAuditFilter(this.db.selectFrom('audit').selectAll(), filter, { ...range, driver: undefined, everyFieldAsSet: true }).where('seq', '>', afterSeq);
    if (throughSeq !== undefined) query = query.where('seq', '<=', throughSeq);
    // The page's size first (seq and payload length only), then the records that fit in
    // AUDIT_PAGE_CHARS: 500 records of an agent's 900 KB arguments were read whole, 450 MB a page.
    return this.fittingRows(query, 'asc', limit, { chars: AUDIT_PAGE_CHARS, kept: 0, truncated: false });
  }

  async newestSeq(): Promise<number> {
    return this.seqBound('max');
  }

  async auditBase(): Promise<AuditArchiveRow | undefined> {
    const row = await this.db.selectFrom('audit_archives').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
    // bigint columns come back as strings from PostgreSQL.
    return row && { ...row, seq: Number(row.seq), at: Number(row.at), first_seq: Number(row.first_seq), archived_at: Number(row.archived_at) };
  }

  async leaseAuditForwarder(name: string, holder: string, nowMs: number, untilMs: number): Promise<AuditForwarderRow | undefined> {
    await this.writer.apply([
      { kind: 'forwarder.ensure', name, at: nowMs },
      { kind: 'forwarder.lease', name, holder, at: nowMs, until: untilMs },
    ]);
    const row = await this.getAuditForwarder(name);
    return row?.holder === holder ? row : undefined;
  }

  async ackAuditForwarder(name: string, holder: string, seq: number, nowMs: number, untilMs: number): Promise<boolean> {
    await this.writer.apply([{ kind: 'forwarder.ack', name, holder, seq, at: nowMs, until: untilMs }]);
    const row = await this.getAuditForwarder(name);
    return row?.holder === holder && row.seq >= seq;
  }

  async releaseAuditForwarder(name: string, holder: string): Promise<void> {
    await this.writer.apply([{ kind: 'forwarder.release', name, holder }]);
  }

  async getAuditForwarder(name: string): Promise<AuditForwarderRow | undefined> {
    const row = await this.point.selectFrom('audit_forwarders').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { ...row, seq: Number(row.seq), lease_until: Number(row.lease_until), updated_at: Number(row.updated_at) };
  }

  /** A search on call arguments sees every record committed before it: the index is brought up to date first. */
  private async argIndexReady(filter: AuditFilter): Promise<void> {
    if (filter.args !== undefined && filter.args.length > 0) await this.writer.flushIndex?.();
  }

  private applyAuditFilter(query: SelectQueryBuilder<Database, 'audit', AuditRow>, filter: AuditFilter, plan: SearchPlan): SelectQueryBuilder<Database, 'audit', AuditRow> {
    let q = applyAuditFilter(query, filter);
    if (filter.args !== undefined && filter.args.length > 0) {
      // Only decision records have audit_args rows (prepareRecord), so an argument condition
      // implies type = 'decision' without reading the record: a walk probes the index alone
      // and reads a record only when it matches (three times faster on a long walk at 1M).
      for (const [path, filters] of groupByPath(filter.args)) {
        q = q.where(plan.everyFieldAsSet === true || plan.driver === path ? argLookup(path, filters, plan) : argProbe(path, filters, plan));
      }
    }
    for (const condition of decisionConditions({ role: filter.role, environment: filter.environment })) q = q.where(condition);
    if (filter.cause !== undefined) q = q.where('type', '=', 'decision').where(this.causeCondition(filter.cause));
    return q;
  }

  /** The records whose decision has this cause (the inverse of `refusalCause`). */
  private causeCondition(cause: RefusalCause): Expression<SqlBool> {
    const decidedBy = this.decisionField('decidedBy');
    const code = this.decisionField('code');
    const direct = DECIDED_BY_OF[cause];
    if (cause === 'paused') return sql<SqlBool>`(${decidedBy} = 'pause' or ${code} = 'paused')`;
    if (direct !== undefined) return sql<SqlBool>`${decidedBy} = ${direct}`;
    const codes = ERROR_CODES_OF[cause];
    if (codes) return sql<SqlBool>`(${decidedBy} = 'error' and ${code} in (${sql.join(codes)}))`;
    // evaluation_error: decided by an error whose code names no other cause.
    const named = Object.values(ERROR_CODES_OF).flat().concat('paused');
    return sql<SqlBool>`(${decidedBy} not in ('rule', 'limit', 'risk', 'default', 'pause') and (${code} is null or ${code} not in (${sql.join(named)})))`;
  }

  async getAgent(id: string): Promise<AgentRow | undefined> {
    return this.point.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listAgents(): Promise<AgentRow[]> {
    return this.db.selectFrom('agents').selectAll().orderBy('id').execute();
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    return this.point.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listApiKeys(agentId: string): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().where('agent_id', '=', agentId).orderBy('created_at').execute();
  }

  async getUserByName(username: string): Promise<UserRow | undefined> {
    return this.point.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async listUsers(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username').execute();
  }

  async getSession(idHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
    const session = await this.point.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    if (!session) return undefined;
    const user = await this.point.selectFrom('users').selectAll().where('id', '=', session.user_id).executeTakeFirst();
    return user ? { session, user } : undefined;
  }

  async deleteSessionsExpiredBy(atMs: number): Promise<void> {
    await this.writer.apply([{ kind: 'sessions.purge', expiredBy: atMs }]);
  }

  async getUserByIdentity(issuer: string, subject: string): Promise<UserRow | undefined> {
    return this.point
      .selectFrom('user_identities')
      .innerJoin('users', 'users.id', 'user_identities.user_id')
      .selectAll('users')
      .where('user_identities.issuer', '=', issuer)
      .where('user_identities.subject', '=', subject)
      .executeTakeFirst();
  }

  async putOidcLogin(row: OidcLoginRow): Promise<void> {
    await this.writer.apply([{ kind: 'oidc_login.insert', row }]);
  }

  async takeOidcLogin(stateHash: string, atMs: number): Promise<OidcLoginRow | undefined> {
    const taker = randomUUID();
    await this.writer.apply([{ kind: 'oidc_login.take', stateHash, taker, at: atMs }]);
    const row = await this.db.selectFrom('oidc_logins').selectAll().where('state_hash', '=', stateHash).executeTakeFirst();
    return row?.taken_by === taker ? { ...row, created_at: Number(row.created_at), expires_at: Number(row.expires_at) } : undefined;
  }

  async deleteOidcLoginsExpiredBy(atMs: number): Promise<void> {
    await this.writer.apply([{ kind: 'oidc_logins.purge', expiredBy: atMs }]);
  }

  async getUserToken(id: string): Promise<{ token: UserTokenRow; user: UserRow } | undefined> {
    const token = await this.point.selectFrom('user_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!token) return undefined;
    const user = await this.point.selectFrom('users').selectAll().where('id', '=', token.user_id).executeTakeFirst();
    return user ? { token, user } : undefined;
  }

  async listUserTokens(filter: { userId?: string }): Promise<(UserTokenRow & { username: string })[]> {
    let query = this.db.selectFrom('user_tokens').innerJoin('users', 'users.id', 'user_tokens.user_id').selectAll('user_tokens').select('users.username');
    if (filter.userId !== undefined) query = query.where('user_tokens.user_id', '=', filter.userId);
    return query.orderBy('user_tokens.created_at').orderBy('user_tokens.id').execute();
  }

  async touchUserToken(id: string, atMs: number): Promise<void> {
    await this.writer.apply([{ kind: 'token.touch', id, at: atMs }]);
  }

  async getApproval(id: string): Promise<ApprovalRow | undefined> {
    return this.point.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listApprovals(filter: ApprovalFilter, page: { after?: { at: number; id: string }; limit: number }): Promise<ApprovalRow[]> {
    let query = this.db.selectFrom('approvals').selectAll();
    if (typeof filter.status === 'string') query = query.where('status', '=', filter.status);
    else if (filter.status !== undefined) query = query.where('status', 'in', [...filter.status]);
    if (filter.agent !== undefined) query = query.where('agent', '=', filter.agent);
    if (filter.tool !== undefined) query = query.where('tool', '=', filter.tool);
    if (filter.rule !== undefined) query = query.where('rule', '=', filter.rule);
    if (filter.fromMs !== undefined) query = query.where('created_at', '>=', filter.fromMs);
    if (filter.toMs !== undefined) query = query.where('created_at', '<', filter.toMs);
    for (const arg of filter.args ?? []) query = query.where(this.approvalArgCondition(arg));
    const sort = filter.sort ?? 'newest';
    // deadline: the current tier's timeout, else the approval's expiry (whichever comes first to act on).
    const key = sort === 'deadline' ? sql<number>`coalesce(${sql.ref('deadline_at')}, ${sql.ref('expires_at')})` : sql<number>`${sql.ref('created_at')}`;
    const after = page.after;
    const ascending = sort !== 'newest';
    if (after) {
      const cmp = ascending ? sql.raw('>') : sql.raw('<');
      query = query.where(sql<SqlBool>`(${key} ${cmp} ${after.at} or (${key} = ${after.at} and ${sql.ref('id')} ${cmp} ${after.id}))`);
    }
    const direction = ascending ? 'asc' : 'desc';
    return query.orderBy(key, direction).orderBy('id', direction).limit(page.limit).execute();
  }

  /** One argument filter on an approval's call arguments (JSON text in `args`), dialect by dialect. */
  private approvalArgCondition(filter: ArgFilter): Expression<SqlBool> {
    const keys = filter.path.split('.');
    if (this.postgres) {
      const at = sql`(${pgJson(sql.ref('args'))} #> ${keys}::text[])`;
      const text = sql`(${pgJson(sql.ref('args'))} #>> ${keys}::text[])`;
      const type = sql`json_typeof(${at})`;
      if (filter.op === 'eq') {
        const num = canonicalNumber(filter.value);
        return sql<SqlBool>`(case ${type} when 'string' then ${text} = ${filter.value} when 'boolean' then ${text} = ${filter.value} when 'number' then ${num === undefined ? sql`false` : sql`(${text})::float8 = ${num}`} else false end)`;
      }
      if (filter.op === 'prefix') return sql<SqlBool>`(${type} = 'string' and starts_with(${text}, ${filter.value}))`;
      return sql<SqlBool>`(case when ${type} = 'number' then (${text})::float8 end ${sql.raw(RANGE_SQL[filter.op])} ${filter.value})`;
    }
    const path = `$${keys.map((key) => `."${key}"`).join('')}`;
    const type = sql`json_type(${sql.ref('args')}, ${path})`;
    const value = sql`json_extract(${sql.ref('args')}, ${path})`;
    if (filter.op === 'eq') {
      const num = canonicalNumber(filter.value);
      return sql<SqlBool>`(case ${type} when 'text' then ${value} = ${filter.value} when 'true' then ${filter.value} = 'true' when 'false' then ${filter.value} = 'false' when 'integer' then ${value} = ${num ?? null} when 'real' then ${value} = ${num ?? null} else 0 end)`;
    }
    if (filter.op === 'prefix') return sql<SqlBool>`(${type} = 'text' and substr(${value}, 1, ${filter.value.length}) = ${filter.value})`;
    return sql<SqlBool>`(${type} in ('integer', 'real') and ${value} ${sql.raw(RANGE_SQL[filter.op])} ${filter.value})`;
  }

  async approvalsDueBy(atMs: number, limit: number): Promise<ApprovalRow[]> {
    return this.db
      .selectFrom('approvals')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('status', 'in', ['pending', 'approved']), eb('expires_at', '<=', atMs)]),
          eb.and([eb('status', '=', 'pending'), eb('deadline_at', '<=', atMs)]),
        ]),
      )
      .orderBy('expires_at')
      .limit(limit)
      .execute();
  }

  async nextApprovalDue(): Promise<number | undefined> {
    const expiry = await this.db
      .selectFrom('approvals')
      .select((eb) => eb.fn.min<number | string | null>('expires_at').as('at'))
      .where('status', 'in', ['pending', 'approved'])
      .executeTakeFirst();
    const deadline = await this.db
      .selectFrom('approvals')
      .select((eb) => eb.fn.min<number | string | null>('deadline_at').as('at'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    // PostgreSQL returns bigint aggregates as strings.
    const times = [expiry?.at, deadline?.at].filter((at) => at !== null && at !== undefined).map(Number);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  async approvalOutcomes(filter: { fromMs: number; toMs: number; rule?: string }): Promise<ApprovalOutcomeRow[]> {
    let query = this.db
      .selectFrom('approvals')
      .select(['rule', 'status', 'created_at', 'resolved_at', 'resolved_by', 'resolved_by_kind', 'tier', 'route', 'edited_args', 'agent', 'role', 'environment', 'tool', 'args'])
      .where('created_at', '>=', filter.fromMs)
      .where('created_at', '<', filter.toMs);
    if (filter.rule !== undefined) query = query.where('rule', '=', filter.rule);
    return query.orderBy('created_at').execute();
  }

  async listDeliveries(filter: { approvalId?: string }, limit: number): Promise<NotificationDeliveryRow[]> {
    let query = this.db.selectFrom('notification_deliveries').selectAll();
    if (filter.approvalId !== undefined) query = query.where('approval_id', '=', filter.approvalId);
    return query.orderBy('at', 'desc').orderBy('attempt', 'desc').limit(limit).execute();
  }

  async recordDelivery(row: NotificationDeliveryRow): Promise<void> {
    await this.writer.apply([{ kind: 'delivery.insert', row }]);
  }

  async countPendingApprovals(atMs: number, filter: DecisionFilter = {}): Promise<number> {
    const row = await applyApprovalScope(
      this.db.selectFrom('approvals').select((eb) => eb.fn.countAll<number | string>().as('count')).where('status', '=', 'pending').where('expires_at', '>', atMs),
      filter,
    ).executeTakeFirstOrThrow();
    // PostgreSQL returns count(*) as a string.
    return Number(row.count);
  }

  async getIdempotency(agent: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.point.selectFrom('idempotency').selectAll().where('agent', '=', agent).where('key', '=', key).executeTakeFirst();
  }

  async getIdempotencies(agent: string, keys: readonly string[]): Promise<IdempotencyRow[]> {
    if (keys.length === 0) return [];
    return this.point.selectFrom('idempotency').selectAll().where('agent', '=', agent).where('key', 'in', [...keys]).execute();
  }

  async deleteIdempotencyBefore(atMs: number): Promise<void> {
    await this.writer.apply([{ kind: 'idempotency.purge', before: atMs }]);
  }

  async decisionBuckets(range: TimeRange, bucketMs: number, options: { byAgent?: boolean } & DecisionFilter = {}): Promise<DecisionBucket[]> {
    const { byAgent, ...filter } = options;
    const rows = await this.countDecisions({ range, bucketMs, filter, groups: byAgent ? ['bucket', 'effect', 'agent'] : ['bucket', 'effect'] });
    return rows.map((row) => ({ bucket: Number(row.bucket), ...(byAgent ? { agent: row.agent ?? '' } : {}), effect: row.effect ?? '', count: row.count }));
  }

  async decisionCounts(range: TimeRange, bucketMs: number): Promise<DecisionCountRow[]> {
    const rows = await this.countDecisions({ range, bucketMs, groups: ['bucket', 'agent', 'tool', 'effect', 'rule'] });
    return rows
      .map((row) => ({ bucket: Number(row.bucket), agent: row.agent ?? '', tool: row.tool ?? '', effect: row.effect ?? '', rule: row.rule ?? null, count: row.count }))
      .sort((x, y) => x.bucket - y.bucket);
  }

  async countBlocked(agent: string, fromMs: number): Promise<number> {
    const [row] = await this.countDecisions({ range: { fromMs, toMs: Number.MAX_SAFE_INTEGER }, filter: { agent, effect: 'block' }, groups: [] });
    return row?.count ?? 0;
  }

  async listPauses(filter: { active?: boolean }, limit: number): Promise<PauseRow[]> {
    let query = this.db.selectFrom('pauses').selectAll();
    if (filter.active) query = query.where('resumed_at', 'is', null);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(pauseRow);
  }

  async getPause(id: string): Promise<PauseRow | undefined> {
    const row = await this.point.selectFrom('pauses').selectAll().where('id', '=', id).executeTakeFirst();
    return row && pauseRow(row);
  }

  async topDecisionValues(range: TimeRange, column: 'tool' | 'rule', filter: { effect?: string } & DecisionFilter, limit: number): Promise<ValueCount[]> {
    const rows = await this.countDecisions({ range, filter, groups: [column], top: limit });
    return rows.map((row) => ({ value: row[column] ?? null, count: row.count }));
  }

  async decisionsByEnvironment(range: TimeRange, filter: DecisionFilter = {}): Promise<EnvironmentCount[]> {
    const rows = await this.countDecisions({ range, filter, groups: ['environment', 'effect'] });
    return rows
      .map((row) => ({ environment: row.environment ?? '', effect: row.effect ?? '', count: row.count }))
      .sort((x, y) => (x.environment < y.environment ? -1 : x.environment > y.environment ? 1 : 0));
  }

  async blockedCauses(range: TimeRange, filter: DecisionFilter = {}): Promise<CauseCount[]> {
    const rows = await this.countDecisions({ range, filter: { ...filter, effect: 'block' }, groups: ['rule', 'decided_by', 'code'] });
    return rows.map((row) => ({ rule: row.rule ?? null, decidedBy: row.decided_by ?? null, code: row.code ?? null, count: row.count }));
  }

  /**
   * Decisions in a range counted by `groups`, in one statement: whole minutes from
   * `decision_counts`; from the records, the partial minutes at the range's ends and each minute a
   * bucket boundary falls inside (its count cannot be split). The answer is the same as counting
   * the records; what it reads is a row per minute and key, plus the records of those minutes
   * (countPlan).
   */
  private async countDecisions(query: CountQuery): Promise<CountedRow[]> {
    const { groups } = query;
    const plan = countPlan(query.range, query.bucketMs);
    const parts: RawBuilder<unknown>[] = [];
    if (plan.counted) parts.push(this.countPart(plan.counted, query));
    if (plan.records.length > 0) parts.push(this.recordPart(plan.records, query));
    if (parts.length === 0) return [];
    const names = groups.map((_, i) => sql.ref(`g${i}`));
    const grouped = groups.length > 0 ? sql` group by ${sql.join(names)}` : sql``;
    const top = query.top === undefined ? sql`` : sql` order by c desc${names.length > 0 ? sql`, ${sql.join(names)}` : sql``} limit ${sql.lit(Math.trunc(query.top))}`;
    const result = await sql<Record<string, unknown>>`select ${sql.join([...names, sql`sum(n) as c`])} from (${sql.join(parts, sql` union all `)}) as u${grouped}${top}`.execute(this.db);
    const rows: CountedRow[] = [];
    for (const raw of result.rows) {
      const count = Number(raw.c ?? 0);
      if (count === 0) continue;
      const row: CountedRow = { count };
      groups.forEach((group, i) => {
        const value = raw[`g${i}`];
        if (group === 'bucket') row.bucket = Number(value);
        else row[group] = KEY_OR_NULL.has(group) && value === '' ? null : (value as string | null);
      });
      rows.push(row);
    }
    return rows;
  }

  /** The whole minutes of `span` from `decision_counts`, but those a bucket boundary falls inside. */
  private countPart(span: TimeRange, query: CountQuery): RawBuilder<unknown> {
    const where: Expression<SqlBool>[] = [sql<SqlBool>`decision_counts.minute >= ${span.fromMs}`, sql<SqlBool>`decision_counts.minute < ${span.toMs}`];
    if (query.bucketMs !== undefined) {
      // The minute's first and last millisecond fall into the same bucket (the others are read from records).
      where.push(sql<SqlBool>`${this.bucketExpression('decision_counts.minute', query)} = ${this.bucketExpression('decision_counts.minute', query, COUNT_MINUTE_MS - 1)}`);
    }
    return this.groupedPart('decision_counts', where, query);
  }

  /** The decision records in `ranges` (disjoint, through the (type, at) index). */
  private recordPart(ranges: readonly TimeRange[], query: CountQuery): RawBuilder<unknown> {
    const within = ranges.map((range) => sql<SqlBool>`(audit.at >= ${range.fromMs} and audit.at < ${range.toMs})`);
    return this.groupedPart('audit', [sql<SqlBool>`audit.type = 'decision'`, sql<SqlBool>`(${sql.join(within, sql` or `)})`], query);
  }

  /** `cast((column + plusMs - from) / bucketMs as integer)`: literals, as PostgreSQL must see the same expression everywhere. */
  private bucketExpression(column: string, query: CountQuery, plusMs = 0): RawBuilder<number> {
    return sql<number>`cast((${sql.ref(column)} + ${sql.lit(plusMs)} - ${sql.lit(Math.trunc(query.range.fromMs))}) / ${sql.lit(Math.trunc(query.bucketMs ?? 1))} as integer)`;
  }

  /** One part of `countDecisions`: `decision_counts` rows or decision records matching `where` and the filter, grouped. */
  private groupedPart(table: 'decision_counts' | 'audit', where: Expression<SqlBool>[], query: CountQuery): RawBuilder<unknown> {
    const counted = table === 'decision_counts';
    const column = (name: string) => sql.ref(`${table}.${name}`);
    const value = (group: CountGroup): RawBuilder<unknown> => {
      switch (group) {
        case 'bucket':
          return this.bucketExpression(`${table}.${counted ? 'minute' : 'at'}`, query);
        case 'environment':
          return sql`agents.environment`;
        case 'decided_by':
          return counted ? sql`${column('decided_by')}` : sql`coalesce(${this.decisionField('decidedBy')}, '')`;
        case 'code':
          return counted ? sql`${column('code')}` : sql`coalesce(${this.decisionField('code')}, '')`;
        default:
          return counted ? sql`${column(group)}` : sql`coalesce(${column(group)}, '')`;
      }
    };
    const conditions = [...where];
    if (query.filter?.effect !== undefined) conditions.push(sql<SqlBool>`${column('effect')} = ${query.filter.effect}`);
    conditions.push(...decisionConditions(query.filter ?? {}, table));
    const join = query.groups.includes('environment') ? sql` join agents on agents.id = ${column('agent')}` : sql``;
    const selected = [...query.groups.map((group, i) => sql`${value(group)} as ${sql.ref(`g${i}`)}`), counted ? sql`sum(${column('count')}) as n` : sql`count(*) as n`];
    const grouped = query.groups.length > 0 ? sql` group by ${sql.raw(query.groups.map((_, i) => i + 1).join(', '))}` : sql``;
    return sql`select ${sql.join(selected)} from ${sql.table(table)}${join} where ${sql.join(conditions, sql` and `)}${grouped}`;
  }

  async approvalStatuses(ids: readonly string[]): Promise<{ id: string; status: string }[]> {
    if (ids.length === 0) return [];
    return this.point.selectFrom('approvals').select(['id', 'status']).where('id', 'in', [...new Set(ids)]).execute();
  }

  async oldestPendingApproval(atMs: number, filter: DecisionFilter = {}): Promise<ApprovalRow | undefined> {
    let query = this.db.selectFrom('approvals').selectAll().where('status', '=', 'pending').where('expires_at', '>', atMs);
    query = applyApprovalScope(query, filter);
    return query.orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
  }

  async lastDecisionAt(agent: string): Promise<number | undefined> {
    // Walks the (agent, seq) index backwards; an agent's newest record is almost always a decision.
    const row = await this.db
      .selectFrom('audit')
      .select('at')
      .where('agent', '=', agent)
      .where('type', '=', 'decision')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? Number(row.at) : undefined;
  }

  async approvalResolution(range: TimeRange, filter: DecisionFilter = {}): Promise<ApprovalResolution> {
    const inRange = applyApprovalScope(
      this.db.selectFrom('approvals').where('resolved_at', 'is not', null).where('resolved_at', '>=', range.fromMs).where('resolved_at', '<', range.toMs),
      filter,
    );
    // `system` resolves a tier that timed out; bot accounts decide at machine speed. The time to
    // decision is people's; bots are counted apart.
    const byUser = inRange.where('resolved_by', '<>', 'system');
    const people = byUser.where((eb) => eb.or([eb('resolved_by_kind', 'is', null), eb('resolved_by_kind', '<>', 'bot')]));
    const bots = byUser.where('resolved_by_kind', '=', 'bot');
    const count = (query: typeof inRange) => query.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
    const [counted, botCount, system] = await Promise.all([count(people), count(bots), count(inRange.where('resolved_by', '=', 'system'))]);
    const duration = sql<number>`${sql.ref('resolved_at')} - ${sql.ref('created_at')}`;
    const median = async (query: typeof inRange, n: number): Promise<number | null> => {
      if (n === 0) return null;
      const middle = await query
        .select(duration.as('duration'))
        .orderBy(duration)
        .limit(n % 2 === 0 ? 2 : 1)
        .offset(Math.floor((n - 1) / 2))
        .execute();
      return middle.reduce((sum, row) => sum + Number(row.duration), 0) / middle.length;
    };
    const resolved = Number(counted.count);
    const botsResolved = Number(botCount.count);
    const [medianMs, botMedianMs] = await Promise.all([median(people, resolved), median(bots, botsResolved)]);
    return { resolved, medianMs, bots: { resolved: botsResolved, medianMs: botMedianMs }, automatic: Number(system.count) };
  }

  async listPolicyVersions(): Promise<PolicyVersionRow[]> {
    return this.db.selectFrom('policy_versions').selectAll().orderBy('version').execute();
  }

  async getPolicyVersion(version: number): Promise<PolicyVersionRow | undefined> {
    return this.point.selectFrom('policy_versions').selectAll().where('version', '=', version).executeTakeFirst();
  }

  async listPolicyActivations(limit: number): Promise<PolicyActivationRow[]> {
    return this.db.selectFrom('policy_activations').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }
}

/**
 * JSON text as PostgreSQL's json, read by path. PostgreSQL cannot hold U+0000 in text, and its
 * JSON functions refuse any document with a `\u0000` escape anywhere (json as well as jsonb): a
 * record written before such text was refused at the door (invalid_text) would fail every read
 * passing over it, and the migration that counts decisions. The escape is read as U+FFFD instead;
 * the fields read this way (decider, error code, ids) never hold one.
 */
function pgJson(text: RawBuilder<unknown> | ReturnType<typeof sql.ref>): RawBuilder<unknown> {
  return sql`replace(${text}, ${sql.lit('\\u0000')}, ${sql.lit('\\ufffd')})::json`;
}

/** SQL conditions on decision records or counts for a filter (agent, tool, the agents of a role or environment). */
function decisionConditions(filter: DecisionFilter, table: 'audit' | 'decision_counts' = 'audit'): Expression<SqlBool>[] {
  const agent = sql.ref(`${table}.agent`);
  const conditions: Expression<SqlBool>[] = [];
  if (filter.agent !== undefined) conditions.push(sql<SqlBool>`${agent} = ${filter.agent}`);
  if (filter.tool !== undefined) conditions.push(sql<SqlBool>`${sql.ref(`${table}.tool`)} = ${filter.tool}`);
  if (filter.role !== undefined) conditions.push(sql<SqlBool>`${agent} in (select id from agents where role = ${filter.role})`);
  if (filter.environment !== undefined) conditions.push(sql<SqlBool>`${agent} in (select id from agents where environment = ${filter.environment})`);
  return conditions;
}

type CountGroup = 'bucket' | 'agent' | 'tool' | 'effect' | 'rule' | 'decided_by' | 'code' | 'environment';
/** Kept as '' in `decision_counts` (a key column), null in records and answers. */
const KEY_OR_NULL: ReadonlySet<CountGroup> = new Set(['rule', 'decided_by', 'code']);

interface CountQuery {
  range: TimeRange;
  groups: readonly CountGroup[];
  /** Width of the `bucket` group, from the start of the range. */
  bucketMs?: number;
  filter?: DecisionFilter & { effect?: string };
  /** The largest counts only (ties by the groups, in order), at most this many. */
  top?: number;
}

type CountedRow = { count: number; bucket?: number } & Partial<Record<Exclude<CountGroup, 'bucket'>, string | null>>;

/** Beyond this many stretches of records, a count reads every record of its range instead (one range). */
const MAX_RECORD_RANGES = 512;

export interface CountPlan {
  /** Whole minutes answered by `decision_counts` (less those a bucket boundary falls inside). */
  counted?: TimeRange;
  /** Where records are counted instead: disjoint, in order. */
  records: TimeRange[];
}

/**
 * How `countDecisions` reads a range: whole minutes from the counts; from the records, the
 * partial minutes at the ends, and each minute with a bucket boundary strictly inside it (a range
 * that does not start on a minute, or buckets that are not whole minutes). With whole-minute
 * buckets that is one minute a bucket; when boundaries split more minutes than MAX_RECORD_RANGES,
 * the whole range is read from records.
 */
export function countPlan(range: TimeRange, bucketMs?: number): CountPlan {
  const whole = { fromMs: Math.ceil(range.fromMs / COUNT_MINUTE_MS) * COUNT_MINUTE_MS, toMs: Math.floor(range.toMs / COUNT_MINUTE_MS) * COUNT_MINUTE_MS };
  if (whole.fromMs >= whole.toMs) return { records: [range] };
  const records: TimeRange[] = [];
  const add = (fromMs: number, toMs: number) => {
    const last = records[records.length - 1];
    if (last !== undefined && last.toMs >= fromMs) last.toMs = Math.max(last.toMs, toMs);
    else records.push({ fromMs, toMs });
  };
  if (range.fromMs < whole.fromMs) add(range.fromMs, whole.fromMs);
  if (bucketMs !== undefined && bucketMs > 0) {
    const first = Math.max(1, Math.ceil((whole.fromMs - range.fromMs) / bucketMs));
    for (let k = first; range.fromMs + k * bucketMs < whole.toMs; k++) {
      const boundary = range.fromMs + k * bucketMs;
      if (boundary % COUNT_MINUTE_MS === 0) continue;
      if (records.length >= MAX_RECORD_RANGES) return { records: [range] };
      const minute = Math.floor(boundary / COUNT_MINUTE_MS) * COUNT_MINUTE_MS;
      add(minute, minute + COUNT_MINUTE_MS);
    }
  }
  if (whole.toMs < range.toMs) add(whole.toMs, range.toMs);
  return { counted: whole, records };
}

/** Approvals carry the agent's identity: the same filter, on their own columns. */
function applyApprovalScope<O>(query: SelectQueryBuilder<Database, 'approvals', O>, filter: DecisionFilter): SelectQueryBuilder<Database, 'approvals', O> {
  let q = query;
  if (filter.agent !== undefined) q = q.where('agent', '=', filter.agent);
  if (filter.tool !== undefined) q = q.where('tool', '=', filter.tool);
  if (filter.role !== undefined) q = q.where('role', '=', filter.role);
  if (filter.environment !== undefined) q = q.where('environment', '=', filter.environment);
  return q;
}

function applyAuditFilter(
  query: SelectQueryBuilder<Database, 'audit', AuditRow>,
  filter: AuditFilter,
): SelectQueryBuilder<Database, 'audit', AuditRow> {
  let q = query;
  if (filter.agent !== undefined) q = q.where('agent', '=', filter.agent);
  if (filter.tool !== undefined) q = q.where('tool', '=', filter.tool);
  if (filter.effect !== undefined) q = q.where('effect', '=', filter.effect);
  if (filter.rule !== undefined) q = q.where('rule', '=', filter.rule);
  if (filter.type !== undefined) q = q.where('type', '=', filter.type);
  if (filter.fromMs !== undefined) q = q.where('at', '>=', filter.fromMs);
  if (filter.toMs !== undefined) q = q.where('at', '<', filter.toMs);
  return q;
}

const RANGE_SQL = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** A time window with more records than this is not turned into a seq range (see `searchPlan`). */
/**
 * Most payload characters one page of `auditAfter` reads (one record more when the first alone is
 * larger): a page is at most `limit` records and about this much text, whatever an agent's
 * arguments weigh.
 */
export const AUDIT_PAGE_CHARS = 8 * 1024 * 1024;

const WINDOW_CAP = 100_000;
/** The least cap on counted argument index entries (see `searchPlan`). */
const ARG_CAP_MIN = 1000;
/** Several dense argument fields: the newest SPLIT_BUDGET × cap records are walked first (see `searchPlan`). */
const SPLIT_BUDGET = 4;

/** One page of a search. */

/**
 * How a search page is read: the seq range it is confined to ([fromSeq, beforeSeq)), and which
 * argument path is read as a set (`seq IN`, `driver`), the others probed per record (`EXISTS`);
 * `everyFieldAsSet`: every path read as a set (auditAfter, oldest first, as before these plans).
 */
/** What is left of a search page's payload budget (AUDIT_PAGE_CHARS), and whether it cut the page. */
interface PageBudget {
  chars: number;
  kept: number;
  truncated: boolean;
}

interface SearchPlan {
  fromSeq: number | undefined;
  beforeSeq: number | undefined;
  driver: string | undefined;
  everyFieldAsSet?: boolean;
  /** Read [splitAt, beforeSeq) first, walked, then the rest only if needed (queryAudit). */
  splitAt?: number;
  /** The scan bound cut the range here (searchAudit): records below it are the next page's. */
  resumeBefore?: number | undefined;
  /** Nothing matches in the (cut) range: no rows to read, only `resumeBefore` to answer. */
  empty?: boolean;
}


/** The number a filter's text names when it is written as JSON writes that number (`900`, `0.5`); else undefined. */
function canonicalNumber(text: string): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) && String(value) === text ? value : undefined;
}

/** An audit_args row's value meets every one of these filters (on one path). */
function argValueCondition(filters: readonly ArgFilter[]): Expression<SqlBool> {
  const conditions = filters.map((filter) => {
    switch (filter.op) {
      case 'eq':
        return sql`text_value = ${filter.value}`;
      case 'prefix': {
        const upper = prefixSuccessor(filter.value);
        return upper === undefined
          ? sql`(text_value >= ${filter.value} and num_value is null)`
          : sql`(text_value >= ${filter.value} and text_value < ${upper} and num_value is null)`;
      }
      default:
        return sql`num_value ${sql.raw(RANGE_SQL[filter.op])} ${filter.value}`;
    }
  });
  return sql<SqlBool>`${sql.join(conditions, sql` and `)}`;
}

/**
 * The records whose call arguments hold, at `path`, a field meeting every filter, read as a set:
 * one range of the audit_args index on (path, text_value) or (path, num_value), for a sparse
 * filter. Values are bound parameters; `path` was validated (arg-index.ts) and is bound too. The
 * page's seq range is pushed inside, so a deep page reads only the index entries below it.
 */
function argLookup(path: string, filters: readonly ArgFilter[], plan: SearchPlan): Expression<SqlBool> {
  const conditions = [argValueCondition(filters)];
  if (plan.fromSeq !== undefined) conditions.push(sql<SqlBool>`seq >= ${plan.fromSeq}`);
  if (plan.beforeSeq !== undefined) conditions.push(sql<SqlBool>`seq < ${plan.beforeSeq}`);
  return sql<SqlBool>`audit.seq in (select seq from audit_args where path = ${path} and ${sql.join(conditions, sql` and `)})`;
}

/**
 * The same records, probed one by one (the (seq, path) index): for a dense filter, checked while
 * the trail is walked. The page's seq range is repeated inside: implied by `seq = audit.seq`, but
 * PostgreSQL may answer the EXISTS as a merge join over the whole index, which then starts at the
 * cursor instead of reading every entry above it.
 */
function argProbe(path: string, filters: readonly ArgFilter[], plan: SearchPlan): Expression<SqlBool> {
  const conditions = [argValueCondition(filters)];
  if (plan.fromSeq !== undefined) conditions.push(sql<SqlBool>`audit_args.seq >= ${plan.fromSeq}`);
  if (plan.beforeSeq !== undefined) conditions.push(sql<SqlBool>`audit_args.seq < ${plan.beforeSeq}`);
  return sql<SqlBool>`exists (select 1 from audit_args where audit_args.seq = audit.seq and audit_args.path = ${path} and ${sql.join(conditions, sql` and `)})`;
}

/** PostgreSQL answers bigint columns as strings. */
function outcomeRow(row: OutcomeRow): OutcomeRow {
  const num = (value: number | null): number | null => (value === null ? null : Number(value));
  return {
    ...row,
    decided_at: Number(row.decided_at),
    started_at: num(row.started_at),
    finished_at: num(row.finished_at),
    duration_ms: num(row.duration_ms),
    result_size: num(row.result_size),
    reported_at: Number(row.reported_at),
    duplicates: Number(row.duplicates),
  };
}

/** PostgreSQL answers bigint columns as strings. */
function pauseRow(row: PauseRow): PauseRow {
  return {
    ...row,
    created_at: Number(row.created_at),
    resumed_at: row.resumed_at === null ? null : Number(row.resumed_at),
    ends_at: row.ends_at === null || row.ends_at === undefined ? null : Number(row.ends_at),
  };
}

