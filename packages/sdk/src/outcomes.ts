import { createHash } from 'node:crypto';
import { storableText } from '@airlock/core';
import type { AirlockDecision } from './types.js';

/** Longest error message reported; the rest is cut. */
export const MAX_ERROR_MESSAGE = 1000;
/** Largest result text reported for a tool whose policy records results (`recordResult: true`). */
export const MAX_RESULT_CONTENT = 4096;

/**
 * What happened when a governed call ran, as the guard saw it: captured on the tool's path with
 * nothing but two clock reads and an object (the digest, the error's text and the wire format are
 * made later, off that path, by `outcomeReport`).
 */
export interface ExecutionOutcome {
  decision: AirlockDecision;
  tool: string;
  /** Epoch ms when the call started. */
  startedAt: number;
  durationMs: number;
  ok: boolean;
  /** The tool's result (ok) or what it threw. */
  value: unknown;
  /** A result that is a failure in the tool's own terms (an MCP result with `isError`). */
  failure?: { class: string; message: string } | undefined;
}

/** An outcome as POST /v1/outcomes takes it (and the local audit file records it). */
export interface OutcomeReport {
  decisionId: string;
  decidedAt: string;
  status: 'succeeded' | 'failed';
  at: number;
  durationMs: number;
  error?: { class: string; message: string };
  result?: { digest: string; size: number; content?: string; truncated?: boolean };
}

/** The report of one captured outcome: the error's class and message (cut), the result's SHA-256 and size. */
export function outcomeReport(outcome: ExecutionOutcome): OutcomeReport {
  const { decision } = outcome;
  const durationMs = Math.round(outcome.durationMs * 1000) / 1000;
  const base = { decisionId: decision.id, decidedAt: decision.at ?? '', at: Math.round(outcome.startedAt + outcome.durationMs), durationMs };
  if (!outcome.ok) return { ...base, status: 'failed', error: errorOf(outcome.value) };
  const result = resultOf(outcome.value, decision.recordResult === true);
  if (outcome.failure) return { ...base, status: 'failed', error: { class: storableText(outcome.failure.class.slice(0, 128)), message: storableText(outcome.failure.message.slice(0, MAX_ERROR_MESSAGE)) }, ...(result ? { result } : {}) };
  return { ...base, status: 'succeeded', ...(result ? { result } : {}) };
}

function errorOf(thrown: unknown): { class: string; message: string } {
  // A cut through a surrogate pair, or a NUL in the text, is made storable (the server refuses neither in a report, but stores U+FFFD).
  if (thrown instanceof Error) return { class: storableText((thrown.name || thrown.constructor.name || 'Error').slice(0, 128)), message: storableText(thrown.message.slice(0, MAX_ERROR_MESSAGE)) };
  let message: string;
  try {
    message = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    message = String(thrown);
  }
  return { class: typeof thrown, message: storableText(message.slice(0, MAX_ERROR_MESSAGE)) };
}

/** SHA-256 and size of the result's JSON text; undefined for a result with none (undefined, a function, a cycle). */
function resultOf(value: unknown, withContent: boolean): OutcomeReport['result'] {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  const result: NonNullable<OutcomeReport['result']> = { digest: createHash('sha256').update(text).digest('hex'), size: Buffer.byteLength(text) };
  if (withContent) {
    result.content = storableText(text.slice(0, MAX_RESULT_CONTENT));
    if (text.length > MAX_RESULT_CONTENT) result.truncated = true;
  }
  return result;
}

export interface OutcomeBatcherOptions {
  /** Sends one batch (one POST); throws to keep it for the next attempt. */
  send: (reports: OutcomeReport[]) => Promise<void>;
  /** Runs before each send (edge mode: its spooled decisions go first, so the server knows them). */
  before?: () => Promise<void>;
  /** How long an outcome waits for its batch. Default 200 ms. */
  flushMs?: number;
  /** A batch is sent as soon as it has this many. Default 500 (the server's limit). */
  maxBatch?: number;
  /** Most outcomes kept while the server cannot be reached; the oldest are dropped (counted) beyond. Default 10,000. */
  maxBuffered?: number;
}

/**
 * Remote and edge mode: outcomes are pushed onto an array on the tool's path and sent in batches
 * off it, one POST per batch, every `flushMs` (an unref'd timer: it never keeps the process alive),
 * at once when a batch is full, and on close.
 */
export class OutcomeBatcher {
  /** Outcomes sent and recorded or refused by the server, dropped (buffer full), and batches that failed. */
  readonly stats = { sent: 0, dropped: 0, failedBatches: 0 };
  private buffer: ExecutionOutcome[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;

  constructor(private readonly options: OutcomeBatcherOptions) {
    this.flushMs = options.flushMs ?? 200;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBuffered = options.maxBuffered ?? 10_000;
  }

  /** On the tool's path: one push, and a timer armed if none is. */
  push(outcome: ExecutionOutcome): void {
    this.buffer.push(outcome);
    if (this.buffer.length >= this.maxBatch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      setImmediate(() => void this.flush());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /**
   * Sends what is buffered now (in batches); resolves when done or failed (what failed stays
   * buffered). Outcomes pushed while it sends wait for their own timer: a flush that went on
   * sending them would post each call's outcome alone as soon as the previous POST returns, one
   * POST per call beside every decide (what bench:sdk measured: remote decide p50 ×3.8).
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.buffer.length > 0 ? this.flush() : undefined));
    this.flushing = this.sendAll(this.buffer.length).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Stops the timer and sends what is buffered, and what is reported meanwhile, until none is left or a batch fails. */
  async close(): Promise<void> {
    for (;;) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      const failed = this.stats.failedBatches;
      await this.flush();
      if (this.buffer.length === 0 || this.stats.failedBatches !== failed) return;
    }
  }

  /** Sends the first `count` outcomes buffered, at most `maxBatch` per POST. */
  private async sendAll(count: number): Promise<void> {
    while (count > 0 && this.buffer.length > 0) {
      const batch = this.buffer.splice(0, Math.min(count, this.maxBatch));
      count -= batch.length;
      try {
        await this.options.before?.();
        await this.options.send(batch.map(outcomeReport));
        this.stats.sent += batch.length;
      } catch {
        this.stats.failedBatches++;
        this.buffer.unshift(...batch);
        const over = this.buffer.length - this.maxBuffered;
        if (over > 0) {
          this.buffer.splice(0, over);
          this.stats.dropped += over;
        }
        if (!this.timer && this.buffer.length > 0) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            void this.flush();
          }, this.flushMs * 5);
          this.timer.unref();
        }
        return;
      }
    }
  }
}
