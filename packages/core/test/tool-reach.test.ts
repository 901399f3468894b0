import { describe, expect, it } from 'vitest';
import { compile, loadBundle, parseBundle, type ToolReach } from '../src/index.js';

const seeds = compile(loadBundle('examples/policies'));

function reachOf(tools: ToolReach[]): Record<string, string> {
  return Object.fromEntries(tools.map((t) => [t.tool, t.reach === 'blocked' ? `blocked by ${t.rule ?? 'default/risk'}` : 'open']));
}

describe('toolsFor: which declared tools any call can reach', () => {
  it('reports the seed support policy: bulk export and ownership changes are blocked by their rules', () => {
    expect(reachOf(seeds.toolsFor('support', 'production'))).toEqual({
      change_account_owner: 'blocked by change-account-owner',
      create_ticket: 'open',
      export_customers: 'blocked by export-customers',
      get_account: 'open',
      issue_refund: 'open',
    });
    const exported = seeds.toolsFor('support').find((t) => t.tool === 'export_customers');
    expect(exported?.reason).toBe('Exporting customer lists is not allowed for agents');
  });

  it('keeps a tool open when only a conditional rule blocks it (delete_resource blocks production targets only)', () => {
    const devops = reachOf(seeds.toolsFor('devops', 'production'));
    expect(devops.delete_resource).toBe('open');
    expect(devops.modify_iam_policy).toBe('blocked by modify-iam');
    expect(devops.scale_service).toBe('open');
  });

  it('lists no tools for a role without a policy, and only the role’s own tools', () => {
    expect(seeds.toolsFor('intern')).toEqual([]);
    expect(seeds.toolsFor('finance').map((t) => t.tool)).not.toContain('issue_refund');
  });

  const policy = (body: string): string => `policy: p\nappliesTo: { roles: [r] }\ntools:\n  t:\n    args: { n: { type: number } }\n${body}`;
  const cases: [string, string, string, ToolReach['reach'], string | null][] = [
    ['default block, no rules', policy('default: block\n'), 'production', 'blocked', null],
    ['default allow, no rules', policy('default: allow\n'), 'production', 'open', null],
    ['default block, a conditional allow', policy('default: block\nrules:\n  - { id: a, tool: t, when: args.n < 5, effect: allow }\n'), 'production', 'open', null],
    ['default block, a conditional approval', policy('default: block\nrules:\n  - { id: a, tool: t, when: args.n < 5, effect: require_approval }\n'), 'production', 'open', null],
    ['default block, only block rules', policy('default: block\nrules:\n  - { id: b, tool: t, when: args.n < 5, effect: block }\n'), 'production', 'blocked', null],
    ['default allow, a conditional block', policy('default: allow\nrules:\n  - { id: b, tool: t, when: args.n < 5, effect: block }\n'), 'production', 'open', null],
    ['an unconditional block beside an allow', policy('rules:\n  - { id: a, tool: t, effect: allow }\n  - { id: b, tool: "*", effect: block }\n'), 'production', 'blocked', 'b'],
    ['unconditional risk reaching critical', policy('default: allow\nrules:\n  - { id: r, tool: t, risk: 90 }\n'), 'production', 'blocked', null],
    ['unconditional risk reaching high only', policy('default: allow\nrules:\n  - { id: r, tool: t, risk: 40 }\n'), 'production', 'open', null],
    ['conditional risk reaching critical', policy('default: allow\nrules:\n  - { id: r, tool: t, when: args.n > 1, risk: 90 }\n'), 'production', 'open', null],
    ['an environment that allows by default', policy('default: block\nenvironments:\n  dev: { default: allow }\n'), 'dev', 'open', null],
    ['an environment that disables the blocking rule', policy('default: allow\nrules:\n  - { id: b, tool: t, effect: block }\nenvironments:\n  dev: { disable: [b] }\n'), 'dev', 'open', null],
    ['the same policy outside that environment', policy('default: allow\nrules:\n  - { id: b, tool: t, effect: block }\nenvironments:\n  dev: { disable: [b] }\n'), 'production', 'blocked', 'b'],
  ];
  it.each(cases)('%s', (_name, text, environment, reach, rule) => {
    const [tool] = compile(parseBundle([{ file: 'p.yaml', text }])).toolsFor('r', environment);
    expect(tool?.reach).toBe(reach);
    expect(tool?.rule).toBe(rule);
    expect(tool?.reason === null).toBe(reach === 'open');
  });

  it('blocks a tool when any of the role’s policies blocks every call (the strictest policy wins)', () => {
    const text = `policy: open\nappliesTo: { roles: [r] }\ndefault: allow\ntools: { t: { args: {} } }\n---\npolicy: closed\nappliesTo: { roles: [r] }\ntools: { t: { args: {} } }\n`;
    const [tool] = compile(parseBundle([{ file: 'p.yaml', text }])).toolsFor('r');
    expect(tool).toMatchObject({ tool: 't', reach: 'blocked', rule: null });
    expect(tool?.reason).toContain('closed');
  });
});
