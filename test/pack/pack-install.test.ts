import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What an agent builder gets: `npm pack` each package, install the tarballs into a fresh project in
 * the system temp directory (not under the repository, no symlinks, no NODE_PATH, the repository's
 * bins off PATH) and use them there as the READMEs say. Nothing here is skipped: when the packing
 * or the install cannot run, the suite fails with npm's output.
 */

const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));
const PACKAGES = ['@airlock/core', '@airlock/sdk', '@airlock/server', '@airlock/mcp-gateway', 'airlock'];
/** Installing better-sqlite3 from the registry builds it with node-gyp: over a minute on a busy machine. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const STEP_TIMEOUT_MS = 120_000;
const ADMIN_PASSWORD = 'pack-install-admin-password';

/** The repository's own version of a dependency, so the project gets what the workspace tests with. */
const repoVersion = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment of a shell outside the repository: no npm_* of the running script, no NODE_PATH, no repository bins. */
function outsideEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|node_options$|node_path$|init_cwd$|airlock_|vitest)/i.test(name)) continue;
    env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry !== '' && !entry.startsWith(ROOT))
    .join(delimiter);
  env.NODE_PATH = '';
  return { ...env, ...extra };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? outsideEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${options.timeoutMs ?? STEP_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? STEP_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

async function mustRun(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<Run> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  return result;
}

/** Every symlink under a directory (npm's .bin links excepted). */
function symlinksUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === '.bin') continue;
    if (lstatSync(path).isSymbolicLink()) found.push(path);
    else if (entry.isDirectory()) found.push(...symlinksUnder(path));
  }
  return found;
}

/** Installed copies of a package, wherever they are nested. */
function copiesOf(nodeModules: string, name: string): string[] {
  const copies: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        visit(path);
        continue;
      }
      const manifest = join(path, 'package.json');
      if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) copies.push(path);
      if (existsSync(join(path, 'node_modules'))) visit(join(path, 'node_modules'));
    }
  };
  visit(nodeModules);
  return copies;
}

/** `airlock start` until the test ends: its own process group, so npx and the server stop together. */
function startServer(project: string, dataDir: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn('npx', ['--no', 'airlock', 'start', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
    cwd: project,
    env: outsideEnv({ AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`airlock start printed no URL in ${STEP_TIMEOUT_MS} ms:\n${output}`)), STEP_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const url = /Airlock is running at (http:\/\/\S+)/.exec(output)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      resolve({ url, child, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`airlock start exited ${code}:\n${output}`));
    });
  });
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return Promise.resolve();
  }
  const force = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, 10_000);
  return exited.finally(() => clearTimeout(force));
}

/** Governs one AI SDK tool with @airlock/sdk/ai against the server: a $20 and a $900 refund. */
const GOVERNED_AI_TOOL = `
import { readFileSync } from 'node:fs';
import { tool } from 'ai';
import { z } from 'zod';
import { createAirlock } from '@airlock/sdk';
import { governTools } from '@airlock/sdk/ai';

const [url, keysFile] = process.argv.slice(2);
const keys = JSON.parse(readFileSync(keysFile, 'utf8'));
const airlock = createAirlock({ url, apiKey: keys['support-bot-1'].key });
const refunded = [];
const tools = governTools(airlock, {
  issue_refund: tool({
    description: 'Refund money to a customer account.',
    inputSchema: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
    execute: async (refund) => {
      refunded.push(refund.amount);
      return { refunded: refund.amount, currency: refund.currency, account: refund.account_id };
    },
  }),
});
const call = (toolCallId, amount) => tools.issue_refund.execute({ account_id: 'A-' + amount, amount, currency: 'USD' }, { toolCallId, messages: [] });
const small = await call('call-20', 20);
const large = await call('call-900', 900);
await airlock.close();
console.log(JSON.stringify({ small, large, refunded }));
`;

/**
 * An agent whose `issue_refund` is governed by the installed SDK against the server, waiting for
 * a person's decision: it asks for a $75 refund (approval by a support lead), says so, and prints
 * what the tool answered and how many times the tool itself ran.
 */
const WAITING_AGENT = `
import { readFileSync } from 'node:fs';
import { createAirlock } from '@airlock/sdk';

const [url, keysFile] = process.argv.slice(2);
const keys = JSON.parse(readFileSync(keysFile, 'utf8'));
const airlock = createAirlock({ url, apiKey: keys['support-bot-1'].key });
let runs = 0;
const issueRefund = airlock.guard(
  'issue_refund',
  async (refund) => {
    runs += 1;
    return { refunded: refund.amount, currency: refund.currency, account: refund.account_id };
  },
  { approval: 'wait', approvalTimeoutMs: 300000 },
);
console.error('asking for a 75 USD refund');
const result = await issueRefund({ account_id: 'A-75', amount: 75, currency: 'USD' });
await airlock.close();
console.log(JSON.stringify({ result, runs }));
`;

/** An MCP server to put the proxy in front of. */
const UPSTREAM_MCP_SERVER = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'billing', version: '1.0.0' });
server.registerTool(
  'issue_refund',
  { description: 'Refund money to a customer account.', inputSchema: { account_id: z.string(), amount: z.number(), currency: z.string() } },
  async ({ account_id, amount, currency }) => ({ content: [{ type: 'text', text: 'refunded ' + amount + ' ' + currency + ' to ' + account_id }] }),
);
await server.connect(new StdioServerTransport());
`;

/** An MCP client starting \`npx airlock mcp-proxy\` over stdio, as an MCP host would. */
const MCP_CLIENT = `
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [policies, audit] = process.argv.slice(2);
const transport = new StdioClientTransport({
  command: 'npx',
  args: ['--no', 'airlock', 'mcp-proxy', '--policy', policies, '--agent', 'support-bot-1', '--role', 'support', '--audit', audit, '--', process.execPath, 'upstream-mcp-server.mjs'],
  env: process.env,
  stderr: 'inherit',
});
const client = new Client({ name: 'pack-install-check', version: '1.0.0' });
await client.connect(transport);
const tools = (await client.listTools()).tools.map((t) => t.name);
const small = await client.callTool({ name: 'issue_refund', arguments: { account_id: 'A-1', amount: 20, currency: 'USD' } });
const large = await client.callTool({ name: 'issue_refund', arguments: { account_id: 'A-3', amount: 900, currency: 'USD' } });
await client.close();
console.log(JSON.stringify({ tools, small, large }));
`;

describe('the packed packages, installed into a project outside the repository', { timeout: STEP_TIMEOUT_MS }, () => {
  let work: string;
  let project: string;
  let policies: string;

  beforeAll(async () => {
    work = mkdtempSync(join(realpathSync(tmpdir()), 'airlock-pack-'));
    if (work.startsWith(ROOT + sep) || work.startsWith(`${sep}work${sep}`)) throw new Error(`the temporary project must be outside the repository: ${work}`);
    const tarballs = join(work, 'tarballs');
    project = join(work, 'project');
    mkdirSync(tarballs);
    mkdirSync(project);

    // One `npm pack` for the five packages; the server's prepack bundles the built dashboard and the seed policies.
    const packed = await mustRun('npm', ['pack', '--json', '--pack-destination', tarballs, ...PACKAGES.flatMap((name) => ['-w', name])], {
      cwd: ROOT,
      env: outsideEnv({ PATH: process.env.PATH ?? '' }),
      timeoutMs: STEP_TIMEOUT_MS,
    });
    // Lifecycle output comes first; npm's JSON report starts on a line of its own.
    const files = (JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[$/m))) as { name: string; filename: string }[]).map((p) => ({ name: p.name, file: join(tarballs, p.filename) }));
    expect(files.map((f) => f.name).sort()).toEqual([...PACKAGES].sort());

    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'agent-project', private: true, type: 'module' }, null, 2)}\n`);
    await mustRun(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        // The registry's metadata from npm's cache when it has it: only what is missing is fetched.
        '--prefer-offline',
        ...files.map((f) => f.file),
        `ai@${repoVersion('ai')}`,
        `zod@${repoVersion('zod')}`,
        `@modelcontextprotocol/sdk@${repoVersion('@modelcontextprotocol/sdk')}`,
      ],
      { cwd: project, timeoutMs: INSTALL_TIMEOUT_MS },
    );
    policies = join(project, 'node_modules', '@airlock', 'server', 'seed-policies');
    writeFileSync(join(project, 'governed-ai-tool.mjs'), GOVERNED_AI_TOOL);
    writeFileSync(join(project, 'upstream-mcp-server.mjs'), UPSTREAM_MCP_SERVER);
    writeFileSync(join(project, 'waiting-agent.mjs'), WAITING_AGENT);
    writeFileSync(join(project, 'mcp-client.mjs'), MCP_CLIENT);
  }, INSTALL_TIMEOUT_MS + 2 * STEP_TIMEOUT_MS);

  // Deleting the installed project (tens of thousands of files) took over a minute on a loaded
  // machine, past the default hook timeout: asynchronous, with the install's own allowance.
  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  }, STEP_TIMEOUT_MS * 5);

  it('installs real copies inside the project: no symlinks, one copy of each Airlock package and of ai', () => {
    const nodeModules = join(project, 'node_modules');
    expect(symlinksUnder(nodeModules)).toEqual([]);
    for (const name of [...PACKAGES, 'ai']) expect(copiesOf(nodeModules, name), name).toEqual([join(nodeModules, name)]);
    expect(readdirSync(policies).sort()).toEqual(['customer-support.yaml', 'devops.yaml', 'finance.yaml', 'saas-workflow.yaml']);
  });

  it('npx airlock start serves /healthz and the dashboard page and its assets; npx airlock backup copies its database', async () => {
    const server = await startServer(project, join(work, 'data-start'));
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).not.toContain('has not been built');
      const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      const asset = await fetch(`${server.url}${script}`);
      expect(asset.status).toBe(200);
      expect(server.output()).toContain('policies: the example bundle, stored and activated as version 1');
      // The installed CLI backs the running server's database up, and the copy verifies.
      const backup = await mustRun('npx', ['--no', 'airlock', 'backup', '--db', join(work, 'data-start', 'airlock.db'), '--to', join(work, 'start-backup.db')], { cwd: project });
      expect(backup.stdout).toMatch(/its audit chain verifies: \d+ records, head [0-9a-f]{64}/);
    } finally {
      await stopGroup(server.child);
    }
  });

  it('npx airlock eval decides lines against the shipped example policies', async () => {
    const line = (amount: number): string =>
      JSON.stringify({ agent: 'bot', role: 'support', environment: 'production', tool: 'issue_refund', args: { account_id: 'A-17', amount, currency: 'USD' } });
    const result = await mustRun('npx', ['--no', 'airlock', 'eval', '--policy', policies], { cwd: project, input: `${line(20)}\n${line(900)}\n` });
    const decisions = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { effect: string; rule: string });
    expect(decisions.map((d) => `${d.effect} ${d.rule}`)).toEqual(['allow refund-small', 'block refund-large']);
  });

  it('npx airlock init scaffolds a policy folder whose own tests and check pass out of the box', async () => {
    const created = await mustRun('npx', ['--no', 'airlock', 'init'], { cwd: project });
    expect(created.stdout).toContain('policies');
    const tested = await mustRun('npx', ['--no', 'airlock', 'policy', 'test'], { cwd: project });
    expect(tested.stdout).toMatch(/\d+ passed, 0 failed/);
    await mustRun('npx', ['--no', 'airlock', 'policy', 'check'], { cwd: project });
    // The scaffold's $schema= lines point at schema files that shipped with it.
    const policy = readFileSync(join(project, 'airlock', 'policies', 'my-agent.yaml'), 'utf8');
    const schemaRef = /\$schema=(\S+)/.exec(policy)?.[1];
    expect(schemaRef).toBeDefined();
    expect(existsSync(join(project, 'airlock', 'policies', schemaRef as string))).toBe(true);
  });

  it('@airlock/sdk/ai governs an AI SDK tool against the installed server: the $20 refund runs, the $900 one is refused', async () => {
    const dataDir = join(work, 'data-sdk');
    const server = await startServer(project, dataDir);
    try {
      const result = await mustRun(process.execPath, ['governed-ai-tool.mjs', server.url, join(dataDir, 'demo-keys.json')], { cwd: project });
      const outcome = JSON.parse(result.stdout) as { small: unknown; large: unknown; refunded: number[] };
      expect(outcome.small).toEqual({ refunded: 20, currency: 'USD', account: 'A-20' });
      expect(outcome.large).toMatchObject({ airlock: 'blocked', rule: 'refund-large' });
      expect(outcome.refunded).toEqual([20]);
    } finally {
      await stopGroup(server.child);
    }
  });

  it('npx airlock mcp-proxy answers tools/list and governs tools/call for an MCP client over stdio', async () => {
    const result = await mustRun(process.execPath, ['mcp-client.mjs', policies, join(work, 'mcp-audit.jsonl')], { cwd: project });
    const outcome = JSON.parse(result.stdout) as { tools: string[]; small: { content: { text: string }[] }; large: { isError?: boolean; content: { text: string }[] } };
    expect(outcome.tools).toEqual(['issue_refund']);
    expect(outcome.small.content[0]?.text).toBe('refunded 20 USD to A-1');
    expect(outcome.large.isError).toBe(true);
    expect(JSON.parse(outcome.large.content[0]?.text ?? '{}')).toMatchObject({ airlock: 'blocked', rule: 'refund-large' });
  });

  it('airlock login, then airlock approvals approve: the $75 refund an SDK-governed agent waits on runs, once', async () => {
    const dataDir = join(work, 'data-approve');
    const server = await startServer(project, dataDir);
    // The person's configuration lives in the temporary directory: the user's own is never touched.
    const home = join(work, 'home');
    mkdirSync(home);
    const personEnv = outsideEnv({ HOME: home, XDG_CONFIG_HOME: join(home, '.config') });
    const agent = spawn(process.execPath, ['waiting-agent.mjs', server.url, join(dataDir, 'demo-keys.json')], { cwd: project, env: outsideEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let agentOut = '';
    let agentErr = '';
    agent.stdout.on('data', (chunk: Buffer) => (agentOut += chunk.toString('utf8')));
    agent.stderr.on('data', (chunk: Buffer) => (agentErr += chunk.toString('utf8')));
    const agentExit = new Promise<number | null>((resolve) => agent.once('close', resolve));
    try {
      const login = await mustRun('npx', ['--no', 'airlock', 'login', '--url', server.url, '--user', 'admin', '--password-stdin'], {
        cwd: project,
        env: personEnv,
        input: `${ADMIN_PASSWORD}\n`,
      });
      expect(login.stdout).toContain('Signed in');
      const credentials = join(home, '.config', 'airlock', 'credentials.json');
      expect(statSync(credentials).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(readFileSync(credentials, 'utf8')) as { url: string; token: string };
      expect(stored.url).toBe(server.url);
      expect(stored.token).toMatch(/^apt_/);
      expect(readFileSync(credentials, 'utf8')).not.toContain(ADMIN_PASSWORD);

      // The agent is waiting once its approval is listed (each listing is a fresh CLI run: no timing assumed).
      type Listed = { id: string; status: string; agent: string; tool: string; args: { amount?: number } };
      let pending: Listed | undefined;
      for (let attempt = 0; attempt < 60 && pending === undefined; attempt++) {
        const listed = await mustRun('npx', ['--no', 'airlock', 'approvals', 'list', '--json'], { cwd: project, env: personEnv });
        pending = (JSON.parse(listed.stdout) as Listed[]).find((a) => a.tool === 'issue_refund' && a.args.amount === 75);
        if (pending === undefined && agent.exitCode !== null) break;
      }
      expect(pending, `no pending approval listed; the agent said:\n${agentErr}`).toMatchObject({ status: 'pending', agent: 'support-bot-1' });
      expect(agentOut).toBe(''); // still waiting: the tool has not answered

      const approved = await mustRun('npx', ['--no', 'airlock', 'approvals', 'approve', (pending as Listed).id, '--reason', 'customer was double charged'], { cwd: project, env: personEnv });
      expect(approved.stdout).toContain(`Approved ${(pending as Listed).id}`);

      expect(await agentExit, agentErr).toBe(0);
      expect(JSON.parse(agentOut)).toEqual({ result: { refunded: 75, currency: 'USD', account: 'A-75' }, runs: 1 });
      const shown = await mustRun('npx', ['--no', 'airlock', 'approvals', 'show', (pending as Listed).id, '--json'], { cwd: project, env: personEnv });
      expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'redeemed', resolvedBy: 'admin', resolutionReason: 'customer was double charged' });
    } finally {
      if (agent.exitCode === null) agent.kill('SIGKILL');
      await stopGroup(server.child);
    }
  });
});
