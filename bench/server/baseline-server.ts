import Fastify from 'fastify';

/**
 * Baselines of the server bench, in their own process like the Airlock server: Fastify's hello
 * world (the target's reference), and a route that parses the same request body and answers with a
 * fixed body the size and shape of a real decision without deciding or auditing anything (the
 * ceiling of any decide endpoint on this machine and load generator).
 */
const DECISION = {
  id: 'dec_0123456789abcdef',
  at: '2026-11-23T10:00:00.000Z',
  effect: 'allow',
  rule: 'refund-small',
  reason: 'Rule refund-small (policy customer-support): allow',
  decidedBy: 'rule',
  matched: [{ rule: 'refund-small', policy: 'customer-support', effect: 'allow' }],
  limits: [
    {
      limit: 'refund-budget',
      policy: 'customer-support',
      kind: 'budget',
      key: '["customer-support","refund-budget","BENCH-1"]',
      used: 0,
      adding: 20,
      max: 100,
      window: '24h',
      exceeded: false,
      consumed: true,
      effect: 'require_approval',
    },
  ],
  risk: { score: 0, level: 'low' },
  flagged: false,
  policy: { bundle: 'examples', version: 1, policies: ['customer-support'] },
};

const app = Fastify({ logger: false });
app.get('/hello', () => ({ hello: 'world' }));
app.post('/decision-shaped', () => DECISION);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: address })}\n`);
process.once('SIGTERM', () => void app.close());
