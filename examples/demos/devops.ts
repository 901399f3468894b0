import { tool } from 'ai';
import { z } from 'zod';
import { runDemo } from './harness.js';

/** `npm run demo:devops`: the DevOps seed scenario. */
const ran = (what: string) => async (args: object) => ({ done: what, ...args });
const environment = z.enum(['dev', 'staging', 'production']);

await runDemo({
  title: 'DevOps: an infrastructure bot observes, scales, provisions, and tries to delete and open up production',
  agent: 'devops-bot-1',
  tools: {
    get_metrics: tool({ description: 'Read service metrics.', inputSchema: z.object({ service: z.string(), environment }), execute: ran('metrics read') }),
    scale_service: tool({
      description: 'Scale a service.',
      inputSchema: z.object({ service: z.string(), environment, replicas: z.number().int() }),
      execute: ran('scaled'),
    }),
    provision_instance: tool({ description: 'Provision an instance.', inputSchema: z.object({ instance_type: z.string(), environment }), execute: ran('provisioned') }),
    delete_resource: tool({ description: 'Delete a resource.', inputSchema: z.object({ resource_id: z.string(), environment }), execute: ran('deleted') }),
    update_security_group: tool({ description: 'Change network security rules.', inputSchema: z.object({ group_id: z.string(), rule: z.string() }), execute: ran('opened') }),
  },
  calls: [
    { tool: 'get_metrics', args: { service: 'checkout', environment: 'production' } },
    { tool: 'scale_service', args: { service: 'checkout', environment: 'staging', replicas: 4 } },
    { tool: 'scale_service', args: { service: 'checkout', environment: 'production', replicas: 12 } },
    { tool: 'provision_instance', args: { instance_type: 't3.medium', environment: 'dev' } },
    { tool: 'provision_instance', args: { instance_type: 'm5.24xlarge', environment: 'production' }, approve: false },
    { tool: 'delete_resource', args: { resource_id: 'db-main', environment: 'production' } },
    { tool: 'update_security_group', args: { group_id: 'sg-1', rule: '0.0.0.0/0:22' } },
  ],
});
