import { afterAll, describe, expect, it } from 'vitest';
import { configFromEnvironment } from '../src/index.js';
import { writeEdgeDecisions } from './support/audit-stream.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';
import { signIn } from './support/http.js';
import { seededRandom } from './support/random.js';
import { SiemReceiver } from './support/siem-receiver.js';

const SECRET = 'audit webhook test secret';

async function newestSeq(t: TestServer): Promise<number> {
  const admin = await signIn(t.url, 'admin', ADMIN_PASSWORD);
  const { body } = await admin.get<{ records: { seq: number }[] }>('/v1/audit?limit=1');
  return body.records[0]?.seq ?? 0;
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('audit webhook forwarder', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('delivers 10,000 records to a webhook failing 20 % of requests, across a restart midway: every record exactly once, in order, signed', async () => {
    const random = seededRandom(20_261_207);
    const receiver = new SiemReceiver(SECRET, () => random() < 0.2);
    await receiver.start();
    cleanup.push(() => receiver.close());
    const t = await startTestServer({ auditWebhook: { url: receiver.url, secret: SECRET, batchSize: 100, minDelayMs: 2, maxDelayMs: 20 }, auditPollMs: 200 });
    cleanup.push(() => t.dispose());

    await writeEdgeDecisions(t.agent('support-bot-1'), 5000, 'fwd-a');
    // Restart midway through the delivery: stop the app, start a new one on the same data directory.
    await until(() => receiver.last >= 2000, 'the first 2,000 records');
    await t.restart();
    const atRestart = receiver.last;
    await writeEdgeDecisions(t.agent('support-bot-1'), 5000, 'fwd-b');
    const head = await newestSeq(t);
    expect(atRestart).toBeLessThan(head - 5000);
    await until(() => receiver.last >= head, `every record up to ${head}`);

    expect({ duplicates: receiver.duplicates, gaps: receiver.gaps, badSignatures: receiver.badSignatures, brokenLinks: receiver.brokenLinks }).toEqual({
      duplicates: 0,
      gaps: 0,
      badSignatures: 0,
      brokenLinks: 0,
    });
    expect(receiver.accepted.map((r) => r.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    const ids = receiver.accepted.map((r) => (r.data as { id?: string }).id).filter((id): id is string => id?.startsWith('fwd-') ?? false);
    expect(ids).toHaveLength(10_000);
    expect(new Set(ids).size).toBe(10_000);
    // The receiver did fail about a fifth of the requests, and every failed batch was sent again.
    expect(receiver.failed / receiver.requests).toBeGreaterThan(0.1);
    expect(receiver.failed / receiver.requests).toBeLessThan(0.3);
  }, 120_000);

  it('reads its settings from the environment, and the server refuses to start without a secret (batches are signed)', async () => {
    expect(
      configFromEnvironment({}, { AIRLOCK_AUDIT_WEBHOOK_URL: 'https://siem.example.com/in', AIRLOCK_AUDIT_WEBHOOK_SECRET: SECRET, AIRLOCK_AUDIT_WEBHOOK_BATCH: '250', AIRLOCK_AUDIT_WEBHOOK_NAME: 'splunk' }).auditWebhook,
    ).toEqual({ url: 'https://siem.example.com/in', secret: SECRET, batchSize: 250, name: 'splunk' });
    expect(configFromEnvironment({}, {}).auditWebhook).toBeUndefined();
    await expect(startTestServer({ auditWebhook: { url: 'https://siem.example.com/in', secret: '' } })).rejects.toThrow(/AIRLOCK_AUDIT_WEBHOOK_SECRET must be set/);
    await expect(startTestServer({ auditWebhook: { url: 'ftp://siem.example.com/in', secret: SECRET } })).rejects.toThrow(/http or https/);
  });
});
