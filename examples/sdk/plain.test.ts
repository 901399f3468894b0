import { describe, expect, it, onTestFinished } from 'vitest';
import { localFixture } from '../../packages/sdk/test/local-fixture.js';
import { connect } from './connect.js';
import { governedRefund } from './plain.js';
import { recordingBackend } from './recording-backend.js';

const refund = (account_id: string, amount: number) => ({ account_id, amount, currency: 'USD' as const });

describe('plain function example', () => {
  it('runs the allowed and the approved (edited) refund only, and answers the blocked one with the reason', async () => {
    const fixture = localFixture();
    const airlock = connect({ policy: fixture.policy, audit: fixture.audit, approver: async () => ({ approved: true, by: 'lead-1', args: refund('A-2', 50) }) });
    onTestFinished(() => airlock.close());
    const backend = recordingBackend();
    const issueRefund = governedRefund(airlock, backend);

    expect(await issueRefund(refund('A-1', 20))).toEqual({ refunded: 20, currency: 'USD', account: 'A-1' });
    expect(await issueRefund(refund('A-2', 75))).toEqual({ airlock: 'approved_with_changes', args: refund('A-2', 50), result: { refunded: 50, currency: 'USD', account: 'A-2' } });
    expect(await issueRefund(refund('A-3', 900))).toMatchObject({ airlock: 'blocked', code: 'policy', rule: 'refund-large', reason: 'Refunds over $500 are never automated' });

    expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)], [refund('A-2', 50)]]);
    expect(fixture.decisions()).toEqual(['issue_refund allow', 'issue_refund require_approval', 'issue_refund block']);
  });
});
