import type { AnomalyAlert } from '../services/anomaly-alerts.js';
import type { QuarantineNotice } from '../services/pauses.js';
import type { ApprovalView } from '../services/approval-view.js';
import type { NotifyEvent } from './config.js';

/** Approve and deny links of one message: signed, single-use, bound to the approval's current tier. */
export interface ActionLinks {
  approve: string;
  deny: string;
}

/** One message about one approval, as a channel delivers it. */
export interface ApprovalNotification {
  /** Stable across the attempts of one message (receivers can drop duplicates by it). */
  deliveryId: string;
  event: NotifyEvent;
  /** When the event happened. */
  at: string;
  approval: ApprovalView;
  /** Present when the message asks a person to act (the approval is pending). */
  links?: ActionLinks;
  /** Email only: send to these addresses (the channel's recipients, or one of them). */
  to?: string[];
}

/** One message about a fleet alert: an anomaly (anomaly-alerts.ts) or a quarantine (pauses.ts). Nothing to act on through a link. */
export type AlertNotification =
  | { deliveryId: string; event: 'anomaly'; at: string; alert: AnomalyAlert; to?: string[] }
  | { deliveryId: string; event: 'quarantine'; at: string; quarantine: QuarantineNotice; to?: string[] };

export type Notification = ApprovalNotification | AlertNotification;

export function isAlert(notification: Notification): notification is AlertNotification {
  return notification.event === 'anomaly' || notification.event === 'quarantine';
}

/** What every channel says about an alert: a subject, the lines of the body, and the id to quote. */
export function alertText(notification: AlertNotification): { title: string; lines: string[]; id: string; webhookEvent: string } {
  if (notification.event === 'quarantine') {
    const { quarantine } = notification;
    return {
      title: `Quarantined: ${quarantine.agent}`,
      lines: [quarantine.summary, `Every call of ${quarantine.agent} is blocked until a person resumes it (pause ${quarantine.pause.id}).`],
      id: quarantine.id,
      webhookEvent: 'agent.quarantined',
    };
  }
  const { alert } = notification;
  return {
    title: `Anomaly: ${alert.agent} — ${alert.anomalies.length === 1 ? (alert.anomalies[0]?.message ?? '') : `${alert.anomalies.length} unusual rates`}`,
    lines: [`${alert.agent}, ${alert.bucketStart} to ${alert.bucketEnd}:`, ...alert.anomalies.map((a) => `- ${a.message}`)],
    id: alert.id,
    webhookEvent: 'anomaly.flagged',
  };
}

/** A failed attempt; `retryable` says whether trying again may help (a 5xx, a timeout) or not (a 4xx). */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  readonly statusCode: number | undefined;

  constructor(message: string, options: { retryable: boolean; statusCode?: number | undefined; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    this.statusCode = options.statusCode;
  }
}

/**
 * One outbound channel. `send` makes exactly one attempt and resolves when the receiver accepted
 * the message, or rejects with a DeliveryError; retries, backoff and the delivery log belong to
 * the dispatcher, so every implementation gets them the same way.
 */
export interface Notifier {
  readonly name: string;
  readonly kind: 'webhook' | 'slack' | 'email';
  send(notification: Notification, signal: AbortSignal): Promise<{ statusCode?: number }>;
  close?(): Promise<void>;
}

/** Whether an HTTP status is worth another attempt: server errors, timeouts and rate limiting. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** POSTs a body and turns anything but a 2xx into a DeliveryError. */
export async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ statusCode: number }> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal, redirect: 'error' });
  } catch (error) {
    throw new DeliveryError(`cannot reach ${new URL(url).origin}: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
  }
  // Drain the body so the connection can be reused; its content is not needed.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new DeliveryError(`HTTP ${response.status}`, { retryable: retryableStatus(response.status), statusCode: response.status });
  return { statusCode: response.status };
}

/** One line about an approval, for subjects, fallback texts and headers. */
export function headline(notification: ApprovalNotification): string {
  const { approval } = notification;
  const what = `${approval.tool} for ${approval.agent}`;
  switch (notification.event) {
    case 'requested':
      return `Approval needed: ${what}`;
    case 'progress':
      return `Approval needed (${approval.approvalsRemaining} more): ${what}`;
    case 'escalated':
      return `Approval escalated to ${approval.tier}: ${what}`;
    case 'approved':
      return `Approved: ${what}`;
    case 'denied':
      return `Denied: ${what}`;
    case 'timed_out':
      return `Timed out (${approval.status === 'approved' ? 'approved by policy' : 'blocked'}): ${what}`;
    case 'expired':
      return `Expired: ${what}`;
    case 'redeemed':
      return `Carried out: ${what}`;
  }
}

/** Who may act now, in words: `tier lead (support-leads), 1 of 1 approvals still needed`. */
export function describeNeed(approval: ApprovalView): string {
  const groups = approval.approvers.length === 0 ? 'any approver' : approval.approvers.join(', ');
  return `tier ${approval.tier} (${groups}), ${approval.approvalsRemaining} of ${approval.requiredApprovals} approvals still needed`;
}
