import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../notifications/webhook-notifier.js';
import type { AuditRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditFeed } from './audit-feed.js';
import { recordView } from './audit.js';

/** Where and how the audit trail is pushed (AIRLOCK_AUDIT_WEBHOOK_*). */
export interface AuditWebhookConfig {
  url: string;
  /** HMAC key of the signature (the notification webhooks' scheme). */
  secret: string;
  /** Names the stored progress; a new name starts from the first record. Default `default`. */
  name?: string;
  /** Records per POST. Default 100. */
  batchSize?: number;
  /** A POST not answered within this long failed. Default 10 s. */
  timeoutMs?: number;
  /** First retry delay; doubles per failure of the same batch, jittered. Default 500 ms. */
  minDelayMs?: number;
  /** Retry delays stop growing here. Default 60 s. */
  maxDelayMs?: number;
  /** An instance that stops renewing its lease (crash) is taken over after this long. Default 30 s. */
  leaseMs?: number;
}

/** The event header and body `event` of a forwarded batch. */
export const AUDIT_WEBHOOK_EVENT = 'audit.records';

export interface AuditForwarderStatus {
  name: string;
  /** The receiver's origin (the URL's path and query may hold a token: not shown). */
  destination: string;
  /** The last seq the receiver acknowledged, as stored. */
  acknowledged: number | null;
  /** Whether this instance forwards now (holds the lease). */
  forwarding: boolean;
  /** Failed POSTs of the batch being sent now. */
  failures: number;
  lastError: string | null;
}

/**
 * Pushes the audit trail to a webhook, in order, in signed batches, resuming after the last
 * acknowledged seq (stored in the database) after a restart:
 *
 * - A batch is the records after the acknowledged seq. It is POSTed until the receiver answers
 *   2xx, retried with exponential backoff and jitter (capped), for ever: the forwarder never skips
 *   a record and never sends past an unacknowledged batch. A failed batch is resent as it was.
 * - Only after the acknowledgement is stored is the next batch sent. So the only duplicates a
 *   receiver can see are a resend of a batch whose acknowledgement did not reach the database
 *   (the 2xx was lost or timed out, or the process died between the 2xx and the write); every
 *   record carries its seq, and receivers drop seqs they already have. A graceful shutdown lets
 *   the POST in flight finish and records its acknowledgement first.
 * - Several instances: one forwards at a time, holding a lease in the same row (renewed while it
 *   works, given up at shutdown, taken over when it lapses). Acknowledgements are fenced by it.
 */
export class AuditForwarder {
  private readonly holder = randomUUID();
  private readonly name: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly leaseMs: number;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private holding = false;
  private acknowledged: number | null = null;
  private failures = 0;
  private lastError: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly feed: AuditFeed,
    private readonly clock: Clock,
    private readonly config: AuditWebhookConfig,
    private readonly options: { logError: (message: string) => void; random?: () => number },
  ) {
    checkAuditWebhook(config);
    this.name = config.name ?? 'default';
    this.batchSize = config.batchSize ?? 100;
    this.timeoutMs = config.timeoutMs ?? 10_000;
    this.minDelayMs = config.minDelayMs ?? 500;
    this.maxDelayMs = config.maxDelayMs ?? 60_000;
    this.leaseMs = config.leaseMs ?? 30_000;
  }

  start(): void {
    this.running ??= this.run().catch((error: unknown) => this.options.logError(`audit forwarder stopped: ${describe(error)}`));
  }

  /** Lets the POST in flight finish and its acknowledgement be stored, then gives the lease up. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  status(): AuditForwarderStatus {
    return {
      name: this.name,
      destination: new URL(this.config.url).origin,
      acknowledged: this.acknowledged,
      forwarding: this.holding,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    const release = this.feed.follow();
    try {
      while (!this.stopped) {
        let cursor: number | undefined;
        try {
          cursor = (await this.lease())?.seq;
        } catch (error) {
          this.options.logError(`audit forwarder: taking the lease failed: ${describe(error)}`);
        }
        if (cursor === undefined) {
          await this.sleep(Math.max(50, Math.floor(this.leaseMs / 3)));
          continue;
        }
        this.holding = true;
        this.acknowledged = cursor;
        try {
          await this.forward(cursor);
        } finally {
          this.holding = false;
        }
      }
    } finally {
      release();
      await this.store.releaseAuditForwarder(this.name, this.holder).catch((error: unknown) => this.options.logError(`audit forwarder: giving the lease up failed: ${describe(error)}`));
    }
  }

  private lease(): Promise<{ seq: number } | undefined> {
    const now = Date.now();
    return this.store.leaseAuditForwarder(this.name, this.holder, now, now + this.leaseMs);
  }

  /** Sends batch after batch while this instance holds the lease; returns when it lost it or stops. */
  private async forward(from: number): Promise<void> {
    let cursor = from;
    let renewAt = Date.now() + this.leaseMs / 3;
    let gapLogged = false;
    const renew = async (): Promise<boolean> => {
      if (Date.now() < renewAt) return true;
      const held = await this.lease().catch((error: unknown) => {
        this.options.logError(`audit forwarder: renewing the lease failed: ${describe(error)}`);
        return undefined;
      });
      // Store down: stop sending; taking the lease again decides who forwards.
      if (!held) return false;
      renewAt = Date.now() + this.leaseMs / 3;
      return true;
    };
    while (!this.stopped) {
      const { rows, gap } = await this.feed.read(cursor, this.batchSize).catch((error: unknown) => {
        this.options.logError(`audit forwarder: reading the trail failed: ${describe(error)}`);
        return { rows: [] as AuditRow[], gap: undefined };
      });
      if (rows.length === 0) {
        if (gap !== undefined && !gapLogged) {
          gapLogged = true;
          this.options.logError(`audit forwarder: record ${gap} is missing from the audit trail while later records exist; waiting, never skipping it (GET /v1/audit/verify)`);
        }
        if (!(await renew())) return;
        await this.feed.changed(Math.max(50, Math.floor(this.leaseMs / 3)), this.stopping.signal);
        continue;
      }
      gapLogged = false;
      const delivered = await this.deliver(rows, renew);
      if (delivered === 'lost') return;
      const last = rows[rows.length - 1] as AuditRow;
      // The next batch waits until this acknowledgement is durable.
      for (let attempt = 1; ; attempt++) {
        try {
          const now = Date.now();
          if (!(await this.store.ackAuditForwarder(this.name, this.holder, last.seq, now, now + this.leaseMs))) {
            this.options.logError(`audit forwarder: another instance took over before records up to ${last.seq} were recorded as acknowledged; it resends them`);
            return;
          }
          break;
        } catch (error) {
          this.options.logError(`audit forwarder: recording the acknowledgement of ${last.seq} failed: ${describe(error)}`);
          // Stopping with an unrecorded acknowledgement: the next start resends this batch.
          if (this.stopped) return;
          await this.sleep(this.backoff(attempt));
        }
      }
      renewAt = Date.now() + this.leaseMs / 3;
      cursor = last.seq;
      this.acknowledged = cursor;
    }
  }

  /** POSTs one batch until it is acknowledged; 'lost' when the lease is lost or the forwarder stops first. */
  private async deliver(rows: readonly AuditRow[], renew: () => Promise<boolean>): Promise<'acknowledged' | 'lost'> {
    const first = rows[0] as AuditRow;
    const last = rows[rows.length - 1] as AuditRow;
    const delivery = `${this.name}:${first.seq}-${last.seq}`;
    const body = JSON.stringify({ id: delivery, event: AUDIT_WEBHOOK_EVENT, first: first.seq, last: last.seq, records: rows.map(recordView) });
    for (let attempt = 1; ; attempt++) {
      if (this.stopped || !(await renew())) return 'lost';
      const failure = await this.post(body, delivery);
      if (failure === undefined) {
        this.failures = 0;
        this.lastError = null;
        return 'acknowledged';
      }
      this.failures = attempt;
      this.lastError = failure;
      const delay = this.backoff(attempt);
      // Logged at the first failure and then sparingly: a receiver down for hours must not flood the log.
      if (attempt === 1 || attempt % 10 === 0) this.options.logError(`audit forwarder: delivery ${delivery} failed (attempt ${attempt}): ${failure}; retrying in ${delay} ms`);
      await this.sleep(delay);
    }
  }

  /** One signed POST; the failure in words, or undefined when answered 2xx. Not cut short by stop(). */
  private async post(body: string, delivery: string): Promise<string | undefined> {
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    try {
      const response = await fetch(this.config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: webhookSignature(this.config.secret, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
          [DELIVERY_HEADER]: delivery,
          [EVENT_HEADER]: AUDIT_WEBHOOK_EVENT,
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return `cannot reach ${new URL(this.config.url).origin}: ${describe(error instanceof Error && error.cause instanceof Error ? error.cause : error)}`;
    }
  }

  /** Exponential backoff with equal jitter: half the capped delay, plus up to as much again at random. */
  private backoff(attempt: number): number {
    const capped = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(attempt - 1, 30));
    const random = this.options.random ?? Math.random;
    return Math.round(capped / 2 + (random() * capped) / 2);
  }

  /** Waits `ms`, or less when the forwarder stops. */
  private sleep(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Refuses a configuration the forwarder could not work with (the server does not start). */
export function checkAuditWebhook(config: AuditWebhookConfig): void {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new Error(`invalid AIRLOCK_AUDIT_WEBHOOK_URL: ${config.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`invalid AIRLOCK_AUDIT_WEBHOOK_URL: ${url.protocol} (http or https)`);
  if (typeof config.secret !== 'string' || config.secret.length < 16) {
    throw new Error('AIRLOCK_AUDIT_WEBHOOK_SECRET must be set (16 characters or more) with AIRLOCK_AUDIT_WEBHOOK_URL: every batch is signed with it');
  }
  if (config.name !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(config.name)) throw new Error(`invalid AIRLOCK_AUDIT_WEBHOOK_NAME: ${config.name} (letters, digits, _ . -)`);
  if (config.batchSize !== undefined && (!Number.isInteger(config.batchSize) || config.batchSize < 1 || config.batchSize > 1000)) {
    throw new Error(`invalid AIRLOCK_AUDIT_WEBHOOK_BATCH: ${config.batchSize} (1 to 1000)`);
  }
}
