import { createHash, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, compile, holdsUnstorableText, parseBundle, pauseCovers, type Engine, type PauseScope, type PolicySource, type ToolReach } from '@airlock/core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { request } from 'undici';
import { OutcomeBatcher, type ExecutionOutcome } from './outcomes.js';
import { RemoteTransport, type RemoteOptions } from './remote-transport.js';
import type { DecideOptions, Transport } from './transport.js';
import { AirlockAlreadyRanError, AirlockUnavailableError, type AirlockDecision, type ApprovalState, type ToolCall } from './types.js';

export interface EdgeSettings {
  /**
   * The SDK answers locally only while the server's edge stream beat within this many ms (it
   * beats every 500 ms); after that every call goes to the server again. Default 1500.
   */
  staleMs?: number;
  /** How often spooled allows are sent to the server. Default 100 ms. */
  flushMs?: number;
  /**
   * Directory of the spool: every local allow is written here (synchronously, before the tool
   * runs) until the server has recorded it, so a crash loses no audit record; files left by a
   * crash are sent at the next start. Default `.airlock/edge/<key digest>`; `false`: keep them in
   * memory only (faster, and a crash loses the unsent ones).
   */
  spool?: string | false;
  /** Local answers stop while this many allows wait to be recorded (server unreachable). Default 10,000. */
  maxPending?: number;
}

export interface EdgeOptions extends RemoteOptions {
  /** Edge mode: answer stateless allows in-process (see EdgeSettings); everything else as remote. */
  edge: true | EdgeSettings;
}

interface PauseLite {
  scope: PauseScope;
  target: string | null;
}

interface Identity {
  agent: string;
  role: string;
  environment: string;
}

/** What the edge answered locally and what it sent to the server, for tests and dashboards of the agent. */
export interface EdgeStats {
  local: number;
  remote: number;
  recorded: number;
}

interface KeyedAllow {
  decision: AirlockDecision;
  /** The call the key was first used for, as canonical JSON. */
  request: string;
  claim?: string;
  ranAt?: number;
}

const SPOOL_FILE = 'current.jsonl';
const IDEMPOTENCY_MAX_KEYS = 10_000;

/**
 * Edge mode (docs in the SDK README): the active policy and the pauses that concern this agent
 * arrive over `GET /v1/edge/stream`; a call the policy alone allows (no limit, no history signal,
 * nothing paused) is answered in-process and spooled, and the spool is sent to
 * `POST /v1/edge/decisions` in batches. Everything else (limits, approvals, blocks, a stale or
 * missing stream, a full spool) goes to the server exactly as in remote mode.
 */
export class EdgeTransport implements Transport {
  readonly stats: EdgeStats = { local: 0, remote: 0, recorded: 0 };
  private readonly remote: RemoteTransport;
  private readonly staleMs: number;
  private readonly maxPending: number;
  private readonly spoolDir: string | undefined;
  private spoolFd: number | undefined;
  private readonly memory: string[] = [];
  private pending = 0;
  private engine: Engine | undefined;
  private version: number | undefined;
  private identity: Identity | undefined;
  private pauses: PauseLite[] = [];
  private lastBeat = 0;
  private readonly abort = new AbortController();
  private readonly flushTimer: NodeJS.Timeout;
  /** Outcomes of the calls run (local allows and the server's answers), sent after the spooled allows they refer to. */
  private outcomes: OutcomeBatcher | undefined;
  /** The last send of the spool failed (outcomes wait for it). */
  private flushFailed = false;
  private flushing: Promise<void> | undefined;
  /** Local allows by idempotency key, with the attempt that claimed each (one run per decision). */
  private readonly keyed = new Map<string, KeyedAllow>();
  /** Keys this process sent to the server: asked again, the server's first decision is the answer. */
  private readonly keysSent = new Set<string>();
  /** Spool files of an earlier process are waiting to be sent. */
  private leftover = false;
  private closed = false;
  private readyResolve!: () => void;
  /** Resolves once the first policy has arrived (local answers are possible from then on). */
  readonly ready: Promise<void>;

  constructor(private readonly options: EdgeOptions) {
    this.remote = new RemoteTransport(options);
    const settings: EdgeSettings = options.edge === true ? {} : options.edge;
    this.staleMs = settings.staleMs ?? 1500;
    this.maxPending = settings.maxPending ?? 10_000;
    if (settings.spool !== false) {
      this.spoolDir = settings.spool ?? join('.airlock', 'edge', createHash('sha256').update(options.apiKey).digest('hex').slice(0, 16));
      mkdirSync(this.spoolDir, { recursive: true });
      // A file left by a process that crashed holds allows the server may not have: send it first.
      this.rotate();
      this.leftover = readdirSync(this.spoolDir).some((name) => name.startsWith('sent-'));
      this.spoolFd = openSync(join(this.spoolDir, SPOOL_FILE), 'a');
    }
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.flushTimer = setInterval(() => void this.flush(), settings.flushMs ?? 100);
    this.flushTimer.unref();
    void this.follow();
  }

  decideSync(call: ToolCall): AirlockDecision | undefined {
    const { engine, identity } = this;
    if (!engine || !identity || this.closed || Date.now() - this.lastBeat > this.staleMs || this.pending >= this.maxPending || this.paused(call.tool)) return undefined;
    // Text the server cannot store as sent (NUL, an unpaired surrogate) is the server's to refuse
    // (400 invalid_text): never allowed here, where its report could not be recorded as it ran.
    if (holdsUnstorableText(call.tool) || holdsUnstorableText(call.args) || holdsUnstorableText(call.session ?? '') || holdsUnstorableText(call.sessionAttributes ?? null)) return undefined;
    const at = Date.now();
    const decision = engine.statelessDecision({ ...identity, tool: call.tool, args: call.args, at, session: call.session, sessionAttributes: call.sessionAttributes });
    if (!decision || decision.effect !== 'allow') return undefined;
    const id = `edg_${randomUUID()}`;
    this.spool({ id, at, version: this.version, rule: decision.rule, call: reported(call) });
    this.stats.local++;
    return { ...decision, id, at: new Date(at).toISOString(), approval: undefined };
  }

  async decide(call: ToolCall, options: DecideOptions = {}): Promise<AirlockDecision> {
    const key = options.idempotencyKey;
    let request: string | undefined;
    let repeatOf: string | undefined;
    if (key !== undefined && this.keyed.size > 0) {
      const known = this.keyed.get(key);
      if (known) {
        request = requestOf(call);
        if (known.request !== request) {
          // A repeated id for another call (approval flows always present the same call): with
          // `repeat: decide` a new call, decided afresh in place of the stored one.
          if (options.repeat !== 'decide') throw new AirlockUnavailableError(`idempotency key ${key} was already used for a different call`, { refused: true });
        } else {
          if (known.ranAt === undefined) {
            if (options.claim !== undefined) {
              known.claim = options.claim;
              known.ranAt = Date.now();
            }
            return known.decision;
          }
          // The same attempt asking again: the same answer.
          if (options.claim !== undefined && known.claim === options.claim) return known.decision;
          if (options.repeat !== 'decide') {
            if (options.claim === undefined) return known.decision;
            // A second run of a local allow: refused, and the attempt is reported (audited `call.refused`).
            const firstRunAt = new Date(known.ranAt).toISOString();
            const id = `edg_${randomUUID()}`;
            this.spool({ id, at: Date.now(), version: this.version, rule: known.decision.rule, call: reported(call), refused: { code: 'already_ran', decision: known.decision.id, firstRunAt } });
            throw new AirlockAlreadyRanError(`the ${call.tool} call of decision ${known.decision.id} already ran at ${firstRunAt}`, known.decision.id, firstRunAt);
          }
        }
        // A new call with a repeated id: decided afresh (a new local decision, reported), or by the server.
        repeatOf = known.decision.id;
        this.keyed.delete(key);
      }
    }
    const local = key !== undefined && this.keysSent.has(key) ? undefined : this.decideSync(call);
    if (local) {
      if (key !== undefined) {
        if (repeatOf !== undefined) local.repeatOf = repeatOf;
        const entry: KeyedAllow = { decision: local, request: request ?? requestOf(call) };
        if (options.claim !== undefined) {
          entry.claim = options.claim;
          entry.ranAt = Date.now();
        }
        this.remember(key, entry);
      }
      return local;
    }
    this.stats.remote++;
    if (key !== undefined) {
      this.keysSent.add(key);
      if (this.keysSent.size > IDEMPOTENCY_MAX_KEYS) this.keysSent.delete(this.keysSent.values().next().value as string);
    }
    return this.remote.decide(call, options);
  }

  waitForApproval(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalState> {
    return this.remote.waitForApproval(approvalId, timeoutMs, signal);
  }

  redeem(approvalId: string, call: ToolCall): Promise<ApprovalState> {
    return this.remote.redeem(approvalId, call);
  }

  tools(): Promise<ToolReach[]> {
    return this.remote.tools();
  }

  recordFailOpen(call: ToolCall, error: Error): void {
    this.remote.recordFailOpen(call, error);
  }

  reportOutcome(outcome: ExecutionOutcome): void {
    if (this.options.outcomes === false || outcome.decision.at === undefined) return;
    this.outcomes ??= new OutcomeBatcher({
      // The allows spooled so far go first: the server must know a decision before its outcome.
      before: () => this.flush(true).then(() => (this.flushFailed ? Promise.reject(new Error('the spooled allows are not recorded yet')) : undefined)),
      send: (reports) => this.remote.postOutcomes(reports),
      flushMs: this.options.outcomes?.flushMs,
    });
    this.outcomes.push(outcome);
  }

  /** Stops following the server, sends what is spooled (once), closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    this.abort.abort();
    await this.flushing;
    await this.flush(true);
    await this.outcomes?.close();
    if (this.spoolFd !== undefined) closeSync(this.spoolFd);
    await this.remote.close();
  }

  private paused(tool: string): boolean {
    const identity = this.identity as Identity;
    return this.pauses.some((pause) => pauseCovers(pause, identity, tool));
  }

  /** Spools one report (synchronously, before the tool runs) until the server has recorded it. */
  private spool(report: Record<string, unknown>): void {
    // Serialised now: the tool may change its arguments object once it runs.
    const line = JSON.stringify(report);
    if (this.spoolFd !== undefined) writeSync(this.spoolFd, `${line}\n`);
    else this.memory.push(line);
    this.pending++;
  }

  private remember(key: string, decision: KeyedAllow): void {
    this.keyed.set(key, decision);
    if (this.keyed.size > IDEMPOTENCY_MAX_KEYS) this.keyed.delete(this.keyed.keys().next().value as string);
  }

  /** Follows the edge stream for as long as the transport is open, reconnecting after a drop. */
  private async follow(): Promise<void> {
    const base = this.options.url.replace(/\/+$/, '');
    let backoff = 250;
    while (!this.closed) {
      // A connection that goes quiet (a half-open TCP connection never ends by itself) is dropped
      // and opened again; meanwhile the stale beat already sends every call to the server.
      const connection = new AbortController();
      let connectedAt = Date.now();
      const watchdog = setInterval(() => {
        if (Date.now() - Math.max(this.lastBeat, connectedAt) > 2 * this.staleMs) connection.abort();
      }, this.staleMs);
      watchdog.unref();
      try {
        connectedAt = Date.now();
        const response = await request(`${base}/v1/edge/stream`, {
          headers: { authorization: `Bearer ${this.options.apiKey}`, accept: 'text/event-stream' },
          signal: AbortSignal.any([this.abort.signal, connection.signal]),
        });
        if (response.statusCode !== 200) {
          await response.body.dump();
          throw new Error(`edge stream answered ${response.statusCode}`);
        }
        backoff = 250;
        const parser = createParser({ onEvent: (message) => this.onMessage(message), onComment: () => (this.lastBeat = Date.now()) });
        for await (const chunk of response.body) parser.feed((chunk as Buffer).toString('utf8'));
      } catch {
        // Unreachable, refused, dropped or gone quiet: answers go to the server until the stream is back.
      } finally {
        clearInterval(watchdog);
      }
      this.lastBeat = 0;
      if (this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, backoff).unref());
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  private onMessage(message: EventSourceMessage): void {
    this.lastBeat = Date.now();
    const data = JSON.parse(message.data) as Record<string, unknown>;
    if (message.event === 'hello') {
      this.identity = { agent: String(data.agent), role: String(data.role), environment: String(data.environment) };
    } else if (message.event === 'policy') {
      const event = data as { version: number; bundle: string; sources: PolicySource[] };
      try {
        this.engine = compile(parseBundle(event.sources, event.bundle), { version: event.version });
        this.version = event.version;
        this.readyResolve();
      } catch {
        // A version this SDK cannot load (newer policy features): the server decides every call.
        this.engine = undefined;
      }
    } else if (message.event === 'pauses') {
      this.pauses = (data as { pauses: PauseLite[] }).pauses;
    }
  }

  /** Sends what is spooled; on failure keeps it for the next attempt. `last`: the close's one try. */
  private flush(last = false): Promise<void> {
    if (this.flushing) return last ? this.flushing.then(() => this.flush(true)) : this.flushing;
    const run = this.spoolDir ? this.flushFiles(this.spoolDir) : this.flushMemory();
    this.flushing = run
      .then(
        () => void (this.flushFailed = false),
        () => void (this.flushFailed = true),
      )
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushMemory(): Promise<void> {
    if (this.memory.length === 0) return;
    const batch = this.memory.splice(0, 500);
    try {
      await this.remote.reportEdge(`{"decisions":[${batch.join(',')}]}`);
      this.pending -= batch.length;
      this.stats.recorded += batch.length;
    } catch (error) {
      this.memory.unshift(...batch);
      throw error;
    }
  }

  private async flushFiles(dir: string): Promise<void> {
    if (this.pending === 0 && !this.leftover) return;
    if (this.pending > 0 && this.spoolFd !== undefined) {
      // New allows go to a fresh file while this one is sent.
      closeSync(this.spoolFd);
      this.rotate();
      this.spoolFd = openSync(join(dir, SPOOL_FILE), 'a');
    }
    for (const file of readdirSync(dir).filter((name) => name.startsWith('sent-')).sort()) {
      const path = join(dir, file);
      const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
      for (let i = 0; i < lines.length; i += 500) {
        const batch = lines.slice(i, i + 500);
        try {
          await this.remote.reportEdge(`{"decisions":[${batch.join(',')}]}`);
        } catch (error) {
          // Keep only what the server has not recorded, so a retry sends nothing twice.
          if (i > 0) writeFileSync(path, `${lines.slice(i).join('\n')}\n`);
          throw error;
        }
        this.stats.recorded += batch.length;
        this.pending = Math.max(0, this.pending - batch.length);
      }
      unlinkSync(path);
    }
    this.leftover = false;
  }

  /** Renames the current spool file (if any) to the next `sent-<time>-<n>.jsonl` to be sent. */
  private rotate(): void {
    const dir = this.spoolDir as string;
    try {
      renameSync(join(dir, SPOOL_FILE), join(dir, `sent-${String(Date.now()).padStart(15, '0')}-${randomUUID().slice(0, 8)}.jsonl`));
    } catch {
      // No current file yet.
    }
  }
}

/** A call as an edge report carries it. */
function reported(call: ToolCall): Record<string, unknown> {
  return { tool: call.tool, args: call.args, session: call.session, sessionAttributes: call.sessionAttributes, intent: call.intent };
}

/** What a key is bound to: the call it was first used for. */
function requestOf(call: ToolCall): string {
  try {
    return canonicalJson({ tool: call.tool, args: call.args, session: call.session ?? null });
  } catch {
    return JSON.stringify({ tool: call.tool, session: call.session ?? null });
  }
}
