import { tool } from 'ai';
import { z } from 'zod';
import { runDemo } from './harness.js';

/** `npm run demo:workflow`: the SaaS workflow seed scenario. */
const ran = (what: string) => async (args: object) => ({ done: what, records: 'ids' in args && Array.isArray(args.ids) ? args.ids.length : 1 });
const target = { system: z.string(), object: z.string() };
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

await runDemo({
  title: 'SaaS workflow: a sync bot reads, writes, bulk-updates, and tries a bulk delete',
  agent: 'workflow-bot-1',
  tools: {
    read_records: tool({ description: 'Read records.', inputSchema: z.object(target), execute: ran('read') }),
    create_record: tool({ description: 'Create one record.', inputSchema: z.object({ ...target, fields: z.record(z.string(), z.unknown()) }), execute: ran('created') }),
    update_records: tool({ description: 'Update records.', inputSchema: z.object({ ...target, ids: z.array(z.string()) }), execute: ran('updated') }),
    delete_records: tool({ description: 'Delete records.', inputSchema: z.object({ ...target, ids: z.array(z.string()) }), execute: ran('deleted') }),
  },
  calls: [
    { tool: 'read_records', args: { system: 'crm', object: 'lead' } },
    { tool: 'create_record', args: { system: 'crm', object: 'lead', fields: { name: 'Ada' } } },
    { tool: 'update_records', args: { system: 'crm', object: 'lead', ids: ids(40, 'L') } },
    { tool: 'update_records', args: { system: 'crm', object: 'lead', ids: ids(150, 'M') } },
    { tool: 'delete_records', args: { system: 'crm', object: 'lead', ids: ids(3, 'D') }, approve: false },
    { tool: 'delete_records', args: { system: 'crm', object: 'lead', ids: ids(250, 'X') } },
  ],
});
