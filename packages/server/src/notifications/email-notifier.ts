import nodemailer, { type Transporter } from 'nodemailer';
import { escapeHtml } from '../http/html.js';
import { alertText, DeliveryError, describeNeed, headline, isAlert, type AlertNotification, type ApprovalNotification, type Notification, type Notifier } from './notifier.js';

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  user?: string | undefined;
  password?: string | undefined;
}

/** The email for one notification: a plain-text body and the same in HTML, with the action links. */
export function emailMessage(notification: ApprovalNotification): { subject: string; text: string; html: string } {
  const { approval, links } = notification;
  const subject = headline(notification);
  const lines = [
    `${approval.agent} (${approval.role}, ${approval.environment}) wants to run ${approval.tool}.`,
    `Why: ${approval.reason}`,
    `Rule: ${approval.rule ?? 'risk tier / default'}`,
    `Status: ${approval.status}; ${describeNeed(approval)}`,
    ...(approval.deadlineAt ? [`${approval.onTimeout === 'escalate' ? 'Escalates' : 'Times out'} at ${approval.deadlineAt}`] : []),
    `Expires at ${approval.expiresAt}`,
    '',
    'Arguments:',
    JSON.stringify(approval.args, null, 2),
  ];
  const actions = links ? ['', `Approve: ${links.approve}`, `Deny: ${links.deny}`, '', 'Each link works once.'] : [];
  const text = [...lines, ...actions, '', `Airlock approval ${approval.id}`].join('\n');
  const html = [
    `<p><strong>${escapeHtml(approval.agent)}</strong> (${escapeHtml(approval.role)}, ${escapeHtml(approval.environment)}) wants to run <code>${escapeHtml(approval.tool)}</code>.</p>`,
    `<p>${escapeHtml(approval.reason)}</p>`,
    '<ul>',
    `<li>Rule: ${escapeHtml(approval.rule ?? 'risk tier / default')}</li>`,
    `<li>Status: ${escapeHtml(approval.status)}; ${escapeHtml(describeNeed(approval))}</li>`,
    ...(approval.deadlineAt ? [`<li>${approval.onTimeout === 'escalate' ? 'Escalates' : 'Times out'} at ${escapeHtml(approval.deadlineAt)}</li>`] : []),
    `<li>Expires at ${escapeHtml(approval.expiresAt)}</li>`,
    '</ul>',
    `<pre>${escapeHtml(JSON.stringify(approval.args, null, 2))}</pre>`,
    ...(links ? [`<p><a href="${escapeHtml(links.approve)}">Approve</a> · <a href="${escapeHtml(links.deny)}">Deny</a> (each link works once)</p>`] : []),
    `<p><small>Airlock approval ${escapeHtml(approval.id)}</small></p>`,
  ].join('\n');
  return { subject, text, html };
}

/** The email for an anomaly alert. */
export function alertEmail(notification: AlertNotification): { subject: string; text: string; html: string } {
  const { title, lines, id } = alertText(notification);
  const text = [...lines, '', `Airlock ${notification.event} ${id}`].join('\n');
  const html = [...lines.map((line) => `<p>${escapeHtml(line)}</p>`), `<p><small>Airlock ${notification.event} ${escapeHtml(id)}</small></p>`].join('\n');
  return { subject: title, text, html };
}

/** Email over SMTP with nodemailer: one message per attempt to the notification's recipients. */
export class EmailNotifier implements Notifier {
  readonly kind = 'email' as const;
  private readonly transport: Transporter;

  constructor(
    readonly name: string,
    smtp: SmtpSettings,
    private readonly from: string,
    timeoutMs: number,
  ) {
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTLS,
      ...(smtp.user !== undefined ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  async send(notification: Notification, signal: AbortSignal): Promise<{ statusCode?: number }> {
    if (!notification.to || notification.to.length === 0) throw new DeliveryError('no recipients', { retryable: false });
    signal.throwIfAborted();
    const message = isAlert(notification) ? alertEmail(notification) : emailMessage(notification);
    const subjectHeader = isAlert(notification) ? { 'X-Airlock-Alert': alertText(notification).id } : { 'X-Airlock-Approval': notification.approval.id };
    try {
      await this.transport.sendMail({
        from: this.from,
        to: notification.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { ...subjectHeader, 'X-Airlock-Delivery': notification.deliveryId },
      });
      return {};
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      // SMTP 4xx replies are transient, 5xx permanent; no reply at all (connection trouble) is worth a retry.
      throw new DeliveryError(`SMTP: ${error instanceof Error ? error.message : String(error)}`, { retryable: code === undefined || code < 500, statusCode: code, cause: error });
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
