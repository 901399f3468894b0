import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgFilter, type ArgFilter } from '../src/audit/arg-index.js';
import { prepareRecord, type AuditInput, type PreparedEntry } from '../src/audit/record.js';
import { needsScanBound, type AuditFilter, type Store } from '../src/store/store.js';
import { storeImplementations } from './support/stores.js';

/**
 * Search query plans (kysely-store.ts `searchPlan`): the time window read as a seq range or
 * walked, an argument field read as a set (`seq IN`) or probed per record (`EXISTS`), a range
 * split into a walked newest part and a rest read as a set ('split'). Every filter
 * shape, at sparse and dense matches, through each forced plan and the automatic choice, paged
 * with a cursor, must answer exactly what a brute-force filter of the same records answers.
 */

const BASE = 1_790_000_000_000;
const N = 2400;

interface Made {
  seq: number;
  at: number;
  type: string;
  agent: string;
  tool: string;
  effect: string;
  rule: string;
  args: Record<string, unknown>;
}

/**
 * Record i: three records per second (ties on `at`), and every 10th one stamped 5 s in the past
 * (a clock stepping back: `at` is not monotonic in seq). Refunds carry account / amount / a
 * nested payee; every 50th record is not a decision.
 */
function make(i: number): Omit<Made, 'seq'> {
  const at = BASE + Math.floor(i / 3) * 1000 - (i % 10 === 0 ? 5000 : 0);
  const agent = `bot-${i % 4}`;
  if (i % 50 === 0) return { at, type: 'pause.created', agent, tool: '', effect: '', rule: '', args: {} };
  const refund = i % 5 !== 0;
  const args: Record<string, unknown> = refund
    ? { account: `acct_${i % 37}`, amount: (i * 7919) % 1000, currency: 'USD', payee: { country: i % 3 === 0 ? 'FR' : 'DE' }, urgent: i % 11 === 0 }
    : { account: `acct_${i % 37}`, reason: `r${i % 9}` };
  return { at, type: 'decision', agent, tool: refund ? 'issue_refund' : 'get_account', effect: i % 7 === 0 ? 'block' : 'allow', rule: `rule-${i % 6}`, args };
}

function entry(made: Omit<Made, 'seq'>, i: number): PreparedEntry {
  const input: AuditInput =
    made.type === 'decision'
      ? {
          type: 'decision',
          at: made.at,
          actor: `agent:${made.agent}`,
          agent: made.agent,
          tool: made.tool,
          effect: made.effect,
          rule: made.rule,
          data: { id: `d-${i}`, request: { tool: made.tool, args: made.args, session: null }, decision: { effect: made.effect } },
        }
      : { type: 'pause.created', at: made.at, actor: 'user:admin', agent: made.agent, data: { id: `p-${i}` } };
  return { record: prepareRecord(input), writes: [] };
}

function arg(text: string): ArgFilter {
  const parsed = parseArgFilter(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

function field(args: Record<string, unknown>, path: string): unknown {
  let value: unknown = args;
  for (const key of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** The filter, by brute force over the records as made. */
function matches(record: Made, filter: AuditFilter): boolean {
  if (filter.agent !== undefined && record.agent !== filter.agent) return false;
  if (filter.tool !== undefined && record.tool !== filter.tool) return false;
  if (filter.effect !== undefined && record.effect !== filter.effect) return false;
  if (filter.rule !== undefined && record.rule !== filter.rule) return false;
  if (filter.type !== undefined && record.type !== filter.type) return false;
  if (filter.fromMs !== undefined && record.at < filter.fromMs) return false;
  if (filter.toMs !== undefined && record.at >= filter.toMs) return false;
  for (const f of filter.args ?? []) {
    if (record.type !== 'decision') return false;
    const value = field(record.args, f.path);
    if (typeof value === 'object' || value === undefined) return false;
    const text = String(value);
    if (f.op === 'eq' && text !== f.value) return false;
    if (f.op === 'prefix' && (typeof value === 'number' || !text.startsWith(f.value))) return false;
    if (f.op !== 'eq' && f.op !== 'prefix') {
      if (typeof value !== 'number') return false;
      if (f.op === 'gt' && !(value > f.value)) return false;
      if (f.op === 'gte' && !(value >= f.value)) return false;
      if (f.op === 'lt' && !(value < f.value)) return false;
      if (f.op === 'lte' && !(value <= f.value)) return false;
    }
  }
  return true;
}

const hour = (from: number, seconds: number): Pick<AuditFilter, 'fromMs' | 'toMs'> => ({ fromMs: BASE + from * 1000, toMs: BASE + (from + seconds) * 1000 });

/** Filter shapes at sparse and dense matches (names say roughly how many of the 2,400 records match). */
const SHAPES: { name: string; filter: AuditFilter }[] = [
  { name: 'no filter', filter: {} },
  { name: 'equality, sparse (~2%)', filter: { args: [arg('account=acct_5')] } },
  { name: 'equality, dense (~78%)', filter: { args: [arg('currency=USD')] } },
  { name: 'equality on a number and a boolean', filter: { args: [arg('amount=500')] } },
  { name: 'boolean, ~7%', filter: { args: [arg('urgent=true')] } },
  { name: 'nested field, dense (~52%)', filter: { args: [arg('payee.country=DE')] } },
  { name: 'narrow range', filter: { args: [arg('amount>=100'), arg('amount<103')] } },
  { name: 'wide range (~75%)', filter: { args: [arg('amount>=250')] } },
  { name: 'every number (>= 0)', filter: { args: [arg('amount>=0')] } },
  { name: 'range bounds excluded', filter: { args: [arg('amount>10'), arg('amount<=900')] } },
  { name: 'prefix, ~30%', filter: { args: [arg('account^=acct_1')] } },
  { name: 'prefix, all', filter: { args: [arg('account^=acct_')] } },
  { name: 'two dense fields, sparse together', filter: { args: [arg('amount>=990'), arg('payee.country=FR')] } },
  { name: 'dense and sparse field', filter: { args: [arg('currency=USD'), arg('account=acct_7')] } },
  { name: 'argument + effect + tool', filter: { args: [arg('account^=acct_2')], effect: 'block', tool: 'issue_refund' } },
  { name: 'argument + agent + rule', filter: { args: [arg('amount<500')], agent: 'bot-1', rule: 'rule-3' } },
  { name: 'effect + tool + time', filter: { effect: 'block', tool: 'issue_refund', ...hour(100, 300) } },
  { name: 'time only', filter: hour(300, 60) },
  { name: 'time window on a tie and a step back', filter: { fromMs: BASE + 200_000, toMs: BASE + 201_000 } },
  { name: 'time from only', filter: { fromMs: BASE + 700_000 } },
  { name: 'time to only', filter: { toMs: BASE + 30_000 } },
  { name: 'dense argument + time', filter: { args: [arg('amount>=250')], ...hour(400, 200) } },
  { name: 'sparse argument + time', filter: { args: [arg('account=acct_9')], fromMs: BASE + 100_000 } },
  { name: 'type + time', filter: { type: 'pause.created', ...hour(0, 500) } },
  { name: 'arguments of a non-decision type', filter: { type: 'pause.created', args: [arg('currency=USD')] } },
  { name: 'no match: value', filter: { args: [arg('account=acct_99')] } },
  { name: 'no match: empty window', filter: { fromMs: BASE - 100_000, toMs: BASE - 50_000 } },
  { name: 'no match: window without the argument', filter: { args: [arg('account=acct_5')], ...hour(10, 1) } },
];

const implementations = storeImplementations('search-plans');

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const PLANS = ['auto', 'lookup', 'walk', 'split'] as const;

describe.each(implementations)('search plans answer what a brute-force filter answers: $name', (impl) => {
  let store: Store;
  const records: Made[] = [];

  beforeAll(async () => {
    const opened = await impl.open();
    store = opened.store;
    cleanups.push(async () => {
      await store.close().catch(() => undefined);
      await opened.cleanup();
    });
    for (let start = 1; start <= N; start += 400) {
      const made = Array.from({ length: 400 }, (_, k) => make(start + k));
      const sealed = await store.commit(made.map((m, k) => entry(m, start + k)));
      sealed.forEach((s, k) => records.push({ ...(made[k] as Omit<Made, 'seq'>), seq: s.seq }));
    }
    expect(records).toHaveLength(N);
  }, 120_000);

  const brute = (filter: AuditFilter): number[] =>
    records
      .filter((r) => matches(r, filter))
      .map((r) => r.seq)
      .sort((a, b) => b - a);

  async function paged(filter: AuditFilter, plan: (typeof PLANS)[number], limit: number): Promise<number[]> {
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await store.queryAudit(filter, { ...(before === undefined ? {} : { beforeSeq: before }), limit, plan });
      seen.push(...page.map((row) => Number(row.seq)));
      if (page.length < limit) return seen;
      before = Number(page[page.length - 1]?.seq);
    }
  }

  it('the shapes cover sparse, dense and empty answers', () => {
    const sizes = SHAPES.map((shape) => brute(shape.filter).length);
    expect(sizes.filter((n) => n === 0).length).toBeGreaterThanOrEqual(3);
    expect(sizes.some((n) => n > 0 && n < 60)).toBe(true);
    // Above the argument cap (1,000 counted entries at this size): the automatic plan walks.
    expect(sizes.some((n) => n > 1000)).toBe(true);
  });

  it.each(SHAPES)('$name: every plan, first page and every page after a cursor', async ({ filter }) => {
    const want = brute(filter);
    for (const plan of PLANS) {
      expect((await store.queryAudit(filter, { limit: 100, plan })).map((row) => Number(row.seq)), plan).toEqual(want.slice(0, 100));
      // Pages of 97 (not a divisor of anything here) across the whole answer: no gap, no duplicate.
      expect(await paged(filter, plan, 97), plan).toEqual(want);
      // A deep page from a cursor in the middle of the trail.
      const middle = Math.floor(N / 2);
      expect((await store.queryAudit(filter, { beforeSeq: middle, limit: 50, plan })).map((row) => Number(row.seq)), plan).toEqual(want.filter((s) => s < middle).slice(0, 50));
    }
  }, 60_000);

  it('small pages through a window whose records tie on `at` and step back in time', async () => {
    const filter: AuditFilter = { args: [arg('account^=acct_')], fromMs: BASE + 150_000, toMs: BASE + 160_000 };
    const want = brute(filter);
    expect(want.length).toBeGreaterThan(10);
    // The stepped-back records (every 10th) sit outside the seq run of their neighbours.
    expect(records.filter((r) => matches(r, filter)).some((r) => r.seq % 10 === 0)).toBe(true);
    for (const plan of PLANS) expect(await paged(filter, plan, 3), plan).toEqual(want);
  });

  it('100 concurrent searches of mixed shapes and plans answer as each does alone', async () => {
    const jobs = Array.from({ length: 100 }, (_, i) => ({ shape: SHAPES[i % SHAPES.length] as (typeof SHAPES)[number], plan: PLANS[i % PLANS.length] as (typeof PLANS)[number], before: i % 4 === 0 ? 1500 : undefined }));
    const answers = await Promise.all(jobs.map((job) => store.queryAudit(job.shape.filter, { ...(job.before === undefined ? {} : { beforeSeq: job.before }), limit: 100, plan: job.plan })));
    answers.forEach((rows, i) => {
      const job = jobs[i];
      if (!job) throw new Error('no job');
      expect(
        rows.map((row) => Number(row.seq)),
        `${job.shape.name} / ${job.plan}`,
      ).toEqual(
        brute(job.shape.filter)
          .filter((s) => job.before === undefined || s < job.before)
          .slice(0, 100),
      );
    });
  });
  /**
   * The audit API's scan bound (searchAudit): a filter no single index serves reads at most
   * `scanLimit` records a page. Following the cursors (a full page's last record, or where a
   * short page's search stopped) must still answer exactly the brute-force list, no gap, no
   * duplicate, and each page's records must lie within `scanLimit` seqs of each other.
   */
  it.each(SHAPES)('$name: bounded pages (scan limit 300) answer the same records', async ({ filter }) => {
    const want = brute(filter);
    const seen: number[] = [];
    let before: number | undefined;
    let cut = 0;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(200);
      const { rows, resumeBefore } = await store.searchAudit(filter, { ...(before === undefined ? {} : { beforeSeq: before }), limit: 40, scanLimit: 300 });
      const seqs = rows.map((row) => Number(row.seq));
      seen.push(...seqs);
      if (needsScanBound(filter) && seqs.length > 0) expect(Math.max(...seqs) - Math.min(...seqs)).toBeLessThan(300);
      if (!needsScanBound(filter)) expect(resumeBefore).toBeUndefined();
      if (resumeBefore !== undefined) {
        cut++;
        expect(seqs.length).toBeLessThan(40);
        expect(seqs.every((seq) => seq >= resumeBefore)).toBe(true);
        if (before !== undefined) expect(resumeBefore).toBeLessThan(before);
        before = resumeBefore;
      } else if (seqs.length === 40) {
        before = seqs[39];
      } else {
        break;
      }
    }
    expect(seen).toEqual(want);
    // A bounded filter over 2,400 records with a limit of 300 is cut unless its matches are dense,
    // its time window is narrower than 300 records, or it cannot match at all (arguments of a
    // record type that has none: answered empty without a read).
    const provablyEmpty = filter.args !== undefined && filter.type !== undefined && filter.type !== 'decision';
    if (needsScanBound(filter) && filter.fromMs === undefined && filter.toMs === undefined && want.length < 40 && !provablyEmpty) expect(cut).toBeGreaterThan(0);
  }, 60_000);
});
