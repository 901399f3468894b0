import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../../server/test/support/server.js';

// `npx airlock mcp-proxy`, as an MCP client starts it: the built binary.
const BIN = 'packages/cli/bin/airlock.js';

const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AIRLOCK_')));

function proxy(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, 'mcp-proxy', ...args], { input: '', encoding: 'utf8', env: clean });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Without blocking this process: the Airlock server the proxy talks to runs in it. */
function proxyAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'mcp-proxy', ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

const LOCAL = ['--policy', 'examples/policies', '--agent', 'bot', '--role', 'support'];
const SERVER = ['--', 'node', 'server.js'];

describe('airlock mcp-proxy usage', () => {
  const mistakes: [string, string[], RegExp][] = [
    ['no MCP server', LOCAL, /give the MCP server to govern/],
    ['a command and --upstream', [...LOCAL, '--upstream', 'http://127.0.0.1:1/mcp', ...SERVER], /either --upstream URL or -- <command>/],
    ['an --upstream that is not a URL', [...LOCAL, '--upstream', 'localhost'], /--upstream expects an http\(s\) URL/],
    ['no Airlock', SERVER, /give --policy DIR \(local mode\), or --url URL and --api-key KEY/],
    ['--url without a key', ['--url', 'http://127.0.0.1:1', ...SERVER], /--api-key KEY/],
    ['--policy and --url', [...LOCAL, '--url', 'http://127.0.0.1:1', ...SERVER], /either --policy .* or --url/],
    ['local mode without a role', ['--policy', 'examples/policies', '--agent', 'bot', ...SERVER], /needs --agent and --role/],
    ['--listen with --policy', [...LOCAL, '--listen', '127.0.0.1:0', ...SERVER], /--listen serves many clients/],
    ['--listen without --url', ['--listen', '127.0.0.1:0', ...SERVER], /--listen needs --url/],
    ['--listen without a port', ['--url', 'http://127.0.0.1:1', '--listen', '127.0.0.1', ...SERVER], /--listen expects host:port/],
    ['a malformed --map', [...LOCAL, '--map', 'refund', ...SERVER], /--map expects mcpTool=policyTool/],
    ['a missing --map-file', [...LOCAL, '--map-file', 'no/such/map.yaml', ...SERVER], /ENOENT/],
    ['a --map-file that is not a map', [...LOCAL, '--map-file', 'package.json', ...SERVER], /a tool map is an object of MCP tool name → policy tool name/],
    ['a bad --approval-timeout', [...LOCAL, '--approval-timeout', 'soon', ...SERVER], /--approval-timeout expects seconds/],
    ['an --upstream-header without a colon', [...LOCAL, '--upstream', 'http://127.0.0.1:1/mcp', '--upstream-header', 'token'], /--upstream-header expects 'Name: value'/],
  ];
  it.each(mistakes)('%s: exit 2 with the reason on stderr, nothing on stdout', (_name, args, message) => {
    const run = proxy(args);
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('an invalid policy: exit 2 naming the problem', () => {
    const run = proxy(['--policy', 'no/such/policies', '--agent', 'bot', '--role', 'support', ...SERVER]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('io_error');
  });

  it('an agent key the server refuses stops the proxy before it serves (exit 1); the key may come from AIRLOCK_API_KEY', async () => {
    const t = await startTestServer();
    try {
      const run = await proxyAsync(['--url', t.url, ...SERVER], { AIRLOCK_API_KEY: 'ak_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      expect(run.stderr).toContain('Airlock refused the agent key');
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
    } finally {
      await t.dispose();
    }
  });
});
