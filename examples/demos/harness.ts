import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, stepCountIs, type Tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createAirlock, type Airlock } from '@airlock/sdk';
import { governTools } from '@airlock/sdk/ai';
import { startServer, type RunningServer } from '@airlock/server';

/**
 * Offline demos: a scripted model drives a real Vercel AI SDK agent whose tools are governed by a
 * real Airlock server. The server is the one `npm start` runs (reused when it answers on
 * AIRLOCK_URL, default http://127.0.0.1:7300), or one started here on a temporary data directory.
 * Approvals are decided by a demo approver through the server's own API, as a person would in the
 * dashboard; with a reused server it needs AIRLOCK_ADMIN_PASSWORD, otherwise approvals wait for you.
 */

export interface ScriptedCall {
  tool: string;
  args: Record<string, unknown>;
  /** What the demo approver answers if the call needs approval: approve (default), deny, or approve these arguments instead. */
  approve?: boolean | Record<string, unknown>;
}

export interface Demo {
  title: string;
  agent: string;
  tools: Record<string, Tool>;
  calls: ScriptedCall[];
}

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

/** A model that attempts the scripted calls one per step, then says it is done. */
function scriptedModel(calls: ScriptedCall[]): MockLanguageModelV3 {
  const steps = calls.map((call, i) => ({
    content: [{ type: 'tool-call' as const, toolCallId: `call-${i + 1}`, toolName: call.tool, input: JSON.stringify(call.args) }],
    finishReason: { unified: 'tool-calls' as const, raw: undefined },
    usage,
    warnings: [],
  }));
  const done = { content: [{ type: 'text' as const, text: 'Done.' }], finishReason: { unified: 'stop' as const, raw: undefined }, usage, warnings: [] };
  return new MockLanguageModelV3({ doGenerate: [...steps, done] });
}

interface Connection {
  url: string;
  keys: Record<string, string>;
  admin?: { username: string; password: string };
  server?: RunningServer;
  cleanup: () => Promise<void>;
}

async function connect(): Promise<Connection> {
  const url = process.env.AIRLOCK_URL ?? 'http://127.0.0.1:7300';
  const answering = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
  if (answering) {
    const file = join(process.env.AIRLOCK_DATA_DIR ?? 'data', 'demo-keys.json');
    if (!existsSync(file)) throw new Error(`a server answers at ${url} but ${file} (its demo keys) is missing`);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { key: string }>;
    const password = process.env.AIRLOCK_ADMIN_PASSWORD;
    console.log(`Using the Airlock server at ${url}.`);
    return {
      url,
      keys: Object.fromEntries(Object.entries(stored).map(([agent, entry]) => [agent, entry.key])),
      admin: password ? { username: 'admin', password } : undefined,
      cleanup: async () => {},
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-demo-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, adminPassword: randomBytes(12).toString('base64url'), print: () => {} });
  console.log(`Started an Airlock server at ${server.url} (data in ${dataDir}).`);
  return {
    url: server.url,
    keys: Object.fromEntries((server.seeded.demoKeys ?? []).map((demo) => [demo.agent, demo.key])),
    admin: server.seeded.admin,
    server,
    cleanup: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Session {
  headers: Record<string, string>;
}

async function login(url: string, username: string, password: string): Promise<Session> {
  const response = await fetch(`${url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!response.ok) throw new Error(`login as ${username} failed: HTTP ${response.status}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  return { headers: { cookie, 'x-airlock-csrf': csrfToken, 'content-type': 'application/json' } };
}

interface PendingApproval {
  id: string;
  agent: string;
  tool: string;
  args: Record<string, unknown>;
  approvers: string[];
  approvalsRemaining: number;
}

/**
 * Decides pending approvals of the demo's calls through the API, as people in the dashboard would,
 * but at once: so it acts as a bot account (kind `bot`, created by the admin in the approval's
 * groups), whose decisions the server counts apart from people's time to decision. A two-person
 * rule gets a second bot in the same groups.
 */
function startApprover(connection: Connection, demo: Demo): () => void {
  const admin = connection.admin;
  if (!admin) {
    console.log('Approvals wait for a person: approve them in the dashboard or with the API (no AIRLOCK_ADMIN_PASSWORD given).');
    return () => {};
  }
  let stopped = false;
  const handled = new Set<string>();
  const bots = new Map<string, Session>();
  void (async () => {
    const session = await login(connection.url, admin.username, admin.password);
    /** The first or second bot approver in the approval's groups (created once per group set and run). */
    const botApprover = async (groups: string[], which: 1 | 2): Promise<Session> => {
      const key = `${which}:${groups.join(',')}`;
      const known = bots.get(key);
      if (known) return known;
      const username = `demo-bot-${randomBytes(3).toString('hex')}`;
      const password = randomBytes(18).toString('base64url');
      const created = await fetch(`${connection.url}/v1/users`, {
        method: 'POST',
        headers: session.headers,
        body: JSON.stringify({ username, password, role: 'approver', groups, kind: 'bot' }),
      });
      if (!created.ok) throw new Error(`cannot create a demo bot approver: HTTP ${created.status}`);
      const bot = await login(connection.url, username, password);
      bots.set(key, bot);
      return bot;
    };
    while (!stopped) {
      const list = (await (await fetch(`${connection.url}/v1/approvals?status=pending`, { headers: session.headers })).json()) as { approvals: PendingApproval[] };
      for (const approval of list.approvals.filter((a) => a.agent === demo.agent && !handled.has(a.id))) {
        handled.add(approval.id);
        const scripted = demo.calls.find((c) => c.tool === approval.tool && JSON.stringify(c.args) === JSON.stringify(approval.args));
        const approve = scripted?.approve ?? true;
        const action = approve === false ? 'deny' : 'approve';
        const edit = typeof approve === 'object' ? { args: approve } : {};
        console.log(`      approver: ${action === 'deny' ? 'denies' : typeof approve === 'object' ? `approves it changed to ${brief(approve)}` : 'approves'} ${approval.tool} ${brief(approval.args)}`);
        const decide = (who: Session, body: Record<string, unknown>) =>
          fetch(`${connection.url}/v1/approvals/${approval.id}/${action}`, { method: 'POST', headers: who.headers, body: JSON.stringify({ reason: 'demo approver', ...body }) });
        const answer = (await (await decide(await botApprover(approval.approvers, 1), edit)).json()) as Partial<PendingApproval> & { status?: string };
        if (action === 'approve' && answer.status === 'pending' && (answer.approvalsRemaining ?? 0) > 0) {
          console.log(`      approver: a second approver must approve too (two-person rule); a second demo bot approves`);
          await decide(await botApprover(answer.approvers ?? approval.approvers, 2), {});
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })().catch((error: unknown) => console.error(`approver stopped: ${String(error)}`));
  return () => {
    stopped = true;
  };
}

/** Runs one scenario and prints each attempted call with what Airlock did with it. */
export async function runDemo(demo: Demo): Promise<void> {
  console.log(`\n${demo.title}\n`);
  const connection = await connect();
  const key = connection.keys[demo.agent];
  if (!key) throw new Error(`no API key for ${demo.agent}`);
  const airlock: Airlock = createAirlock({ url: connection.url, apiKey: key, defaults: { approvalTimeoutMs: 60_000 } });
  const stopApprover = startApprover(connection, demo);
  try {
    const tools = governTools(airlock, demo.tools);
    await generateText({
      model: scriptedModel(demo.calls),
      tools,
      prompt: demo.title,
      stopWhen: stepCountIs(demo.calls.length + 1),
      onStepFinish: (step) => {
        for (const result of step.toolResults) {
          console.log(`  ${result.toolName} ${brief(result.input)}`);
          console.log(`    → ${describe(result.output)}`);
        }
      },
    });
  } finally {
    stopApprover();
    await airlock.close();
    await connection.cleanup();
  }
}

/** JSON with long lists shortened, so a bulk call stays one readable line. */
function brief(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (Array.isArray(item) && item.length > 4 ? [...item.slice(0, 3), `… ${item.length} items`] : item));
}

function describe(output: unknown): string {
  const value = output as { airlock?: string; reason?: string; code?: string; args?: unknown; result?: unknown } | null;
  if (value?.airlock === 'blocked') return `BLOCKED (${value.code}): ${value.reason}`;
  if (value?.airlock === 'approval_pending') return `PENDING APPROVAL: ${value.reason}`;
  if (value?.airlock === 'approved_with_changes') return `RAN WITH APPROVED CHANGES ${brief(value.args)}: ${brief(value.result)}`;
  return `RAN: ${brief(output)}`;
}
