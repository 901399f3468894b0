import type { ScenarioCall, SeedScenario } from './seed-scenario.js';

const SYSTEMS = ['salesforce', 'hubspot', 'zendesk'] as const;
const OBJECTS = ['contact', 'account', 'ticket', 'deal'] as const;

/**
 * Sync jobs: each job is one agent's run of calls. Most are short and spaced out; some are bursts
 * (a bulk sync) that run into the 100 writes/minute rate limit and the 500 records/hour blast radius.
 */
export const saasWorkflow: SeedScenario = {
  policy: 'saas-workflow',
  seed: 0x5eed_0104,
  traffic: '4 agents running sync jobs: 95% short jobs (1-10 calls, 5-30 s apart), 5% bulk syncs (150-300 calls, 50-200 ms apart)',
  calls(random, count) {
    const calls: ScenarioCall[] = [];
    while (calls.length < count) {
      const agent = `sync-bot-${random.int(1, 4)}`;
      const burst = random.next() < 0.05;
      const length = burst ? random.int(150, 300) : random.int(1, 10);
      for (let i = 0; i < length && calls.length < count; i++) {
        const gapMs = burst ? random.int(50, 200) : random.int(5_000, 30_000);
        const tool = random.weighted({ read_records: 40, create_record: 25, update_records: 25, delete_records: 8, modify_schema: 2 });
        const base = { agent, role: 'workflow', environment: 'production', tool };
        const target = { system: random.pick(SYSTEMS), object: random.pick(OBJECTS) };
        const ids = (n: number): string[] => Array.from({ length: n }, () => `rec_${random.int(1e5, 9e5)}`);
        switch (tool) {
          case 'read_records':
            calls.push({ gapMs, request: { ...base, args: target } });
            break;
          case 'create_record':
            calls.push({ gapMs, request: { ...base, args: { ...target, fields: { name: `Contact ${i}`, email: `c${i}@example.com` } } } });
            break;
          case 'update_records': {
            const count = random.next() < 0.05 ? random.int(100, 150) : random.int(1, 20);
            calls.push({ gapMs, request: { ...base, args: { ...target, ids: ids(count) } } });
            break;
          }
          case 'delete_records': {
            const count = random.next() < 0.1 ? random.int(100, 120) : random.int(1, 10);
            calls.push({ gapMs, request: { ...base, args: { ...target, ids: ids(count) } } });
            break;
          }
          case 'modify_schema':
            calls.push({ gapMs, request: { ...base, args: { object: target.object, add_field: 'loyalty_tier' } } });
            break;
        }
      }
    }
    return calls;
  },
};
