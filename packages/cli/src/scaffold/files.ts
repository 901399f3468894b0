import { jsonSchemaFiles } from '@airlock/core';
import { STARTER_POLICY, STARTER_SUITE } from './starter-policy.js';

/**
 * What `airlock init [dir]` writes, relative to `dir`. The JSON Schemas are copied into the folder
 * (generated from the installed version's zod schemas) so that the `$schema=` line of each YAML
 * file resolves offline, whether airlock was installed in the project or run once with npx.
 */

/** The folder `airlock init` creates when no directory is named, and where `airlock policy test` and `check` look by default. */
export const SCAFFOLD_DIR = 'airlock';
export const POLICIES_DIR = 'policies';
export const TESTS_DIR = 'policies/tests';
export const SCHEMAS_DIR = 'schemas';

export interface ScaffoldFile {
  /** Relative to the scaffold folder, with `/`. */
  path: string;
  text: string;
  /** Generated: rewritten by `airlock init --schemas`. */
  generated?: boolean;
}

/** `shown` is the folder as the user named it, used in the README's commands. */
export function scaffoldFiles(shown: string): ScaffoldFile[] {
  return [
    // Written first: concurrent inits into one folder race on this file alone (exclusive create).
    { path: 'README.md', text: readme(shown) },
    { path: '.gitignore', text: '# Audit files and the server database: airlock start --data-dir, SDK and mcp-proxy --audit\ndata/\n' },
    { path: `${POLICIES_DIR}/my-agent.yaml`, text: STARTER_POLICY },
    { path: `${TESTS_DIR}/my-agent.yaml`, text: STARTER_SUITE },
    ...schemaFiles(),
  ];
}

export function schemaFiles(): ScaffoldFile[] {
  return jsonSchemaFiles().map(({ file, text }) => ({ path: `${SCHEMAS_DIR}/${file}`, text, generated: true }));
}

/** The commands to run next, with the folder as the user named it. */
export function nextSteps(shown: string): string[] {
  const steps = [
    [`npx airlock policy test ${shown}/${TESTS_DIR}`, 'run the test suites'],
    [`npx airlock policy check ${shown}/${POLICIES_DIR}`, 'find gaps, overlaps and dead rules'],
  ] as const;
  const width = Math.max(...steps.map(([command]) => command.length));
  return steps.map(([command, what]) => `${command.padEnd(width)}  # ${what}`);
}

function readme(shown: string): string {
  return `# Airlock policies

Made by \`npx airlock init\`. Airlock decides every tool call of an agent before it runs: **allow**,
**require_approval** (a person decides) or **block**, by the policies in \`policies/\`.

| path | what it is |
|---|---|
| \`policies/my-agent.yaml\` | a starter policy for an agent with the role \`assistant\`: four example tools, rules, two limits |
| \`policies/tests/my-agent.yaml\` | its test suite: the decision each call must get |
| \`schemas/\` | JSON Schemas of both formats; the first line of each YAML file points at them, so an editor with YAML support (VS Code's YAML extension, any YAML language server) completes and checks them. \`npx airlock init ${shown} --schemas\` rewrites them after an upgrade |
| \`data/\` | not in git (\`.gitignore\`): audit files and the server database |

## Next steps

1. Replace the example tools with your agent's own, with a JSON Schema per argument, and write
   the rules: what runs alone, what needs a person, what never runs. Add a test case for each.
2. After every change:

   \`\`\`sh
${nextSteps(shown)
  .map((line) => `   ${line}`)
  .join('\n')}
   \`\`\`

   Both exit non-zero when a case fails or a policy has an error: run them in CI.
3. Govern the agent. In its process, with the SDK (\`@airlock/sdk\`; local mode needs no server):

   \`\`\`ts
   import { createAirlock } from '@airlock/sdk';

   const airlock = createAirlock({ policy: '${shown}/${POLICIES_DIR}', agent: 'my-agent-1', role: 'assistant', audit: '${shown}/data/audit.jsonl' });
   \`\`\`

   Or in front of an MCP server, without touching the agent:

   \`\`\`sh
   npx airlock mcp-proxy --policy ${shown}/${POLICIES_DIR} --agent my-agent-1 --role assistant --audit ${shown}/data/audit.jsonl -- <your MCP server command>
   \`\`\`

   Or with the control plane (approvals inbox, audit trail, kill switch):
   \`npx airlock start --data-dir ${shown}/data\`, then upload the files of \`policies/\` as a new
   version (dashboard, or \`POST /v1/policies\`) and activate it.
`;
}
