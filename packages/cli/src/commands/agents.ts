import type { components } from '@airlock/sdk/api';
import { table } from './approvals.js';
import { CommandFailure, withServer, type Env, type Io, type ServerClient, type ServerLoginOptions } from './server-client.js';

/**
 * `airlock agents create|list|keys list|keys rotate|keys revoke`: agents and their API keys, as an
 * admin (listing: any person). A key's secret is printed once, when it is issued; the server
 * keeps only its hash.
 */

export interface AgentCreateOptions extends ServerLoginOptions {
  role?: string;
  environment?: string;
  /** false with --no-key: register the agent without issuing a key. */
  key?: boolean;
  json?: boolean;
}

export interface KeysRotateOptions extends ServerLoginOptions {
  keepOld?: boolean;
  json?: boolean;
}

type JsonOption = ServerLoginOptions & { json?: boolean };
type KeyView = components['schemas']['ApiKey'];
type IssuedKey = components['schemas']['IssuedApiKey'];

export async function agentsListCommand(options: JsonOption, io: Io, env: Env = process.env): Promise<number> {
  return withServer(options, io, env, async (client) => {
    const { agents } = await client.call('GET', '/v1/agents', {});
    if (options.json) io.stdout.write(`${JSON.stringify(agents)}\n`);
    else if (agents.length === 0) io.stdout.write('No agents.\n');
    else io.stdout.write(table([['ID', 'ROLE', 'ENVIRONMENT', 'CREATED', 'BY'], ...agents.map((a) => [a.id, a.role, a.environment, a.createdAt, a.createdBy])]));
  });
}

export async function agentsCreateCommand(id: string, options: AgentCreateOptions, io: Io, env: Env = process.env): Promise<number> {
  if (!options.role) {
    io.stderr.write('airlock: give the agent a --role (the policies that apply to it say which)\n');
    return 2;
  }
  return withServer(options, io, env, async (client) => {
    const agent = await client.call('POST', '/v1/agents', { body: { id, role: options.role as string, ...(options.environment ? { environment: options.environment } : {}) } });
    const key = options.key === false ? undefined : await issue(client, agent.id);
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ agent, ...(key ? { key } : {}) })}\n`);
      return;
    }
    io.stdout.write(`Created agent ${agent.id} (role ${agent.role}, ${agent.environment}).\n`);
    if (key) printKey(io, key);
  });
}

export async function keysListCommand(agent: string, options: JsonOption, io: Io, env: Env = process.env): Promise<number> {
  return withServer(options, io, env, async (client) => {
    const { keys } = await client.call('GET', '/v1/agents/{id}/keys', { params: { id: agent } });
    if (options.json) io.stdout.write(`${JSON.stringify(keys)}\n`);
    else if (keys.length === 0) io.stdout.write(`${agent} has no keys.\n`);
    else io.stdout.write(table([['KEY', 'CREATED', 'BY', 'REVOKED'], ...keys.map((k) => [k.id, k.createdAt, k.createdBy, k.revokedAt ?? '-'])]));
  });
}

/** Issues a new key, then revokes the agent's other active keys (unless --keep-old, for a handover). */
export async function keysRotateCommand(agent: string, options: KeysRotateOptions, io: Io, env: Env = process.env): Promise<number> {
  return withServer(options, io, env, async (client) => {
    const { keys } = await client.call('GET', '/v1/agents/{id}/keys', { params: { id: agent } });
    const active = keys.filter((k) => k.revokedAt === null);
    let key: IssuedKey;
    let old: KeyView[];
    const revoked: KeyView[] = [];
    if (!options.keepOld && active.length === 1) {
      // One key: rotated by the server in one step (POST /v1/keys/:id/rotate), never two valid keys.
      const only = active[0] as KeyView;
      key = await client.call('POST', '/v1/keys/{id}/rotate', { params: { id: only.id } });
      old = [only];
      revoked.push({ ...only, revokedAt: key.createdAt });
    } else {
      key = await issue(client, agent);
      old = active.filter((k) => k.id !== key.id);
      if (!options.keepOld) {
        for (const k of old) revoked.push(await client.call('DELETE', '/v1/keys/{id}', { params: { id: k.id } }));
      }
    }
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ key, revoked: revoked.map((k) => k.id) })}\n`);
      return;
    }
    printKey(io, key);
    if (revoked.length > 0) io.stdout.write(`Revoked ${revoked.map((k) => k.id).join(', ')}: they stop working now.\n`);
    else if (options.keepOld && old.length > 0) io.stdout.write(`Still active: ${old.map((k) => k.id).join(', ')}; revoke with airlock agents keys revoke <key>.\n`);
  });
}

export async function keysRevokeCommand(keyId: string, options: JsonOption, io: Io, env: Env = process.env): Promise<number> {
  return withServer(options, io, env, async (client) => {
    const key = await client.call('DELETE', '/v1/keys/{id}', { params: { id: keyId } });
    io.stdout.write(options.json ? `${JSON.stringify(key)}\n` : `Revoked key ${key.id} of ${key.agent}: it stops working now.\n`);
  });
}

async function issue(client: ServerClient, agent: string): Promise<IssuedKey> {
  const key = await client.call('POST', '/v1/agents/{id}/keys', { params: { id: agent } });
  if (!key.key) throw new CommandFailure('the server answered without a key');
  return key;
}

function printKey(io: Io, key: IssuedKey): void {
  io.stdout.write(`API key ${key.id} for ${key.agent} (shown this once; store it as the agent's AIRLOCK_API_KEY):\n${key.key}\n`);
}
