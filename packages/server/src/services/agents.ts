import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Bytes, sha256Hex } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import { newSecret } from '../ids.js';
import type { AuditWriter } from '../audit/writer.js';
import type { EventBus } from './events.js';
import { KeyedLock, type Locks } from './keyed-lock.js';
import type { AgentRow, ApiKeyRow } from '../store/schema.js';
import type { Store } from '../store/store.js';

/** Who an API key speaks for. Fixed when the key is issued; a request cannot change it. */
export interface AgentIdentity {
  agent: string;
  role: string;
  environment: string;
  keyId: string;
}

export interface AgentView {
  id: string;
  role: string;
  environment: string;
  createdAt: string;
  createdBy: string;
}

/** An agent as the management screen lists it. */
export interface AgentListView extends AgentView {
  /** Keys not revoked. */
  activeKeys: number;
  /** When it last asked for a decision (read from the audit trail's agent index, not written per call). */
  lastSeen: string | null;
}

export interface KeyView {
  id: string;
  agent: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

/** `ak_<keyId>_<secret>`: the key id finds the row, the secret (256 bits) proves possession. */
const API_KEY = /^ak_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

interface CachedKey {
  identity: AgentIdentity;
  secretHash: Buffer;
}

/**
 * Agents and their API keys. Keys are high-entropy secrets, so a SHA-256 of the secret is stored
 * and checked (constant-time) on every request; a slow password hash per call would cap
 * throughput at a few dozen decisions per second.
 */
export class AgentService {
  private readonly cache = new Map<string, CachedKey>();
  /** Bumped on every revocation so a lookup that raced with one does not cache a revoked key. */
  private generation = 0;

  private readonly locks: Locks;

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly clock: Clock,
    options: { locks?: Locks | undefined; events?: EventBus | undefined } = {},
  ) {
    this.locks = options.locks ?? new KeyedLock();
    this.events = options.events;
    // A key revoked on another instance stops working here too.
    options.events?.subscribe(['key'], (event) => {
      if (event.type === 'key') this.forget(event.data.id);
    });
  }

  private readonly events: EventBus | undefined;

  /** Drops a key from the cache; a lookup racing with this one does not put it back. */
  forget(keyId: string): void {
    this.generation++;
    this.cache.delete(keyId);
  }

  /** Drops every cached key (the shared event bus reconnected: revocations may have been missed). */
  forgetAll(): void {
    this.generation++;
    this.cache.clear();
  }

  async authenticate(token: string): Promise<AgentIdentity | undefined> {
    const match = API_KEY.exec(token);
    if (!match) return undefined;
    const keyId = match[1] as string;
    let entry = this.cache.get(keyId);
    if (!entry) {
      const generation = this.generation;
      const key = await this.store.getApiKey(keyId);
      if (!key || key.revoked_at !== null) return undefined;
      const agent = await this.store.getAgent(key.agent_id);
      if (!agent) return undefined;
      entry = {
        identity: { agent: agent.id, role: agent.role, environment: agent.environment, keyId },
        secretHash: Buffer.from(key.secret_hash, 'hex'),
      };
      if (generation === this.generation) this.cache.set(keyId, entry);
    }
    const presented = sha256Bytes(match[2] as string);
    return timingSafeEqual(presented, entry.secretHash) ? entry.identity : undefined;
  }

  async create(actor: string, input: { id: string; role: string; environment: string }): Promise<AgentView> {
    if (await this.store.getAgent(input.id)) throw new AirlockError('already_exists', `agent '${input.id}' already exists`);
    const row: AgentRow = { id: input.id, role: input.role, environment: input.environment, created_at: this.clock.now(), created_by: actor };
    await this.writer.append([
      {
        record: { type: 'agent.created', at: row.created_at, actor, agent: row.id, data: { agent: row.id, role: row.role, environment: row.environment } },
        writes: [{ kind: 'agent.insert', row }],
      },
    ]);
    return agentView(row);
  }

  async list(): Promise<AgentListView[]> {
    const agents = await this.store.listAgents();
    return Promise.all(
      agents.map(async (row) => {
        const [keys, lastSeen] = await Promise.all([this.store.listApiKeys(row.id), this.store.lastDecisionAt(row.id)]);
        return {
          ...agentView(row),
          activeKeys: keys.filter((key) => key.revoked_at === null).length,
          lastSeen: lastSeen === undefined ? null : new Date(Number(lastSeen)).toISOString(),
        };
      }),
    );
  }

  /** Issues a key; the returned `key` is the only time the secret exists outside the caller. */
  async issueKey(actor: string, agentId: string): Promise<KeyView & { key: string }> {
    if (!(await this.store.getAgent(agentId))) throw notFound(`agent '${agentId}'`);
    const { row, key } = this.newKey(actor, agentId);
    await this.writer.append([
      { record: { type: 'key.created', at: row.created_at, actor, agent: agentId, data: { keyId: row.id, agent: agentId } }, writes: [{ kind: 'key.insert', row }] },
    ]);
    return { ...keyView(row), key };
  }

  /**
   * Replaces a key: revokes it and issues its successor in one audited transaction. Rotations of
   * one key are serialised (across instances with shared locks), so of concurrent rotations one
   * wins and the others are refused with `key_revoked`: never two successors. The old key is
   * refused from the next request, on every instance.
   */
  async rotateKey(actor: string, keyId: string): Promise<KeyView & { key: string; replaces: string }> {
    const rotated = await this.locks.run(`agent-key:${keyId}`, async () => {
      const old = await this.store.getApiKey(keyId);
      if (!old) throw notFound(`key '${keyId}'`);
      if (old.revoked_at !== null) throw new AirlockError('key_revoked', `key '${keyId}' was revoked or already rotated; rotate the agent's current key`);
      const { row, key } = this.newKey(actor, old.agent_id);
      const at = row.created_at;
      await this.writer.append([
        {
          record: { type: 'key.rotated', at, actor, agent: old.agent_id, data: { keyId: row.id, replaces: keyId, agent: old.agent_id } },
          writes: [
            { kind: 'key.revoke', id: keyId, at },
            { kind: 'key.insert', row },
          ],
        },
      ]);
      return { ...keyView(row), key, replaces: keyId };
    });
    this.revoked(keyId);
    return rotated;
  }

  private newKey(actor: string, agentId: string): { row: ApiKeyRow; key: string } {
    const id = randomBytes(8).toString('hex');
    const secret = newSecret();
    const row: ApiKeyRow = {
      id,
      agent_id: agentId,
      secret_hash: sha256Hex(secret),
      created_at: this.clock.now(),
      created_by: actor,
      revoked_at: null,
    };
    return { row, key: `ak_${id}_${secret}` };
  }

  private revoked(keyId: string): void {
    this.forget(keyId);
    this.events?.publish({ type: 'key', data: { id: keyId } });
  }

  async listKeys(agentId: string): Promise<KeyView[]> {
    if (!(await this.store.getAgent(agentId))) throw notFound(`agent '${agentId}'`);
    return (await this.store.listApiKeys(agentId)).map(keyView);
  }

  /** Whether a key exists and is not revoked, read from the store (also a revocation made by another instance). */
  async keyActive(keyId: string): Promise<boolean> {
    const key = await this.store.getApiKey(keyId);
    return key !== undefined && key.revoked_at === null;
  }

  async revokeKey(actor: string, keyId: string): Promise<KeyView> {
    const view = await this.locks.run(`agent-key:${keyId}`, async () => {
      const key = await this.store.getApiKey(keyId);
      if (!key) throw notFound(`key '${keyId}'`);
      if (key.revoked_at !== null) return keyView(key);
      const at = this.clock.now();
      await this.writer.append([
        { record: { type: 'key.revoked', at, actor, agent: key.agent_id, data: { keyId, agent: key.agent_id } }, writes: [{ kind: 'key.revoke', id: keyId, at }] },
      ]);
      return keyView({ ...key, revoked_at: at });
    });
    this.revoked(keyId);
    return view;
  }
}

function agentView(row: AgentRow): AgentView {
  return { id: row.id, role: row.role, environment: row.environment, createdAt: new Date(Number(row.created_at)).toISOString(), createdBy: row.created_by };
}

function keyView(row: ApiKeyRow): KeyView {
  return {
    id: row.id,
    agent: row.agent_id,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    createdBy: row.created_by,
    revokedAt: row.revoked_at === null ? null : new Date(Number(row.revoked_at)).toISOString(),
  };
}
