import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { webhookSignature, type ApprovalNotification, type NotificationConfigInput } from '../src/index.js';
import { caller, type Caller, type Person } from './support/http.js';
import { eventually, people } from './support/people.js';
import { httpReceiver, recordingNotifier, smtpReceiver } from './support/receivers.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Decision {
  approval: { id: string };
}

interface Approval {
  id: string;
  status: string;
  tier: string;
  approvalsRemaining: number;
  approvals: { by: string }[];
}

interface Delivery {
  deliveryId: string;
  channel: string;
  event: string;
  attempt: number;
  outcome: string;
  statusCode: number | null;
  nextAttemptAt: string | null;
}

const SECRET = 'whsec-0123456789abcdef';
const MINUTE = 60_000;
let account = 0;
const refundArgs = (amount: number) => ({ account_id: `NT-${++account}`, amount, currency: 'USD' });
const paymentArgs = (amount: number) => ({ amount, currency: 'USD', payee: `NP-${++account}` });

async function decide(agent: Caller, tool: string, args: Record<string, unknown>): Promise<string> {
  const { body } = await agent.post<Decision>('/v1/decide', { tool, args });
  return body.approval.id;
}

/** The approve and deny links in a text (email body). */
function linksIn(text: string): { approve: string; deny: string } {
  const approve = /Approve: (\S+)/.exec(text)?.[1];
  const deny = /Deny: (\S+)/.exec(text)?.[1];
  if (!approve || !deny) throw new Error(`no links in:\n${text}`);
  return { approve, deny };
}

/** The inline script of a page parses as JavaScript (a browser would run it). */
function expectValidScript(html: string): void {
  const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
  expect(script).toBeDefined();
  expect(() => new Function(`return async () => { ${script} }`)).not.toThrow();
}

/** The page a link opens, on the server a test caller talks to. */
const pageOf = (link: string): string => `${new URL(link).pathname}${new URL(link).search}`;
/** The token a link carries. */
const tokenOf = (link: string): string => new URL(link).searchParams.get('token') ?? '';
/** Acting on a link: what its page's button posts. */
const act = (who: Caller, link: string, reason?: string) => who.post<Approval>('/v1/approval-links', { token: tokenOf(link), ...(reason ? { reason } : {}) });

describe('routing notifications by group and event', () => {
  let t: TestServer;
  let admin: Person;
  const chat = recordingNotifier('support-chat', 'slack');
  const financeHook = recordingNotifier('finance-hook', 'webhook');
  const financeMail = recordingNotifier('finance-mail', 'email');
  // Configured last: it hears every event of every approval, after the channels above.
  const everything = recordingNotifier('everything', 'webhook');
  const notifications: NotificationConfigInput = {
    links: { mode: 'one-click' },
    channels: [
      { name: 'support-chat', kind: 'slack', url: 'http://127.0.0.1:9/unused', groups: ['support-leads', 'support-managers'] },
      { name: 'finance-hook', kind: 'webhook', url: 'http://127.0.0.1:9/unused', secret: SECRET, groups: ['finance-approvers'] },
      {
        name: 'finance-mail',
        kind: 'email',
        smtp: { host: '127.0.0.1', port: 9 },
        from: 'airlock@example.com',
        to: [{ address: 'fin-1@example.com', user: 'fin-1' }, 'finance-team@example.com'],
        groups: ['finance-approvers'],
      },
      { name: 'everything', kind: 'webhook', url: 'http://127.0.0.1:9/unused', secret: SECRET },
    ],
  };

  beforeAll(async () => {
    t = await startTestServer({ notifications, notifiers: [chat, financeHook, financeMail, everything] });
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
  });

  const about = (id: string, event?: string) => (n: ApprovalNotification) => n.approval.id === id && (event === undefined || n.event === event);

  it('sends a support refund to the support channel only, with links to act', async () => {
    const id = await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(75));
    const message = await chat.inbox.next(about(id));
    expect(message).toMatchObject({ event: 'requested', approval: { id, tier: 'lead', approvers: ['support-leads'] } });
    expect(message.links?.approve).toContain(`${t.url}/v1/approval-links?token=`);
    await everything.inbox.next(about(id));
    expect(financeHook.inbox.all.filter(about(id))).toEqual([]);
    expect(financeMail.inbox.all.filter(about(id))).toEqual([]);
  });

  it('mails each finance recipient mapped to a user their own one-click links, and the rest shared sign-in links', async () => {
    const id = await decide(t.agent('finance-bot-1'), 'make_payment', paymentArgs(12_000));
    const personal = await financeMail.inbox.next((n) => about(id)(n) && n.to?.[0] === 'fin-1@example.com');
    const shared = await financeMail.inbox.next((n) => about(id)(n) && n.to?.[0] === 'finance-team@example.com');
    expect(personal.to).toEqual(['fin-1@example.com']);
    expect(shared.to).toEqual(['finance-team@example.com']);
    // A one-click token names its user; a shared one does not.
    const claims = (link: string) => JSON.parse(Buffer.from(tokenOf(link).split('.')[0] ?? '', 'base64url').toString()) as { u?: string; a: string; x: string };
    expect(claims(personal.links?.approve ?? '')).toMatchObject({ u: 'fin-1', a: id, x: 'approve' });
    expect(claims(shared.links?.approve ?? '').u).toBeUndefined();
    expect(await financeHook.inbox.next(about(id, 'requested'))).toMatchObject({ approval: { tier: 'two-person' } });
    await everything.inbox.next(about(id));
    expect(chat.inbox.all.filter(about(id))).toEqual([]);
  });

  it('tells the tier about each approval still missing, and webhooks about the outcome (without links)', async () => {
    const id = await decide(t.agent('finance-bot-1'), 'make_payment', paymentArgs(13_000));
    const [fin1, fin2] = Object.values(await people(t.url, admin, { [`f1-${id}`]: { groups: ['finance-approvers'] }, [`f2-${id}`]: { groups: ['finance-approvers'] } }));
    await fin1!.post(`/v1/approvals/${id}/approve`, { reason: 'ok' });
    const progress = await financeHook.inbox.next(about(id, 'progress'));
    expect(progress).toMatchObject({ approval: { status: 'pending', approvalsRemaining: 1 } });
    expect(progress.links).toBeDefined();
    expect(await financeMail.inbox.next(about(id, 'progress'))).toBeDefined();
    await fin2!.post(`/v1/approvals/${id}/deny`, { reason: 'no' });
    const denied = await financeHook.inbox.next(about(id, 'denied'));
    expect(denied.links).toBeUndefined();
    await everything.inbox.next(about(id, 'denied'));
    // Chat and email get only what asks someone to act.
    expect(financeMail.inbox.all.filter(about(id, 'denied'))).toEqual([]);
  });

  it('tells the managers when a refund escalates to them', async () => {
    const id = await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(60));
    await chat.inbox.next(about(id, 'requested'));
    await t.clock.advance(10 * MINUTE);
    const escalated = await chat.inbox.next(about(id, 'escalated'));
    expect(escalated).toMatchObject({ approval: { tier: 'manager', approvers: ['support-managers'], escalations: 1 } });
    expect(escalated.links).toBeDefined();
  });
});

describe('webhook channel', () => {
  let t: TestServer;
  let admin: Person;
  let receiver: Awaited<ReturnType<typeof httpReceiver>>;

  beforeAll(async () => {
    // The first delivery is answered 500, every later one 200.
    receiver = await httpReceiver((n) => (n === 1 ? 500 : 200));
    t = await startTestServer({
      notifications: {
        retry: { attempts: 3, minDelay: '20ms', maxDelay: '50ms' },
        channels: [{ name: 'hook', kind: 'webhook', url: receiver.url, secret: SECRET }],
      },
    });
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
    await receiver.close();
  });

  it('signs the body with HMAC-SHA256, retries after a 500, and logs every attempt', async () => {
    const id = await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(75));
    const failed = await receiver.inbox.next();
    const delivered = await receiver.inbox.next();
    expect([failed.status, delivered.status]).toEqual([500, 200]);

    for (const request of [failed, delivered]) {
      const timestamp = request.headers['x-airlock-timestamp'] as string;
      expect(request.headers['x-airlock-signature']).toBe(webhookSignature(SECRET, timestamp, request.body));
      // The signature covers the body: a changed body does not verify.
      expect(request.headers['x-airlock-signature']).not.toBe(webhookSignature(SECRET, timestamp, request.body.replace('75', '76')));
      expect(request.headers['x-airlock-signature']).not.toBe(webhookSignature('another-secret-0123', timestamp, request.body));
    }
    // One message, two attempts: the same delivery id, so a receiver can drop duplicates.
    expect(delivered.headers['x-airlock-delivery']).toBe(failed.headers['x-airlock-delivery']);
    const body = JSON.parse(delivered.body) as { id: string; event: string; approval: { id: string; tool: string }; links: { approve: string; deny: string } };
    expect(body).toMatchObject({ id: delivered.headers['x-airlock-delivery'], event: 'approval.requested', approval: { id, tool: 'issue_refund' } });
    expect(body.links.approve).toMatch(new RegExp(`^${t.url}/v1/approval-links\\?token=`));

    const log = await eventually(async () => {
      const { body: page } = await admin.get<{ deliveries: Delivery[] }>(`/v1/approvals/${id}/deliveries`);
      const attempts = page.deliveries.filter((d) => d.event === 'requested');
      if (attempts.length < 2) throw new Error('not logged yet');
      return attempts;
    });
    expect(log.map(({ attempt, outcome, statusCode }) => ({ attempt, outcome, statusCode }))).toEqual([
      { attempt: 2, outcome: 'delivered', statusCode: 200 },
      { attempt: 1, outcome: 'failed', statusCode: 500 },
    ]);
    expect(log[1]?.nextAttemptAt).not.toBeNull();
    expect(new Set(log.map((d) => d.deliveryId))).toEqual(new Set([delivered.headers['x-airlock-delivery']]));
  });
});

describe('webhook channel that refuses', () => {
  it('does not retry a 4xx, and logs the failure', async () => {
    const receiver = await httpReceiver(() => 400);
    const t = await startTestServer({
      notifications: { retry: { attempts: 5, minDelay: '10ms', maxDelay: '10ms' }, channels: [{ name: 'hook', kind: 'webhook', url: receiver.url, secret: SECRET }] },
    });
    try {
      const admin = await t.admin();
      const id = await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(75));
      expect((await receiver.inbox.next()).status).toBe(400);
      const log = await eventually(async () => {
        const { body } = await admin.get<{ deliveries: Delivery[] }>(`/v1/approvals/${id}/deliveries`);
        if (body.deliveries.length === 0) throw new Error('not logged yet');
        return body.deliveries;
      });
      expect(log).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', statusCode: 400, nextAttemptAt: null })]);
      // A second request would have arrived by the time a third message is delivered.
      await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(76));
      await receiver.inbox.next();
      expect(receiver.inbox.all).toHaveLength(2);
    } finally {
      await t.dispose();
      await receiver.close();
    }
  });
});

/** The Block Kit subset Airlock sends, with Slack's documented limits. */
const plainText = (max: number) => z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() });
const mrkdwn = (max: number) => z.strictObject({ type: z.literal('mrkdwn'), text: z.string().min(1).max(max) });
const button = z.strictObject({
  type: z.literal('button'),
  action_id: z.string().min(1).max(255),
  text: plainText(75),
  url: z.url().max(3000),
  style: z.enum(['primary', 'danger']).optional(),
});
const block = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('header'), text: plainText(150), block_id: z.string().max(255).optional() }),
  z.strictObject({ type: z.literal('section'), text: z.union([mrkdwn(3000), plainText(3000)]), fields: z.array(mrkdwn(2000)).max(10).optional(), block_id: z.string().max(255).optional() }),
  z.strictObject({ type: z.literal('actions'), block_id: z.string().max(255).optional(), elements: z.array(button).min(1).max(25) }),
  z.strictObject({ type: z.literal('context'), elements: z.array(mrkdwn(3000)).min(1).max(10) }),
]);
const slackPayload = z.strictObject({ text: z.string().min(1), blocks: z.array(block).min(1).max(50) });

describe('Slack-compatible channel', () => {
  let t: TestServer;
  let receiver: Awaited<ReturnType<typeof httpReceiver>>;
  let lead: Person;

  beforeAll(async () => {
    receiver = await httpReceiver();
    t = await startTestServer({ notifications: { channels: [{ name: 'support-slack', kind: 'slack', url: receiver.url, groups: ['support-leads'] }] } });
    ({ lead } = (await people(t.url, await t.admin(), { lead: { groups: ['support-leads'] } })) as { lead: Person });
  });
  afterAll(async () => {
    await t.dispose();
    await receiver.close();
  });

  it('posts Block Kit blocks (section, fields, Approve/Deny buttons with links) that Slack accepts', async () => {
    const id = await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(150));
    const request = await receiver.inbox.next();
    expect(request.headers['content-type']).toBe('application/json');
    const payload = slackPayload.parse(JSON.parse(request.body));
    expect(payload.text).toBe('Approval needed: issue_refund for support-bot-1');
    const section = payload.blocks.find((b) => b.type === 'section' && 'fields' in b && b.fields);
    expect(JSON.stringify(section)).toContain('support-leads');
    const actions = payload.blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.elements.map((e) => [e.text.text, e.style])).toEqual([
      ['Approve', 'primary'],
      ['Deny', 'danger'],
    ]);
    const ids = actions?.type === 'actions' ? actions.elements.map((e) => e.action_id) : [];
    expect(new Set(ids).size).toBe(ids.length);

    // The Approve button's link works for a signed-in lead.
    const approve = actions?.type === 'actions' ? (actions.elements[0]?.url as string) : '';
    expect((await act(lead, approve)).body).toMatchObject({ id, status: 'approved', approvals: [{ by: 'lead' }] });
  });
});

describe('email channel and sign-in links', () => {
  let t: TestServer;
  let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
  let p: Record<string, Person>;

  beforeAll(async () => {
    smtp = await smtpReceiver();
    t = await startTestServer({
      notifications: {
        channels: [
          {
            name: 'finance-mail',
            kind: 'email',
            smtp: { host: '127.0.0.1', port: smtp.port },
            from: 'airlock@example.com',
            to: ['finance-team@example.com', 'controller@example.com'],
            groups: ['finance-approvers'],
          },
          { name: 'support-mail', kind: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'airlock@example.com', to: ['support@example.com'], groups: ['support-leads', 'support-managers'] },
        ],
      },
    });
    p = await people(t.url, await t.admin(), {
      'fin-1': { groups: ['finance-approvers'] },
      'fin-2': { groups: ['finance-approvers'] },
      lead: { groups: ['support-leads'] },
      manager: { groups: ['support-managers'] },
    });
  });
  afterAll(async () => {
    await t.dispose();
    await smtp.close();
  });

  it('mails the finance team over SMTP; each link needs a signed-in, entitled person and works once', async () => {
    const id = await decide(t.agent('finance-bot-1'), 'make_payment', paymentArgs(12_500));
    const mail = await smtp.inbox.next((m) => m.text.includes(id));
    expect(mail.from).toBe('airlock@example.com');
    expect(mail.to).toEqual(['finance-team@example.com', 'controller@example.com']);
    expect(mail.text).toContain('Subject: Approval needed: make_payment for finance-bot-1');
    const links = linksIn(mail.text);

    // Opening the link changes nothing, and the page holds no approval data: its script checks the
    // session with same-origin requests (the SameSite=Strict cookie is not sent on a link from a mail).
    const anonymous = caller(t.url);
    const page = await anonymous.get(pageOf(links.approve));
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(String(page.body)).toContain("fetch('/v1/auth/session'");
    expect(String(page.body)).not.toContain('12500');
    expectValidScript(String(page.body));
    expect((await act(anonymous, links.approve)).status).toBe(401);
    expect((await p['fin-1']!.get<Approval>(`/v1/approvals/${id}`)).body.status).toBe('pending');

    // Acting needs the CSRF header like every other state change, and an entitled person.
    expect((await act(p['fin-1']!.withoutCsrf, links.approve)).status).toBe(403);
    expect((await act(p.lead!, links.approve)).body).toMatchObject({ error: { code: 'not_entitled' } });
    const first = await act(p['fin-1']!, links.approve, 'invoice checked');
    expect(first.body).toMatchObject({ status: 'pending', approvalsRemaining: 1, approvals: [{ by: 'fin-1' }] });
    // Single use: the second approver needs a link of their own (the next email has fresh ones).
    expect((await act(p['fin-2']!, links.approve)).body).toMatchObject({ error: { code: 'link_used' } });

    const progress = await smtp.inbox.next((m) => m.text.includes(id) && m.text.includes('1 more'));
    const second = await act(p['fin-2']!, linksIn(progress.text).approve);
    expect(second.body).toMatchObject({ status: 'approved', approvals: [{ by: 'fin-1' }, { by: 'fin-2' }] });
  });

  it('refuses a tampered, foreign or one-click-only link', async () => {
    const id = await decide(t.agent('finance-bot-1'), 'make_payment', paymentArgs(2_000));
    const { deny } = linksIn((await smtp.inbox.next((m) => m.text.includes(id))).text);
    const [claims, signature] = tokenOf(deny).split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), x: 'approve' })).toString('base64url')}.${signature}`;
    expect((await p['fin-1']!.post('/v1/approval-links', { token: forged })).body).toMatchObject({ error: { code: 'link_invalid' } });
    expect((await caller(t.url).get(`/v1/approval-links?token=${forged}`)).status).toBe(403);
    // This server is in login mode: a link never acts without a session.
    expect((await caller(t.url).post('/v1/approval-links/one-click', { token: tokenOf(deny) })).body).toMatchObject({ error: { code: 'link_invalid' } });
    expect((await act(p['fin-1']!, deny, 'not ours')).body.status).toBe('denied');
  });

  it('refuses a link sent for a tier the approval has left', async () => {
    const id = await decide(t.agent('support-bot-1'), 'issue_refund', refundArgs(70));
    const toLeads = linksIn((await smtp.inbox.next((m) => m.text.includes(id) && m.text.includes('Approval needed:'))).text);
    await t.clock.advance(10 * MINUTE);
    const toManagers = linksIn((await smtp.inbox.next((m) => m.text.includes(id) && m.text.includes('escalated to manager'))).text);
    expect((await act(p.manager!, toLeads.approve)).body).toMatchObject({ error: { code: 'link_invalid' } });
    expect((await act(p.manager!, toManagers.approve)).body).toMatchObject({ status: 'approved', tier: 'manager' });
  });
});

describe('one-click links', () => {
  let t: TestServer;
  let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
  let p: Record<string, Person>;

  beforeAll(async () => {
    smtp = await smtpReceiver();
    t = await startTestServer({
      notifications: {
        links: { mode: 'one-click' },
        channels: [
          {
            name: 'finance-mail',
            kind: 'email',
            smtp: { host: '127.0.0.1', port: smtp.port },
            from: 'airlock@example.com',
            to: [{ address: 'fin-1@example.com', user: 'fin-1' }],
          },
        ],
      },
    });
    p = await people(t.url, await t.admin(), { 'fin-1': { groups: ['finance-approvers'] }, 'fin-2': { groups: ['finance-approvers'] } });
  });
  afterAll(async () => {
    await t.dispose();
    await smtp.close();
  });

  it('acts as the recipient’s user without a session, once, and only for that user', async () => {
    const id = await decide(t.agent('finance-bot-1'), 'make_payment', paymentArgs(3_000));
    const { approve } = linksIn((await smtp.inbox.next((m) => m.text.includes(id))).text);
    const anonymous = caller(t.url);
    const page = await anonymous.get(pageOf(approve));
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('/v1/approval-links/one-click');
    expect(String(page.body)).toContain('3000');
    expectValidScript(String(page.body));
    // The session route does not let someone else spend fin-1's link.
    expect((await act(p['fin-2']!, approve)).body).toMatchObject({ error: { code: 'link_invalid' } });
    // The page names the call it shows; an approval naming another call is refused and spends nothing.
    const shown = /"callHash":"([0-9a-f]{64})"/.exec(String(page.body))?.[1];
    expect(shown).toBeDefined();
    const other = await anonymous.post('/v1/approval-links/one-click', { token: tokenOf(approve), callHash: '0'.repeat(64) });
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'call_changed', callHash: shown } } });
    const done = await anonymous.post<Approval>('/v1/approval-links/one-click', { token: tokenOf(approve), reason: 'from my phone', callHash: shown });
    expect(done.body).toMatchObject({ status: 'approved', approvals: [{ by: 'fin-1' }] });
    expect((await anonymous.post('/v1/approval-links/one-click', { token: tokenOf(approve) })).body).toMatchObject({ error: { code: 'approval_not_pending' } });
  });
});
