import { createAirlock, type Airlock, type LocalOptions } from '@airlock/sdk';

/**
 * Step 1 for every framework: one Airlock client per agent. Local mode runs the policy engine in
 * this process, audits every decision to a JSONL file before answering, and reloads the policy
 * when its files change. For a server, use `createAirlock({ url, apiKey })` instead: the API key
 * fixes the agent's identity, role and environment.
 */
export function connect(options: Pick<LocalOptions, 'policy' | 'audit' | 'approver'>): Airlock {
  return createAirlock({
    policy: options.policy, // a policy file or a directory of them, e.g. examples/policies
    agent: 'support-bot-1',
    role: 'support',
    audit: options.audit, // e.g. .airlock/audit.jsonl
    approver: options.approver, // decides approvals in-process; without it they wait for resolveApproval()
  });
}
