import { decisionRisk, parseDuration, pauseCovers, type Decision, type PauseScope, type PolicyRef } from '@airlock/core';
import type { AuditWriter } from '../audit/writer.js';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { PauseRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AgentIdentity } from './agents.js';
import type { EventBus } from './events.js';
import { KeyedLock, type Locks } from './keyed-lock.js';
import type { PolicyService } from './policies.js';

export type { PauseScope };

interface PauseInput {
  scope: PauseScope;
  target?: string | undefined;
  reason: string;
  kind?: 'manual' | 'quarantine';
  /** A timed pause: when it ends by itself (epoch ms, in the future)… */
  endsAt?: number | undefined;
  /** …or how long after its creation (ms). */
  forMs?: number | undefined;
}

export interface PauseView {
  id: string;
  scope: PauseScope;
  /** The agent, role or tool; null for the fleet. */
  target: string | null;
  kind: 'manual' | 'quarantine';
  reason: string;
  createdBy: string;
  createdAt: string;
  resumedBy: string | null;
  resumedAt: string | null;
  /** A timed pause: when it ends by itself (then `resumedBy` is `system`). Null: until resumed. */
  endsAt: string | null;
  active: boolean;
}

/** A quarantine that just paused an agent: what the notification channels are told. */
export interface QuarantineNotice {
  id: string;
  at: string;
  agent: string;
  pause: PauseView;
  summary: string;
}

export interface PauseServiceOptions {
  /** Names this process in `pause.applied` records. */
  instance: string;
  /** Re-reads the active pauses this often (ms), in case a pause event was missed. Default 1 s. */
  syncMs?: number;
  locks?: Locks;
  logError: (message: string) => void;
}

/**
 * The kill switch. Active pauses live in the database and, for the hot path, in a map in every
 * instance: a decision checks it first, synchronously, and a paused call is `block` with code
 * `paused` before any policy runs. An instance applies a pause when it is created here, when the
 * event of another instance's pause arrives, or at the latest at its next re-read of the table
 * (every second), and records that moment (`pause.applied`, with its instance name): from then
 * on it issues no allow in that scope. Resuming is an audited act of a person, or, for a timed
 * pause, of the clock: from `ends_at` on no instance refuses a call for it (each compares its own
 * clock on the hot path), and the first re-read after it records the end (`pause.resumed`, by
 * `system`, `expired: true`).
 */
export class PauseService {
  private readonly active = new Map<string, PauseRow>();
  private readonly locks: Locks;
  private timer: NodeJS.Timeout | undefined;
  private readonly quarantineListeners: ((notice: QuarantineNotice) => void)[] = [];
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly events: EventBus,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
    private readonly options: PauseServiceOptions,
  ) {
    this.locks = options.locks ?? new KeyedLock();
    events.subscribe(['pause'], () => {
      this.sync().catch((error: unknown) => options.logError(`applying a pause failed: ${String(error)}`));
    });
  }

  /** Loads the active pauses and keeps re-reading them. */
  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => {
      this.sync().catch((error: unknown) => this.options.logError(`re-reading pauses failed: ${String(error)}`));
    }, this.options.syncMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs whenever this instance's set of active pauses changed (edge streams forward it). */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** The active pauses that stop some or all calls of this agent: the fleet, it, its role, any tool. */
  activeFor(identity: Pick<AgentIdentity, 'agent' | 'role'>): PauseView[] {
    return [...this.active.values()].filter((row) => this.inForce(row) && (row.scope === 'tool' || pauseCovers(row, identity))).map(view);
  }

  private changed(): void {
    this.tell(this.changeListeners, undefined, 'pause listener');
  }

  /** Runs each listener; one that throws is logged and does not stop the others. */
  private tell<T>(listeners: Iterable<(value: T) => void>, value: T, what: string): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        this.options.logError(`${what} failed: ${String(error)}`);
      }
    }
  }

  onQuarantine(listener: (notice: QuarantineNotice) => void): void {
    this.quarantineListeners.push(listener);
  }

  /** The pause that stops this call, if any: the hot path, synchronous and allocation-free when nothing is paused. */
  check(identity: Pick<AgentIdentity, 'agent' | 'role'>, tool: string): PauseRow | undefined {
    if (this.active.size === 0) return undefined;
    return (
      this.inForce(this.active.get('fleet:')) ??
      this.inForce(this.active.get(`agent:${identity.agent}`)) ??
      this.inForce(this.active.get(`role:${identity.role}`)) ??
      this.inForce(this.active.get(`tool:${tool}`))
    );
  }

  /** The row, unless its time is up (the clock is read only for a timed pause). */
  private inForce(row: PauseRow | undefined): PauseRow | undefined {
    return row && (row.ends_at === null || !isOver(row, this.clock.now())) ? row : undefined;
  }

  /** A refusal for a paused call, shaped like every decision. */
  decision(pause: PauseRow, policy: PolicyRef): Decision {
    const message = `${describe(pause)} paused by ${pause.created_by}: ${pause.reason}`;
    return {
      effect: 'block',
      rule: null,
      reason: message,
      decidedBy: 'pause',
      matched: [],
      limits: [],
      risk: decisionRisk(0, 'low', 'block', false),
      flagged: false,
      policy,
      error: { code: 'paused', message },
    };
  }

  list(filter: { active?: boolean }): Promise<PauseView[]> {
    return this.store.listPauses(filter, 500).then((rows) => rows.map(view));
  }

  async pause(actor: string, input: PauseInput): Promise<PauseView> {
    return (await this.open(actor, input)).pause;
  }

  /** Creates the pause of a scope, or finds the one already in force (`created: false`). */
  private open(actor: string, input: PauseInput): Promise<{ pause: PauseView; created: boolean }> {
    const target = input.scope === 'fleet' ? '' : (input.target ?? '');
    if (input.scope !== 'fleet' && target === '') throw new AirlockError('invalid_request', `a ${input.scope} pause names the ${input.scope}`);
    if (input.endsAt !== undefined && input.endsAt <= this.clock.now()) throw new AirlockError('invalid_request', 'a timed pause ends in the future');
    if (input.forMs !== undefined && !(input.forMs > 0)) throw new AirlockError('invalid_request', 'a timed pause lasts a positive time');
    return this.locks.run(`pause:${input.scope}:${target}`, async () => {
      let existing = (await this.store.listPauses({ active: true }, 500)).find((row) => row.scope === input.scope && row.target === target);
      if (existing && isOver(existing, this.clock.now())) {
        // Its time is up but no instance has recorded the end yet: record it, then pause anew.
        await this.end('system', existing.id, true);
        existing = undefined;
      }
      if (existing) return { pause: view(existing), created: false };
      const at = this.clock.now();
      const row: PauseRow = {
        id: newId('pau'),
        scope: input.scope,
        target,
        kind: input.kind ?? 'manual',
        reason: input.reason,
        created_by: personOf(actor),
        created_at: at,
        resumed_by: null,
        resumed_at: null,
        ends_at: input.forMs !== undefined ? at + input.forMs : (input.endsAt ?? null),
      };
      await this.writer.append([
        { record: { type: 'pause.created', at, actor, agent: input.scope === 'agent' ? target : null, tool: input.scope === 'tool' ? target : null, data: { ...view(row) } }, writes: [{ kind: 'pause.insert', row }] },
      ]);
      await this.apply(row);
      this.events.publish({ type: 'pause', data: { id: row.id } });
      return { pause: view(row), created: true };
    });
  }

  async resume(actor: string, id: string): Promise<PauseView> {
    return this.end(actor, id, false);
  }

  /** Resumes a pause once (under its lock: one of several instances records it). */
  private end(actor: string, id: string, expired: boolean): Promise<PauseView> {
    return this.locks.run(`resume:${id}`, async () => {
      const row = await this.store.getPause(id);
      if (!row) throw notFound(`pause ${id}`);
      if (row.resumed_at !== null) return view(row);
      // An expired pause ended at its end time, whenever an instance gets to record it.
      const at = expired && row.ends_at !== null ? row.ends_at : this.clock.now();
      const data = { pause: id, scope: row.scope, target: row.target || null, ...(expired ? { expired: true } : {}) };
      await this.writer.append([
        { record: { type: 'pause.resumed', at, actor, agent: row.scope === 'agent' ? row.target : null, data }, writes: [{ kind: 'pause.resume', id, by: personOf(actor), at }] },
      ]);
      const resumed = { ...row, resumed_by: personOf(actor), resumed_at: at };
      if (this.active.get(key(row))?.id === row.id) this.active.delete(key(row));
      this.changed();
      this.events.publish({ type: 'pause', data: { id } });
      return view(resumed);
    });
  }

  /**
   * Counts the agent's blocked decisions in the window of the strictest `quarantine` of the
   * policies that decided the call; at the threshold, pauses the agent (kind quarantine) and tells
   * the listeners (notification channels). Counted in the audit trail, so across instances. The
   * count starts again when a person resumes a pause of the agent (its own, its role's, the
   * fleet's): the blocks that led to a quarantine, and the paused calls, do not count twice.
   */
  async observeBlock(identity: Pick<AgentIdentity, 'agent' | 'role'>, decision: Decision): Promise<void> {
    if (decision.effect !== 'block' || decision.decidedBy === 'pause' || this.active.has(`agent:${identity.agent}`)) return;
    const setting = this.policies.quarantineFor(decision.policy.policies);
    if (!setting) return;
    // Strictly after the resume: a block stamped in the resume's own millisecond is taken as before it.
    const since = Math.max(this.clock.now() - setting.withinMs, (await this.lastResumeOf(identity)) + 1);
    const blocked = await this.store.countBlocked(identity.agent, since);
    if (blocked < setting.blocks) return;
    await this.quarantine(identity.agent, `${blocked} blocked calls within ${setting.within} (quarantine: ${setting.blocks} in ${setting.within}, policy ${setting.policy})`);
  }

  /**
   * Pauses an agent as a quarantine (automatic: blocks, an anomaly) and notifies; a no-op when it
   * is already paused. The pause's own lock makes one caller the creator, so one notice is sent.
   */
  async quarantine(agent: string, reason: string): Promise<PauseView | undefined> {
    const { pause, created } = await this.open('system', { scope: 'agent', target: agent, reason, kind: 'quarantine' });
    if (!created) return undefined;
    const notice: QuarantineNotice = { id: newId('qrn'), at: new Date(this.clock.now()).toISOString(), agent, pause, summary: `${agent} was quarantined: ${reason}` };
    await this.writer.append([{ record: { type: 'agent.quarantined', at: this.clock.now(), actor: 'system', agent, data: { ...notice } } }]);
    this.tell(this.quarantineListeners, notice, 'quarantine listener');
    return pause;
  }

  /** When a pause that stopped all of this agent's calls was last resumed (0: never, among the latest 500 pauses). */
  private async lastResumeOf(identity: Pick<AgentIdentity, 'agent' | 'role'>): Promise<number> {
    let latest = 0;
    for (const row of await this.store.listPauses({}, 500)) {
      if (row.resumed_at !== null && pauseCovers(row, identity)) latest = Math.max(latest, Number(row.resumed_at));
    }
    return latest;
  }

  /** Brings the map in line with the table; records when this instance applied each new pause. */
  private async sync(): Promise<void> {
    const listed = await this.store.listPauses({ active: true }, 500);
    const now = this.clock.now();
    for (const row of listed) if (isOver(row, now)) await this.end('system', row.id, true);
    const rows = listed.filter((row) => !isOver(row, now));
    const current = new Set(rows.map(key));
    let removed = false;
    for (const [k] of this.active) {
      if (!current.has(k)) {
        this.active.delete(k);
        removed = true;
      }
    }
    if (removed) this.changed();
    // By id: a scope resumed and paused again on another instance between two reads is a new pause.
    for (const row of rows) if (this.active.get(key(row))?.id !== row.id) await this.apply(row);
  }

  private async apply(row: PauseRow): Promise<void> {
    if (this.active.get(key(row))?.id === row.id) return;
    this.active.set(key(row), row);
    this.changed();
    const at = this.clock.now();
    await this.writer.append([{ record: { type: 'pause.applied', at, actor: 'system', data: { pause: row.id, instance: this.options.instance } } }]);
  }
}

/**
 * Who paused or resumed, as people read it: the username (`alice`, as approvals name their
 * approvers), or `system` for a quarantine. The audit record keeps the full actor (`user:alice`).
 */
function personOf(actor: string): string {
  return actor.startsWith('user:') ? actor.slice('user:'.length) : actor;
}

/** Whether a timed pause has reached its end (a pause without one never does). */
function isOver(row: Pick<PauseRow, 'ends_at'>, now: number): boolean {
  return row.ends_at !== null && row.ends_at <= now;
}

function key(row: Pick<PauseRow, 'scope' | 'target'>): string {
  return `${row.scope}:${row.target}`;
}

function describe(row: Pick<PauseRow, 'scope' | 'target'>): string {
  return row.scope === 'fleet' ? 'The whole fleet is' : `${row.scope[0]?.toUpperCase()}${row.scope.slice(1)} ${row.target} is`;
}

export function view(row: PauseRow): PauseView {
  return {
    id: row.id,
    scope: row.scope as PauseScope,
    target: row.target === '' ? null : row.target,
    kind: row.kind as PauseView['kind'],
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    resumedBy: row.resumed_by,
    resumedAt: row.resumed_at === null ? null : new Date(Number(row.resumed_at)).toISOString(),
    endsAt: row.ends_at === null ? null : new Date(Number(row.ends_at)).toISOString(),
    active: row.resumed_at === null,
  };
}

/** A policy's `quarantine` setting, with its window in milliseconds. */
export interface QuarantineSetting {
  policy: string;
  /** The roles the policy applies to. */
  roles: string[];
  blocks: number;
  within: string;
  withinMs: number;
  onAnomaly: boolean;
}

export function quarantineSetting(
  policy: string,
  roles: string[],
  setting: { blocks: number; within: string; onAnomaly?: boolean | undefined } | undefined,
): QuarantineSetting | undefined {
  if (!setting) return undefined;
  const withinMs = parseDuration(setting.within);
  return withinMs === undefined ? undefined : { policy, roles, blocks: setting.blocks, within: setting.within, withinMs, onAnomaly: setting.onAnomaly ?? false };
}
