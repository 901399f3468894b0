import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../packages/sdk/README.md', import.meta.url), 'utf8');

describe('packages/sdk/README.md', () => {
  // The README quotes the examples whole, so the code it shows is the code these tests run.
  for (const file of ['connect.ts', 'support-backend.ts', 'ai-sdk.ts', 'openai-agents.ts', 'langchain.ts', 'plain.ts', 'session.ts']) {
    it(`quotes examples/sdk/${file} as it is`, () => {
      const source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8').trimEnd();
      expect(readme).toContain(`\`\`\`ts\n${source}\n\`\`\``);
    });
  }
});
