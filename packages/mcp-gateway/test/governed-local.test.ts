import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { fixtureCommand, received, refusalOf, stdioClient, tempDir, text } from './harness.js';

interface LocalRecord {
  event: string;
  call?: { tool: string; args: Record<string, unknown> };
  decision?: { effect: string; rule: string | null };
  by?: string;
  reason?: string;
}

/** Local mode: the proxy embeds the engine over the seed policies and audits to a JSONL file. */
function local(dir: string, extra: string[] = []): string[] {
  const record = join(dir, 'received.jsonl');
  return ['--policy', join(dir, 'policies'), '--agent', 'support-bot-1', '--role', 'support', '--audit', join(dir, 'audit.jsonl'), ...extra, '--', ...fixtureCommand(record)];
}

function setup(edit: (text: string) => string = (t) => t): { dir: string; record: string; audit: () => LocalRecord[] } {
  const dir = tempDir();
  cpSync('examples/policies', join(dir, 'policies'), { recursive: true, filter: (src) => !src.includes('tests') && !src.endsWith('.ts') });
  const file = join(dir, 'policies', 'customer-support.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  const audit = (): LocalRecord[] =>
    readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LocalRecord);
  return { dir, record: join(dir, 'received.jsonl'), audit };
}

const refund = (account_id: string, amount: number) => ({ name: 'issue_refund', arguments: { account_id, amount, currency: 'USD' } });
const decisions = (records: LocalRecord[]) => records.filter((r) => r.event === 'decision').map((r) => `${r.call?.tool} ${r.decision?.effect} ${r.decision?.rule}`);

describe('local mode: the embedded engine decides, the MCP client’s user approves through elicitation', () => {
  it('runs what the policy allows, asks the user for a $75 refund, refuses the rest, and audits every call', async () => {
    const { dir, record, audit } = setup();
    const asked: string[] = [];
    const { client } = await stdioClient(local(dir), {
      elicit: (message): ElicitResult => {
        asked.push(message);
        return { action: 'accept', content: { approve: true, reason: 'double charge' } };
      },
    });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['issue_refund', 'get_account']);
    expect(text(await client.callTool(refund('A-1', 20)))).toBe('refunded 20 USD to A-1');
    expect(text(await client.callTool(refund('A-2', 75)))).toBe('refunded 75 USD to A-2');
    expect(asked).toEqual([
      'Airlock: support-bot-1 wants to call issue_refund with {"account_id":"A-2","amount":75,"currency":"USD"}. Refunds over $50 up to $500 need approval, by a support lead up to $200 and a support manager above. Allow it to run once?',
    ]);
    expect(refusalOf(await client.callTool(refund('A-3', 900)))).toMatchObject({ rule: 'refund-large' });
    expect(refusalOf(await client.callTool({ name: 'export_customers', arguments: {} }))).toMatchObject({ rule: 'export-customers' });
    expect(received(record).map((r) => r.args.account_id)).toEqual(['A-1', 'A-2']);
    const records = audit();
    expect(decisions(records)).toEqual([
      'issue_refund allow refund-small',
      'issue_refund require_approval refund-medium',
      'issue_refund block refund-large',
      'export_customers block export-customers',
    ]);
    expect(records.find((r) => r.event === 'approval.approved')).toMatchObject({ by: 'user of gateway-test', reason: 'double charge' });
  });

  const refusals: [string, ElicitResult, string][] = [
    ['the user unticks approve', { action: 'accept', content: { approve: false, reason: 'not this customer' } }, 'user of gateway-test denied issue_refund: not this customer'],
    ['the user declines the form', { action: 'decline' }, 'user of gateway-test denied issue_refund: the user chose decline'],
  ];
  it.each(refusals)('refuses the call when %s', async (_name, answer, reason) => {
    const { dir, record } = setup();
    const { client } = await stdioClient(local(dir), { elicit: () => answer });
    expect(refusalOf(await client.callTool(refund('A-2', 75)))).toMatchObject({ code: 'approval_denied', reason });
    expect(received(record)).toEqual([]);
  });

  it('refuses at once, saying why, when the client cannot ask its user (no elicitation)', async () => {
    const { dir, record } = setup();
    const { client } = await stdioClient(local(dir));
    const refused = refusalOf(await client.callTool(refund('A-2', 75)));
    expect(refused).toMatchObject({ code: 'approval_denied' });
    expect(refused.reason).toContain('does not support elicitation');
    expect(received(record)).toEqual([]);
  });
});

describe('tool names that differ between the MCP server and the policy', () => {
  // The policy calls the refund tool `refund`; the MCP server calls it `issue_refund`.
  const renamed = (text: string) => text.replace(/\bissue_refund\b/g, 'refund');
  const viaFile = (dir: string): string[] => {
    writeFileSync(join(dir, 'map.yaml'), 'issue_refund: refund\n');
    return ['--map-file', join(dir, 'map.yaml')];
  };
  const mappings: [string, (dir: string) => string[]][] = [
    ['--map', () => ['--map', 'issue_refund=refund']],
    ['--map-file', viaFile],
  ];
  it.each(mappings)('decides issue_refund as the policy tool refund with %s', async (_name, mapping) => {
    const { dir, record, audit } = setup(renamed);
    const { client } = await stdioClient(local(dir, mapping(dir)));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['issue_refund', 'get_account']);
    expect(text(await client.callTool(refund('A-1', 20)))).toBe('refunded 20 USD to A-1');
    expect(refusalOf(await client.callTool(refund('A-1', 900)))).toMatchObject({ rule: 'refund-large' });
    expect(received(record)).toEqual([{ tool: 'issue_refund', args: { account_id: 'A-1', amount: 20, currency: 'USD' } }]);
    expect(decisions(audit())).toEqual(['refund allow refund-small', 'refund block refund-large']);
  });

  it('without the mapping the tool is unknown to the policy: hidden, and every call blocked', async () => {
    const { dir, record } = setup(renamed);
    const { client } = await stdioClient(local(dir));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['get_account']);
    expect(refusalOf(await client.callTool(refund('A-1', 20)))).toMatchObject({ code: 'unknown_tool' });
    expect(received(record)).toEqual([]);
  });
});
