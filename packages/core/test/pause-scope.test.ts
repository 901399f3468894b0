import { describe, expect, it } from 'vitest';
import { pauseCovers } from '../src/index.js';

const bot = { agent: 'support-bot-1', role: 'support' };

describe('pauseCovers', () => {
  it.each([
    // [scope, target, tool asked about, covers]
    ['fleet', null, 'get_account', true],
    ['fleet', null, undefined, true],
    ['agent', 'support-bot-1', 'get_account', true],
    ['agent', 'support-bot-2', 'get_account', false],
    ['role', 'support', undefined, true],
    ['role', 'finance', 'get_account', false],
    ['tool', 'get_account', 'get_account', true],
    ['tool', 'get_account', 'issue_refund', false],
    // Without a tool: does the pause stop every call of the agent? A tool's pause does not.
    ['tool', 'get_account', undefined, false],
    ['unknown', 'support-bot-1', 'get_account', false],
  ] as [string, string | null, string | undefined, boolean][])('%s %s, tool %s → %s', (scope, target, tool, covers) => {
    expect(pauseCovers({ scope, target }, bot, tool)).toBe(covers);
  });
});
