import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadToolMapFile, parseToolMapEntries, policyToolOf } from '../src/index.js';
import { tempDir } from './harness.js';

describe('tool maps: MCP tool name → policy tool name', () => {
  it('maps listed names and leaves the rest as they are, prototype names included', () => {
    const map = parseToolMapEntries(['refund=issue_refund', 'lookup=get_account']);
    expect([policyToolOf(map, 'refund'), policyToolOf(map, 'lookup'), policyToolOf(map, 'export_customers'), policyToolOf(map, 'constructor')]).toEqual([
      'issue_refund',
      'get_account',
      'export_customers',
      'constructor',
    ]);
  });

  it.each(['refund', '=issue_refund', 'refund='])('refuses the entry %j', (entry) => {
    expect(() => parseToolMapEntries([entry])).toThrow(/mcpTool=policyTool/);
  });

  it('reads JSON and YAML files, and refuses anything but an object of names', () => {
    const dir = tempDir();
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(loadToolMapFile(file('map.json', '{"refund":"issue_refund"}'))).toEqual({ refund: 'issue_refund' });
    expect(loadToolMapFile(file('map.yaml', 'refund: issue_refund\nlookup: get_account\n'))).toEqual({ refund: 'issue_refund', lookup: 'get_account' });
    expect(() => loadToolMapFile(file('list.yaml', '- refund\n'))).toThrow(/a tool map is an object/);
    expect(() => loadToolMapFile(file('nested.yaml', 'refund: { tool: issue_refund }\n'))).toThrow(/refund/);
  });
});
