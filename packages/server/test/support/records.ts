import { prepareRecord, type PreparedEntry } from '../../src/audit/record.js';

/** The i-th decision record of a refund bot at `at`, as the server prepares one (with an argument index row per field). */
export function decisionEntry(i: number, at: number): PreparedEntry {
  return {
    record: prepareRecord({
      type: 'decision',
      at,
      actor: 'agent:bot-1',
      agent: 'bot-1',
      tool: 'issue_refund',
      effect: 'allow',
      rule: 'refund-small',
      data: { id: `dec_${i}`, request: { tool: 'issue_refund', args: { account_id: `A-${i}`, amount: i } }, decision: { effect: 'allow', rule: 'refund-small', decidedBy: 'rule' } },
    }),
    writes: [],
  };
}
