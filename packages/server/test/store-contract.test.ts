import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareRecord, type AuditInput, type PreparedEntry } from '../src/audit/record.js';
import { auditRows, verifyChain } from '../src/audit/verify.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store, StoreWrite } from '../src/store/store.js';
import { dropSchema, inSchema, POSTGRES_URL, uniqueName } from './support/shared-services.js';
import { tempDir } from './support/temp-dir.js';

/**
 * One contract, every Store implementation: the same behaviour is required of SQLite (one file,
 * writer thread) and PostgreSQL (several instances, advisory-locked chain appends).
 */
interface Implementation {
  name: string;
  /** A fresh, empty store, and a second store on the same database (another instance). */
  open(): Promise<{ store: Store; second: () => Promise<Store>; cleanup: () => Promise<void> }>;
}

const implementations: Implementation[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = tempDir('airlock-store-');
      const file = join(dir.path, 'airlock.db');
      return { store: await openSqliteStore(file), second: () => openSqliteStore(file), cleanup: async () => dir.remove() };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const schema = uniqueName('store');
      return {
        store: await openPostgresStore(POSTGRES_URL, { schema }),
        second: () => openPostgresStore(POSTGRES_URL, { schema }),
        cleanup: () => dropSchema(schema),
      };
    },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function entry(n: number, writes: StoreWrite[] = [], extra: Partial<AuditInput> = {}): PreparedEntry {
  const input: AuditInput = {
    type: 'decision',
    at: 1_790_000_000_000 + n,
    actor: `agent:bot-${n % 3}`,
    agent: `bot-${n % 3}`,
    tool: n % 2 === 0 ? 'issue_refund' : 'get_account',
    effect: n % 5 === 0 ? 'block' : 'allow',
    rule: `rule-${n % 4}`,
    data: { n, args: { amount: n * 1.5, note: `record ${n}` } },
    ...extra,
  };
  return { record: prepareRecord(input), writes };
}

async function verify(store: Store) {
  return verifyChain(auditRows((after, limit) => store.auditAfter(after, limit)));
}

describe.each(implementations)('Store contract: $name', (impl) => {
  async function fresh() {
    const opened = await impl.open();
    cleanups.push(async () => {
      await opened.store.close().catch(() => undefined);
      await opened.cleanup();
    });
    return opened;
  }

  it('seals batches onto one gapless chain and reads them back in order', async () => {
    const { store } = await fresh();
    const first = await store.commit([entry(1), entry(2), entry(3)]);
    const second = await store.commit([entry(4)]);
    expect([...first, ...second].map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    const rows = await store.auditAfter(0, 100);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(rows[3]?.prev_hash).toBe(rows[2]?.hash);
    expect(typeof rows[0]?.at).toBe('number');
    expect(await verify(store)).toEqual({ ok: true, records: 4, head: second[0]?.hash });
  });

  it('reads pages of large records in bounded sizes, and every record still comes through, alone and 100 reads at once', async () => {
    const { store } = await fresh();
    // 40 decisions of ~900 KB arguments each (what an agent's 1 MiB body can carry), 4 small ones around them.
    const blob = 'x'.repeat(900_000);
    await store.commit([entry(1), entry(2)]);
    for (let start = 3; start < 43; start += 10) await store.commit(Array.from({ length: 10 }, (_, k) => entry(start + k, [], { data: { n: start + k, args: { blob } } })));
    await store.commit([entry(43), entry(44)]);
    const charsOf = (rows: { payload: string }[]): number => rows.reduce((sum, row) => sum + row.payload.length, 0);
    const first = await store.auditAfter(0, 500);
    // 8 MiB of payload a page, and the record that crosses it: 2 small ones and ~9 large.
    expect(first.length).toBeGreaterThan(3);
    expect(first.length).toBeLessThan(15);
    expect(charsOf(first)).toBeLessThan(8 * 1024 * 1024 + 1_000_000);
    expect(first.map((row) => row.seq)).toEqual(Array.from({ length: first.length }, (_, i) => i + 1));
    // Followed page by page to the empty one: all 44, in order, and the chain verifies.
    const seqs: number[] = [];
    for await (const row of auditRows((after, limit) => store.auditAfter(after, limit), 500)) seqs.push(row.seq);
    expect(seqs).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
    expect((await verify(store)).ok).toBe(true);
    // A small page is not cut: 2 small records after the large ones.
    expect((await store.auditAfter(42, 500)).map((row) => row.seq)).toEqual([43, 44]);
    // A search (newest first) is cut the same way, and its cursors still lead through every record.
    const found: number[] = [];
    let before: number | undefined;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(20);
      const page = await store.searchAudit({}, { ...(before === undefined ? {} : { beforeSeq: before }), limit: 500, scanLimit: 50_000 });
      expect(charsOf(page.rows)).toBeLessThan(8 * 1024 * 1024 + 1_000_000);
      found.push(...page.rows.map((row) => Number(row.seq)));
      if (!page.truncated) break;
      expect(page.rows.length).toBeLessThan(500);
      before = Number(page.rows.at(-1)?.seq);
    }
    expect(found).toEqual(Array.from({ length: 44 }, (_, i) => 44 - i));
    const pages = await Promise.all(Array.from({ length: 100 }, (_, i) => store.auditAfter(i % 40, 500)));
    pages.forEach((page, i) => {
      expect(page[0]?.seq).toBe((i % 40) + 1);
      expect(charsOf(page)).toBeLessThan(8 * 1024 * 1024 + 1_000_000);
    });
  }, 120_000);

  it('filters and pages the audit (newest first, cursor by seq)', async () => {
    const { store } = await fresh();
    await store.commit(Array.from({ length: 30 }, (_, i) => entry(i + 1)));
    const page1 = await store.queryAudit({ agent: 'bot-1' }, { limit: 4 });
    expect(page1.map((r) => r.seq)).toEqual([28, 25, 22, 19]);
    const page2 = await store.queryAudit({ agent: 'bot-1' }, { beforeSeq: 19, limit: 4 });
    expect(page2.map((r) => r.seq)).toEqual([16, 13, 10, 7]);
    const blocks = await store.queryAudit({ effect: 'block', tool: 'get_account' }, { limit: 100 });
    expect(blocks.map((r) => r.seq)).toEqual([25, 15, 5]);
    const window = await store.auditAfter(0, 100, { fromMs: 1_790_000_000_010, toMs: 1_790_000_000_013 });
    expect(window.map((r) => r.seq)).toEqual([10, 11, 12]);
  });

  it('commits the state changes of a batch with its records, and nothing of a failed batch', async () => {
    const { store } = await fresh();
    const agentRow = { id: 'bot-1', role: 'support', environment: 'production', created_at: 1, created_by: 'system' };
    const keyRow = { id: 'key_1', agent_id: 'bot-1', secret_hash: 'h', created_at: 2, created_by: 'system', revoked_at: null };
    await store.commit([entry(1, [{ kind: 'agent.insert', row: agentRow }, { kind: 'key.insert', row: keyRow }])]);
    expect(await store.getAgent('bot-1')).toEqual(agentRow);
    expect(await store.getApiKey('key_1')).toEqual(keyRow);

    // The same agent again violates the primary key: the whole batch, records included, is refused.
    await expect(store.commit([entry(2), entry(3, [{ kind: 'agent.insert', row: agentRow }])])).rejects.toThrow();
    expect((await store.auditAfter(0, 100)).map((r) => r.seq)).toEqual([1]);
    await store.commit([entry(4, [{ kind: 'key.revoke', id: 'key_1', at: 99 }])]);
    expect((await store.getApiKey('key_1'))?.revoked_at).toBe(99);
    expect(await verify(store)).toMatchObject({ ok: true, records: 2 });
  });

  it('stores approvals, idempotency keys and policy versions with their numbers intact', async () => {
    const { store } = await fresh();
    const approval = {
      id: 'apr_1', decision_id: 'dec_1', agent: 'bot-1', role: 'support', environment: 'production', tool: 'issue_refund',
      args: '{"amount":75}', session: null, call_hash: 'c', rule: 'refund-medium', reason: 'r', approvers: '["leads"]',
      policy_version: 3, status: 'pending', created_at: 1_790_000_000_000, expires_at: 1_790_000_900_000,
      resolved_by: null, resolved_by_kind: null, resolved_at: null, resolution_reason: null, redeemed_at: null,
      route: '{"tiers":[{"approvers":["leads"],"required":1}]}', tier: 0, votes: '[]', deadline_at: 1_790_000_600_000,
      edited_args: null, edited_call_hash: null, used_tokens: '[]', session_attributes: null, intent: null,
    };
    await store.commit([entry(1, [{ kind: 'approval.insert', row: approval }])]);
    expect(await store.countPendingApprovals(1_790_000_000_001)).toBe(1);
    expect(await store.approvalsDueBy(1_790_000_900_000, 10)).toHaveLength(1);
    await store.commit([entry(2, [{ kind: 'approval.update', id: 'apr_1', patch: { status: 'approved', resolved_by: 'lead', resolved_at: 5 } }])]);
    expect(await store.getApproval('apr_1')).toMatchObject({ status: 'approved', resolved_by: 'lead', resolved_at: 5, expires_at: 1_790_000_900_000, deadline_at: 1_790_000_600_000, tier: 0 });
    expect(await store.listApprovals({ status: 'approved' }, { limit: 10 })).toHaveLength(1);

    await store.commit([entry(3, [{ kind: 'idempotency.insert', row: { agent: 'bot-1', key: 'k1', request_hash: 'h', decision_id: 'dec_1', response: '{}', created_at: 10 } }])]);
    expect(await store.getIdempotency('bot-1', 'k1')).toMatchObject({ decision_id: 'dec_1', created_at: 10 });
    await store.commit([entry(4, [{ kind: 'idempotency.insert', row: { agent: 'bot-2', key: 'k2', request_hash: 'h', decision_id: 'dec_2', response: '{}', created_at: 10 } }])]);
    // A key already stored (another instance answered the same retry) keeps its first row and
    // does not fail the batch it came in: the other records of that batch land.
    await store.commit([
      entry(5, [{ kind: 'idempotency.insert', row: { agent: 'bot-1', key: 'k1', request_hash: 'h', decision_id: 'dec_late', response: '{}', created_at: 10 } }]),
    ]);
    expect(await store.getIdempotency('bot-1', 'k1')).toMatchObject({ decision_id: 'dec_1' });
    // Several keys in one query, one agent's only.
    expect((await store.getIdempotencies('bot-1', ['k1', 'k2', 'k3'])).map((row) => row.decision_id)).toEqual(['dec_1']);
    expect(await store.getIdempotencies('bot-2', [])).toEqual([]);
    // One decision, one run: a stored allow is claimed once (a second claim changes nothing), and
    // a key whose decision ran can name a new decision, unclaimed, only in place of the one it had.
    expect(await store.getIdempotency('bot-1', 'k1')).toMatchObject({ claimed_at: null, claim_token: null });
    const claim = (token: string, at: number): StoreWrite => ({ kind: 'idempotency.claim', agent: 'bot-1', key: 'k1', decisionId: 'dec_1', token, at });
    await store.commit([entry(5, [claim('clm_a', 20)])]);
    await store.commit([entry(5, [claim('clm_b', 30)])]);
    expect(await store.getIdempotency('bot-1', 'k1')).toMatchObject({ decision_id: 'dec_1', claimed_at: 20, claim_token: 'clm_a' });
    const replace = (replaces: string, id: string): StoreWrite => ({
      kind: 'idempotency.replace',
      replaces,
      row: { agent: 'bot-1', key: 'k1', request_hash: 'h', decision_id: id, response: '{"id":"x"}', created_at: 40 },
    });
    await store.commit([entry(5, [replace('dec_other', 'dec_lost')])]);
    await store.commit([entry(5, [replace('dec_1', 'dec_3')])]);
    expect(await store.getIdempotency('bot-1', 'k1')).toMatchObject({ decision_id: 'dec_3', response: '{"id":"x"}', created_at: 40, claimed_at: null, claim_token: null });
    await store.commit([entry(5, [{ kind: 'idempotency.claim', agent: 'bot-1', key: 'k1', decisionId: 'dec_1', token: 'clm_c', at: 50 }])]);
    expect(await store.getIdempotency('bot-1', 'k1')).toMatchObject({ decision_id: 'dec_3', claimed_at: null });
    await store.deleteIdempotencyBefore(41);

    // Pauses, a timed one among them: epoch numbers come back as numbers on both stores.
    const pause = { id: 'pau_1', scope: 'agent', target: 'bot-1', kind: 'manual', reason: 'r', created_by: 'admin', created_at: 1_790_000_000_000, resumed_by: null, resumed_at: null, ends_at: 1_790_000_060_000 };
    await store.commit([entry(6, [{ kind: 'pause.insert', row: pause }])]);
    expect(await store.listPauses({ active: true }, 10)).toEqual([pause]);
    await store.commit([entry(7, [{ kind: 'pause.resume', id: 'pau_1', by: 'system', at: 1_790_000_060_000 }])]);
    expect(await store.getPause('pau_1')).toEqual({ ...pause, resumed_by: 'system', resumed_at: 1_790_000_060_000 });
    expect(await store.listPauses({ active: true }, 10)).toEqual([]);
    expect(await store.getIdempotency('bot-1', 'k1')).toBeUndefined();

    const version = { version: 1, bundle: 'b', sources: '[]', digest: 'd', created_by: 'system', created_at: 7, note: null };
    await store.commit([
      entry(4, [{ kind: 'policy.insert', row: version }]),
      entry(5, [{ kind: 'policy.activate', row: { id: 1, version: 1, activated_at: 8, activated_by: 'system' } }]),
    ]);
    expect(await store.getPolicyVersion(1)).toEqual(version);
    expect(await store.listPolicyActivations(5)).toEqual([{ id: 1, version: 1, activated_at: 8, activated_by: 'system' }]);
  });

  it("stores people's API tokens as hashes, revokes them once, and records their use", async () => {
    const { store, second } = await fresh();
    const user = { id: 'usr_1', username: 'lead', password_hash: 'p', role: 'approver', groups: '["support-leads"]', created_at: 1, created_by: 'system', disabled_at: null, kind: 'person' };
    const token = {
      id: '0123456789abcdef', user_id: 'usr_1', name: 'laptop', role: 'viewer', secret_hash: 'h'.repeat(64),
      created_at: 1_790_000_000_000, expires_at: 1_790_086_400_000, revoked_at: null, revoked_by: null, last_used_at: null,
    };
    const forever = { ...token, id: 'fedcba9876543210', role: null, expires_at: null, created_at: 1_790_000_000_001 };
    await store.commit([entry(1, [{ kind: 'user.insert', row: user }, { kind: 'token.insert', row: token }, { kind: 'token.insert', row: forever }])]);
    expect(await store.getUserToken('0123456789abcdef')).toEqual({ token, user });
    expect(await store.getUserToken('missing')).toBeUndefined();
    expect(await store.listUserTokens({ userId: 'usr_1' })).toEqual([
      { ...token, username: 'lead' },
      { ...forever, username: 'lead' },
    ]);
    expect(await store.listUserTokens({ userId: 'usr_2' })).toEqual([]);

    await store.touchUserToken(token.id, 1_790_000_000_500);
    await store.commit([entry(2, [{ kind: 'token.revoke', id: token.id, at: 1_790_000_001_000, by: 'lead' }])]);
    // A second revocation (raced, or from another instance) keeps the first.
    const other = await second();
    try {
      await other.commit([entry(3, [{ kind: 'token.revoke', id: token.id, at: 1_790_000_002_000, by: 'admin' }])]);
    } finally {
      await other.close();
    }
    expect((await store.getUserToken(token.id))?.token).toEqual({ ...token, revoked_at: 1_790_000_001_000, revoked_by: 'lead', last_used_at: 1_790_000_000_500 });
    expect((await store.listUserTokens({})).map((row) => row.id)).toEqual([token.id, forever.id]);
    expect(await verify(store)).toMatchObject({ ok: true, records: 3 });
  });

  it('keeps one valid chain when two instances append concurrently', async () => {
    const { store, second } = await fresh();
    const other = await second();
    try {
      const batches = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).commit([entry(i * 3 + 1), entry(i * 3 + 2), entry(i * 3 + 3)]));
      const sealed = (await Promise.all(batches)).flat();
      expect(sealed.map((s) => s.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(await verify(store)).toMatchObject({ ok: true, records: 120 });
    } finally {
      await other.close();
    }
  });
  it('drops an entry whose claim changes no row, across two instances: 100 concurrent claims of one outcome append one record', async () => {
    const { store, second } = await fresh();
    const other = await second();
    try {
      const outcome = (n: number, decisionId: string): PreparedEntry => ({
        ...entry(n, [], { type: 'call.executed', data: { decision: decisionId, n } }),
        claim: {
          kind: 'outcome.insert',
          row: {
            decision_id: decisionId,
            agent: 'bot-1',
            tool: 'issue_refund',
            approval_id: null,
            decision_effect: 'allow',
            decided_at: 1_790_000_000_000,
            status: 'succeeded',
            started_at: null,
            finished_at: 1_790_000_000_100,
            duration_ms: 5,
            error_class: null,
            error_message: null,
            result_digest: null,
            result_size: null,
            reported_at: 1_790_000_000_150,
            duplicates: 0,
          },
        },
      });
      // In one batch: the second claim of dec-1 is dropped, the entries around it are sealed in order.
      const batch = await store.commit([entry(1), outcome(2, 'dec-1'), outcome(3, 'dec-1'), entry(4)]);
      expect(batch.map((s) => (s.dropped ? 'dropped' : s.seq))).toEqual([1, 2, 'dropped', 3]);
      const raced = (await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? store : other).commit([outcome(10 + i, 'dec-2')])))).flat();
      expect(raced.filter((s) => !s.dropped)).toHaveLength(1);
      const records = await store.auditAfter(0, 1000);
      expect(records.filter((r) => r.type === 'call.executed')).toHaveLength(2);
      expect(await verify(store)).toMatchObject({ ok: true, records: 4 });
      // The outcome rows count per bucket of their report time.
      const counts = await store.outcomeCounts({ fromMs: 1_790_000_000_000, toMs: 1_790_000_001_000 }, 100);
      expect(counts).toEqual([{ bucket: 1, agent: 'bot-1', tool: 'issue_refund', status: 'succeeded', count: 2 }]);
    } finally {
      await other.close();
    }
  });

  it('hands a waiting single sign-on to one taker among 100 concurrent ones on two instances, and finds people by (issuer, subject)', async () => {
    const { store, second } = await fresh();
    const other = await second();
    cleanups.push(() => other.close());
    const login = { state_hash: 's'.repeat(64), binding_hash: 'b'.repeat(64), code_verifier: 'v', nonce: 'n', redirect_uri: 'https://a.example/cb', created_at: 1000, expires_at: 2000, taken_by: null };
    await store.putOidcLogin(login);
    await store.putOidcLogin({ ...login, state_hash: 'e'.repeat(64), expires_at: 1500 });
    const takes = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? store : other).takeOidcLogin(login.state_hash, 1200)));
    const taken = takes.filter((row) => row !== undefined);
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatchObject({ code_verifier: 'v', nonce: 'n', expires_at: 2000 });
    expect(await store.takeOidcLogin(login.state_hash, 1200)).toBeUndefined();
    // Expired: never handed out, then purged.
    expect(await store.takeOidcLogin('e'.repeat(64), 1500)).toBeUndefined();
    await store.deleteOidcLoginsExpiredBy(2000);
    expect(await store.takeOidcLogin(login.state_hash, 0)).toBeUndefined();

    const user = { id: 'usr_1', username: 'alice', password_hash: 'sso', role: 'approver', groups: '["leads"]', created_at: 1, created_by: 'sso:https://idp', disabled_at: null, kind: 'person' };
    await store.commit([entry(1, [{ kind: 'user.insert', row: user }, { kind: 'identity.insert', row: { issuer: 'https://idp', subject: 'a-1', user_id: 'usr_1', created_at: 1 } }])]);
    expect(await other.getUserByIdentity('https://idp', 'a-1')).toMatchObject({ id: 'usr_1', username: 'alice' });
    expect(await store.getUserByIdentity('https://other-idp', 'a-1')).toBeUndefined();
    // One (issuer, subject) is one person: a second row for it is refused with its batch.
    const twin = { ...user, id: 'usr_2', username: 'alice2' };
    await expect(store.commit([entry(2, [{ kind: 'user.insert', row: twin }, { kind: 'identity.insert', row: { issuer: 'https://idp', subject: 'a-1', user_id: 'usr_2', created_at: 2 } }])])).rejects.toThrow();
    expect(await store.getUserByName('alice2')).toBeUndefined();
  });
});

describe('PostgreSQL audit verification', () => {
  it('names the record whose payload was edited in the database', async () => {
    const schema = uniqueName('store');
    const store = await openPostgresStore(POSTGRES_URL, { schema });
    cleanups.push(async () => {
      await store.close().catch(() => undefined);
      await dropSchema(schema);
    });
    await store.commit(Array.from({ length: 5 }, (_, i) => entry(i + 1)));
    await inSchema(schema, (client) => client.query(`UPDATE audit SET payload = replace(payload, '"allow"', '"block"') WHERE seq = 3`));
    expect(await verify(store)).toMatchObject({ ok: false, seq: 3 });
  });
});
