import { alertText, describeNeed, headline, isAlert, postJson, type AlertNotification, type ApprovalNotification, type Notification, type Notifier } from './notifier.js';

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks): longer texts are cut. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;

type TextObject = { type: 'plain_text'; text: string; emoji?: boolean } | { type: 'mrkdwn'; text: string };
type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text: TextObject; fields?: TextObject[] }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] }
  | { type: 'context'; elements: TextObject[] };
interface ButtonElement {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string };
  url: string;
  style?: 'primary' | 'danger';
}

/** What a Slack-compatible incoming webhook receives: a fallback `text` and Block Kit `blocks`. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/**
 * The message for one notification: a header, the call and why it needs approval, who may act
 * and by when, the arguments, and (while a person can act) Approve / Deny link buttons.
 */
export function slackMessage(notification: ApprovalNotification): SlackMessage {
  const { approval } = notification;
  const title = headline(notification);
  const fields: TextObject[] = [
    { type: 'mrkdwn', text: cut(`*Agent*\n${escape(approval.agent)} (${escape(approval.role)}, ${escape(approval.environment)})`, FIELD_MAX) },
    { type: 'mrkdwn', text: cut(`*Rule*\n${escape(approval.rule ?? 'risk tier / default')}`, FIELD_MAX) },
    { type: 'mrkdwn', text: cut(`*Who*\n${escape(describeNeed(approval))}`, FIELD_MAX) },
    { type: 'mrkdwn', text: `*Status*\n${escape(approval.status)}` },
  ];
  if (approval.deadlineAt) fields.push({ type: 'mrkdwn', text: `*${approval.onTimeout === 'escalate' ? 'Escalates' : 'Times out'}*\n${slackDate(approval.deadlineAt)}` });
  fields.push({ type: 'mrkdwn', text: `*Expires*\n${slackDate(approval.expiresAt)}` });
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title, HEADER_MAX), emoji: false } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: cut(`*${escape(approval.agent)}* wants to run \`${escape(approval.tool)}\`\n>${escape(approval.reason)}`, SECTION_MAX) },
      fields,
    },
    { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${cut(escape(JSON.stringify(approval.args, null, 2)), SECTION_MAX - 6)}\`\`\`` } },
  ];
  if (notification.links) {
    blocks.push({
      type: 'actions',
      block_id: `airlock_${approval.id}`.slice(0, 255),
      elements: [
        { type: 'button', action_id: 'airlock_approve', text: { type: 'plain_text', text: 'Approve' }, url: notification.links.approve, style: 'primary' },
        { type: 'button', action_id: 'airlock_deny', text: { type: 'plain_text', text: 'Deny' }, url: notification.links.deny, style: 'danger' },
      ],
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(`Airlock approval ${approval.id} · ${notification.event}`, FIELD_MAX) }] });
  return { text: title, blocks };
}

/** The message for an anomaly alert: what is unusual, per series, and where to look. */
export function slackAlert(notification: AlertNotification): SlackMessage {
  const { title, lines, id } = alertText(notification);
  return {
    text: title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(title, HEADER_MAX), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(lines.map(escape).join('\n'), SECTION_MAX) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: cut(`Airlock ${notification.event} ${id}`, FIELD_MAX) }] },
    ],
  };
}

/** Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat…). */
export class SlackNotifier implements Notifier {
  readonly kind = 'slack' as const;

  constructor(
    readonly name: string,
    private readonly url: string,
  ) {}

  send(notification: Notification, signal: AbortSignal): Promise<{ statusCode?: number }> {
    return postJson(this.url, JSON.stringify(isAlert(notification) ? slackAlert(notification) : slackMessage(notification)), {}, signal);
  }
}

/** Slack's three control characters in mrkdwn. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Shown in each reader's own time zone, with the UTC time as the fallback. */
function slackDate(iso: string): string {
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time}|${iso}>`;
}
