import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.js';
import { alertText, isAlert, postJson, type Notification, type Notifier } from './notifier.js';

/** Header names of a signed webhook. */
export const SIGNATURE_HEADER = 'x-airlock-signature';
export const TIMESTAMP_HEADER = 'x-airlock-timestamp';
export const DELIVERY_HEADER = 'x-airlock-delivery';
export const EVENT_HEADER = 'x-airlock-event';

/**
 * `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` under the channel's secret. The timestamp
 * (Unix seconds, also sent as a header) is signed too, so a receiver can refuse old replays.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Generic webhook: the approval (or the anomaly alert) as JSON, signed, one POST per attempt. */
export class WebhookNotifier implements Notifier {
  readonly kind = 'webhook' as const;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {}

  async send(notification: Notification, signal: AbortSignal): Promise<{ statusCode?: number }> {
    const event = isAlert(notification) ? alertText(notification).webhookEvent : `approval.${notification.event}`;
    const body = JSON.stringify(
      isAlert(notification)
        ? notification.event === 'anomaly'
          ? { id: notification.deliveryId, event, at: notification.at, alert: notification.alert }
          : { id: notification.deliveryId, event, at: notification.at, quarantine: notification.quarantine }
        : {
            id: notification.deliveryId,
            event,
            at: notification.at,
            approval: notification.approval,
            ...(notification.links ? { links: notification.links } : {}),
          },
    );
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    return postJson(
      this.url,
      body,
      {
        [SIGNATURE_HEADER]: webhookSignature(this.secret, timestamp, body),
        [TIMESTAMP_HEADER]: timestamp,
        [DELIVERY_HEADER]: notification.deliveryId,
        [EVENT_HEADER]: event,
      },
      signal,
    );
  }
}
