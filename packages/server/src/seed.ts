import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approverGroups, parseBundle, readPolicySources } from '@airlock/core';
import { newSecret } from './ids.js';
import type { Services } from './services/services.js';

const SEED_BUNDLE = 'examples';
export const DEMO_KEYS_FILE = 'demo-keys.json';

/** One demo agent per seed role, all in production. */
export const DEMO_AGENTS = [
  { id: 'support-bot-1', role: 'support' },
  { id: 'devops-bot-1', role: 'devops' },
  { id: 'finance-bot-1', role: 'finance' },
  { id: 'workflow-bot-1', role: 'workflow' },
] as const;

export interface DemoKey {
  agent: string;
  role: string;
  environment: string;
  key: string;
}

export interface SeedResult {
  /** Set when the admin user was created by this start; shown once. */
  admin?: { username: string; password: string; generated: boolean };
  /** Set when the demo agents were created by this start; their keys are shown once. */
  demoKeys?: DemoKey[];
  /** Set when the example policies were stored (and activated) by this start. */
  policyVersion?: number;
}

/**
 * First start: the example policies as version 1 (active), an admin user, and one demo agent per
 * role with a key. Each part is seeded only while its table is empty, so restarts change nothing.
 */
export async function seed(services: Services, options: { seedPolicies: string; adminPassword?: string | undefined; dataDir: string }): Promise<SeedResult> {
  const result: SeedResult = {};
  const sources = readPolicySources(options.seedPolicies);
  if ((await services.policies.list()).length === 0) {
    const uploaded = await services.policies.upload('system', SEED_BUNDLE, sources);
    await services.policies.activate('system', uploaded.version);
    result.policyVersion = uploaded.version;
  }
  if ((await services.auth.listUsers()).length === 0) {
    const password = options.adminPassword ?? newSecret().slice(0, 24);
    // The first admin can approve what the example policies route to any group, so a fresh
    // server is usable at once; narrow its groups (POST /v1/users/admin/groups) in production.
    const groups = approverGroups(parseBundle(sources, SEED_BUNDLE));
    await services.auth.createUser('system', { username: 'admin', password, role: 'admin', groups });
    result.admin = { username: 'admin', password, generated: options.adminPassword === undefined };
  }
  if ((await services.agents.list()).length === 0) {
    const keys: DemoKey[] = [];
    for (const demo of DEMO_AGENTS) {
      await services.agents.create('system', { id: demo.id, role: demo.role, environment: 'production' });
      const issued = await services.agents.issueKey('system', demo.id);
      keys.push({ agent: demo.id, role: demo.role, environment: 'production', key: issued.key });
    }
    const file = Object.fromEntries(keys.map((k) => [k.agent, { role: k.role, environment: k.environment, key: k.key }]));
    writeFileSync(join(options.dataDir, DEMO_KEYS_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    result.demoKeys = keys;
  }
  return result;
}
