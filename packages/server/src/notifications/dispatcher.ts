import pRetry, { AbortError } from 'p-retry';
import { parseDuration } from '@airlock/core';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { ApprovalEventKind } from '../services/approvals.js';
import type { ApprovalView } from '../services/approval-view.js';
import type { NotificationDeliveryRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { ACTION_EVENTS, ALERT_EVENTS, NOTIFY_EVENTS, resolveSecret, type ChannelConfig, type NotificationConfig } from './config.js';
import { EmailNotifier } from './email-notifier.js';
import type { LinkSigner } from './links.js';
import { alertText, DeliveryError, isAlert, type AlertNotification, type ApprovalNotification, type Notification, type Notifier } from './notifier.js';
import type { AnomalyAlert } from '../services/anomaly-alerts.js';
import type { QuarantineNotice } from '../services/pauses.js';
import { SlackNotifier } from './slack-notifier.js';
import { WebhookNotifier } from './webhook-notifier.js';

/** A delivery attempt as the API shows it. */
export interface DeliveryView {
  id: string;
  deliveryId: string;
  approvalId: string;
  channel: string;
  kind: string;
  event: string;
  attempt: number;
  outcome: 'delivered' | 'failed';
  statusCode: number | null;
  error: string | null;
  at: string;
  nextAttemptAt: string | null;
}

interface Channel {
  config: ChannelConfig;
  notifier: Notifier;
  events: ReadonlySet<string>;
}

export interface DispatcherOptions {
  config: NotificationConfig;
  store: Store;
  clock: Clock;
  signer: LinkSigner;
  /** Where `secretEnv` / `passwordEnv` are looked up. */
  env: Record<string, string | undefined>;
  logError: (message: string) => void;
  /** Replaces the channels built from the configuration (tests, custom transports). */
  notifiers?: Notifier[];
}

/** Where a link points, the token in its query; the page it opens is served by routes/links.ts. */
export const LINK_PATH = '/v1/approval-links?token=';

/**
 * Sends approval notifications to the configured channels, routed by approver group and event,
 * with signed single-use approve/deny links. Each message is retried with exponential backoff
 * while failures are transient (network, 5xx, 429); every attempt is written to the delivery log.
 * Notifying never holds up an approval: delivery runs after the transition has committed.
 */
export class NotificationDispatcher {
  private readonly channels: Channel[];
  private readonly inflight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private publicUrl: string | undefined;
  private readonly retry: { attempts: number; minMs: number; maxMs: number; factor: number };
  private readonly timeoutMs: number;

  constructor(private readonly options: DispatcherOptions) {
    const { config } = options;
    this.publicUrl = config.publicUrl?.replace(/\/+$/, '');
    this.timeoutMs = parseDuration(config.timeout) as number;
    this.retry = {
      attempts: config.retry.attempts,
      minMs: parseDuration(config.retry.minDelay) as number,
      maxMs: parseDuration(config.retry.maxDelay) as number,
      factor: config.retry.factor,
    };
    this.channels = config.channels.map((channel) => ({
      config: channel,
      notifier: options.notifiers?.find((n) => n.name === channel.name) ?? this.build(channel),
      events: new Set(channel.events ?? [...(channel.kind === 'webhook' ? NOTIFY_EVENTS : ACTION_EVENTS), ...(channel.groups === undefined ? ALERT_EVENTS : [])]),
    }));
  }

  /** The base URL of links, when the configuration does not set one: known once the server listens. */
  useServerUrl(url: string): void {
    this.publicUrl ??= url.replace(/\/+$/, '');
  }

  /** The ApprovalListener: queues a message for every channel that serves the approval's groups and this event. */
  readonly approvalChanged = (kind: ApprovalEventKind, view: ApprovalView): void => {
    if (this.stopping.signal.aborted) return;
    for (const channel of this.channels) {
      if (!channel.events.has(kind) || !servesGroups(channel.config, view)) continue;
      for (const notification of this.messages(channel, kind, view)) this.track(channel, notification);
    }
  };

  /** The AlertListener: queues an anomaly alert for every channel that takes alerts. */
  readonly alert = (alert: AnomalyAlert): void => {
    this.sendAlert('anomaly', (base) => ({ ...base, event: 'anomaly', alert }));
  };

  /** Tells every channel that takes them that an agent was quarantined. */
  readonly quarantined = (quarantine: QuarantineNotice): void => {
    this.sendAlert('quarantine', (base) => ({ ...base, event: 'quarantine', quarantine }));
  };

  private sendAlert(event: 'anomaly' | 'quarantine', build: (base: { deliveryId: string; at: string; to?: string[] }) => AlertNotification): void {
    if (this.stopping.signal.aborted) return;
    const at = new Date(this.options.clock.now()).toISOString();
    for (const channel of this.channels) {
      if (!channel.events.has(event)) continue;
      const config = channel.config;
      this.track(channel, build({ deliveryId: newId('ntf'), at, ...(config.kind === 'email' ? { to: config.to.map((r) => (typeof r === 'string' ? r : r.address)) } : {}) }));
    }
  }

  private track(channel: Channel, notification: Notification): void {
    const delivery = this.deliver(channel, notification).catch((error: unknown) => {
      this.options.logError(`notification ${notification.deliveryId} to ${channel.config.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.inflight.add(delivery);
    void delivery.finally(() => this.inflight.delete(delivery));
  }

  async deliveries(filter: { approvalId?: string }, limit: number): Promise<DeliveryView[]> {
    return (await this.options.store.listDeliveries(filter, limit)).map(deliveryView);
  }

  /** Resolves once every message queued so far has been delivered or given up on (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Stops retrying, waits for attempts in flight, closes the transports. Retries not yet made are dropped. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.settled();
    await Promise.all(this.channels.map((c) => c.notifier.close?.()));
  }

  private build(channel: ChannelConfig): Notifier {
    const env = this.options.env;
    switch (channel.kind) {
      case 'webhook':
        return new WebhookNotifier(channel.name, channel.url, resolveSecret(channel.secret, channel.secretEnv, env, `channel ${channel.name}`) as string, this.options.clock);
      case 'slack':
        return new SlackNotifier(channel.name, channel.url);
      case 'email':
        return new EmailNotifier(
          channel.name,
          { ...channel.smtp, password: resolveSecret(channel.smtp.password, channel.smtp.passwordEnv, env, `channel ${channel.name}`) },
          channel.from,
          this.timeoutMs,
        );
    }
  }

  /**
   * The messages one channel gets for one event. While a person can act, each carries its own
   * approve/deny links. Email in one-click mode sends each recipient mapped to a user a message
   * whose links act as that user; everyone else shares one message with sign-in links.
   */
  private messages(channel: Channel, kind: ApprovalEventKind, view: ApprovalView): ApprovalNotification[] {
    const at = new Date(this.options.clock.now()).toISOString();
    const actionable = view.status === 'pending' && (ACTION_EVENTS as readonly string[]).includes(kind);
    const message = (user?: string, to?: string[]): ApprovalNotification => ({
      deliveryId: newId('ntf'),
      event: kind,
      at,
      approval: view,
      ...(actionable ? { links: { approve: this.link(view, 'approve', user), deny: this.link(view, 'deny', user) } } : {}),
      ...(to ? { to } : {}),
    });
    const config = channel.config;
    if (config.kind !== 'email') return [message()];
    const recipients = config.to.map((r) => (typeof r === 'string' ? { address: r, user: undefined } : r));
    if (this.options.config.links.mode !== 'one-click' || !actionable) return [message(undefined, recipients.map((r) => r.address))];
    const personal = recipients.filter((r) => r.user !== undefined);
    const shared = recipients.filter((r) => r.user === undefined).map((r) => r.address);
    return [...personal.map((r) => message(r.user, [r.address])), ...(shared.length > 0 ? [message(undefined, shared)] : [])];
  }

  private link(view: ApprovalView, action: 'approve' | 'deny', user: string | undefined): string {
    const token = this.options.signer.sign({ approval: view.id, action, tier: view.tierIndex, expiresAt: Date.parse(view.expiresAt), ...(user ? { user } : {}) });
    return `${this.publicUrl ?? ''}${LINK_PATH}${token}`;
  }

  private async deliver(channel: Channel, notification: Notification): Promise<void> {
    const { attempts, minMs, maxMs, factor } = this.retry;
    const log = async (attempt: number, error: unknown, retriesLeft: number): Promise<void> => {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(String(error), { retryable: false });
      const willRetry = failure.retryable && retriesLeft > 0 && !this.stopping.signal.aborted;
      const now = this.options.clock.now();
      await this.record(channel, notification, attempt, 'failed', failure.statusCode, failure.message, willRetry ? now + Math.min(maxMs, minMs * factor ** (attempt - 1)) : null);
    };
    await pRetry(
      async (attempt) => {
        let statusCode: number | undefined;
        try {
          ({ statusCode } = await channel.notifier.send(notification, AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timeoutMs)])));
        } catch (error) {
          if (error instanceof DeliveryError && error.retryable) throw error;
          // Not worth another attempt (a 4xx, a bad configuration): logged here, since p-retry reports no AbortError.
          await log(attempt, error, 0);
          throw new AbortError(error instanceof Error ? error : String(error));
        }
        await this.record(channel, notification, attempt, 'delivered', statusCode, null, null);
      },
      {
        retries: attempts - 1,
        factor,
        minTimeout: minMs,
        maxTimeout: maxMs,
        signal: this.stopping.signal,
        unref: true,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => log(attemptNumber, error, retriesLeft),
        shouldRetry: ({ error }) => error instanceof DeliveryError && error.retryable,
      },
    );
  }

  private async record(
    channel: Channel,
    notification: Notification,
    attempt: number,
    outcome: 'delivered' | 'failed',
    statusCode: number | undefined,
    error: string | null,
    nextAttemptAt: number | null,
  ): Promise<void> {
    const row: NotificationDeliveryRow = {
      id: newId('dlv'),
      delivery_id: notification.deliveryId,
      // The column names what the message is about: an approval, or an anomaly alert (`anm_…`).
      approval_id: isAlert(notification) ? alertText(notification).id : notification.approval.id,
      channel: channel.config.name,
      kind: channel.config.kind,
      event: notification.event,
      attempt,
      outcome,
      status_code: statusCode ?? null,
      error: error === null ? null : error.slice(0, 1000),
      at: this.options.clock.now(),
      next_attempt_at: nextAttemptAt,
    };
    try {
      await this.options.store.recordDelivery(row);
    } catch (failure) {
      this.options.logError(`delivery log unavailable: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
  }
}

/** A channel without `groups` hears about every approval; otherwise about those whose current tier names one of its groups. */
function servesGroups(channel: ChannelConfig, view: ApprovalView): boolean {
  return channel.groups === undefined || channel.groups.some((group) => view.approvers.includes(group));
}

function deliveryView(row: NotificationDeliveryRow): DeliveryView {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    approvalId: row.approval_id,
    channel: row.channel,
    kind: row.kind,
    event: row.event,
    attempt: row.attempt,
    outcome: row.outcome as DeliveryView['outcome'],
    statusCode: row.status_code,
    error: row.error,
    at: new Date(Number(row.at)).toISOString(),
    nextAttemptAt: row.next_attempt_at === null ? null : new Date(Number(row.next_attempt_at)).toISOString(),
  };
}
