import { compile, loadBundle, type DecisionRequest, type Effect } from '../../packages/core/src/index.js';
import { prepareRecord } from '../../packages/server/src/audit/record.js';
import { decisionRecord } from '../../packages/server/src/services/decisions.js';
import { openSqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { mulberry32 as prng } from '../engine/prng.js';

/** One generated decision, as it was recorded. */
export interface HistoryCall {
  id: string;
  request: DecisionRequest & { at: number };
  effect: Effect;
  rule: string | null;
}

/**
 * Writes a recorded history into a fresh server database, decided by the seed policies with real
 * limit state, the way the server records decisions: `count` calls, one every `stepMs`, ending
 * now. Support refunds (log-uniform $5–$900 over 300 accounts), account reads, finance payments.
 */
export async function writeHistory(file: string, count: number, options: { seed?: number; stepMs?: number; policies?: string } = {}): Promise<HistoryCall[]> {
  const random = prng(options.seed ?? 7);
  const stepMs = options.stepMs ?? 5_000;
  const engine = compile(loadBundle(options.policies ?? 'examples/policies'));
  const store = await openSqliteStore(file);
  const calls: HistoryCall[] = [];
  const start = Date.now() - count * stepMs;
  try {
    let batch: Parameters<typeof store.commit>[0][number][] = [];
    for (let i = 0; i < count; i++) {
      const at = start + i * stepMs;
      const pick = random();
      const agent = `gen-${Math.floor(random() * 4)}`;
      let request: DecisionRequest & { at: number };
      if (pick < 0.55) {
        const amount = Math.round(5 * Math.exp(random() * Math.log(180)) * 100) / 100;
        request = { agent, role: 'support', environment: 'production', tool: 'issue_refund', args: { account_id: `A-${Math.floor(random() * 300)}`, amount, currency: 'USD' }, at };
      } else if (pick < 0.8) {
        request = { agent, role: 'support', environment: 'production', tool: 'get_account', args: { account_id: `A-${Math.floor(random() * 300)}` }, at };
      } else {
        const amount = Math.round(10 * Math.exp(random() * Math.log(4000)) * 100) / 100;
        request = { agent: `fin-${agent}`, role: 'finance', environment: 'production', tool: 'make_payment', args: { amount, currency: 'USD', payee: `P-${Math.floor(random() * 50)}` }, at };
      }
      const decision = engine.decideSync(request);
      const id = `dec_gen_${i}`;
      calls.push({ id, request, effect: decision.effect, rule: decision.rule });
      batch.push({
        record: prepareRecord(
          decisionRecord({
            id,
            at,
            identity: { agent: request.agent, role: request.role, environment: request.environment ?? 'production', keyId: 'key_gen' },
            call: { tool: request.tool, args: request.args ?? {} },
            decision,
          }),
        ),
        writes: [],
      });
      if (batch.length === 500) {
        await store.commit(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.commit(batch);
  } finally {
    await store.close();
  }
  return calls;
}
