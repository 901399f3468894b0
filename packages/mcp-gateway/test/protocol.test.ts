import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BIN, fixtureCommand, lineReader, received, stdioClient, tempDir } from './harness.js';

/** Local mode keeps these tests free of a server: what is tested is the proxy's protocol handling. */
function localArgs(dir: string): string[] {
  return ['--policy', 'examples/policies', '--agent', 'support-bot-1', '--role', 'support', '--audit', join(dir, 'audit.jsonl')];
}

describe('the stdio proxy as a protocol peer', () => {
  it('answers malformed JSON-RPC and unknown methods with protocol errors, and keeps serving', async () => {
    const dir = tempDir();
    const record = join(dir, 'received.jsonl');
    const proxy = spawn(process.execPath, [BIN, 'mcp-proxy', ...localArgs(dir), '--', ...fixtureCommand(record)], { stdio: ['pipe', 'pipe', 'inherit'] });
    onTestFinished(() => {
      proxy.kill();
    });
    const next = lineReader(proxy.stdout);
    const send = (raw: string): void => {
      proxy.stdin.write(raw);
    };
    const answer = async (): Promise<Record<string, unknown>> => JSON.parse(await next()) as Record<string, unknown>;

    send(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/list' })}\n`);
    expect(await answer()).toMatchObject({ id: 0, error: { code: -32600, message: expect.stringContaining('not initialized') } });

    send(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`);
    expect(await answer()).toMatchObject({ id: 1, result: { serverInfo: { name: 'support-fixture' }, capabilities: { tools: {} } } });
    send(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);

    const malformed: [string, number][] = [
      ['{"jsonrpc":"2.0","id":2,"method":\n', -32700],
      ['not json at all\n', -32700],
      ['{"hello":"world"}\n', -32600],
      ['{"jsonrpc":"2.0","id":3,"method":42}\n', -32600],
    ];
    for (const [raw, code] of malformed) {
      send(raw);
      expect(await answer()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code } });
    }

    send(`${JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'no/such_method', params: {} })}\n`);
    expect(await answer()).toMatchObject({ id: 4, error: { code: -32601 } });
    send(`${JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { arguments: {} } })}\n`);
    expect(await answer()).toMatchObject({ id: 5, error: { code: -32602 } });

    send(`${JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'get_account', arguments: { account_id: 'A-1' } } })}\n`);
    expect(await answer()).toMatchObject({ id: 6, result: { content: [{ type: 'text', text: expect.stringContaining('A-1') }] } });
    expect(received(record)).toEqual([{ tool: 'get_account', args: { account_id: 'A-1' } }]);

    const exit = new Promise<number | null>((resolve) => proxy.once('exit', resolve));
    proxy.stdin.end();
    expect(await exit).toBe(0);
  });

  it('reports the MCP server crashing to the client, then exits, instead of hanging', async () => {
    const dir = tempDir();
    const record = join(dir, 'received.jsonl');
    const { client, closed, stderr } = await stdioClient([...localArgs(dir), '--', ...fixtureCommand(record)]);
    await expect(client.callTool({ name: 'get_account', arguments: { account_id: 'crash' } })).rejects.toMatchObject({
      code: -32000,
      message: expect.stringContaining('the MCP server behind the Airlock proxy has exited'),
    });
    await closed;
    expect(stderr()).toContain('the MCP server exited');
    expect(received(record)).toEqual([{ tool: 'get_account', args: { account_id: 'crash' } }]);
  });

  it('answers initialize with an error when the MCP server cannot be started', async () => {
    const dir = tempDir();
    await expect(stdioClient([...localArgs(dir), '--', join(dir, 'no-such-server')])).rejects.toThrow(/Airlock could not start the MCP server/);
  });
});
