import { readFileSync } from 'node:fs';
import { parseDuration } from '@airlock/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** What happens to an approval that a channel can be told about. */
export const NOTIFY_EVENTS = ['requested', 'progress', 'escalated', 'approved', 'denied', 'timed_out', 'expired', 'redeemed'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** The events that ask a person to act; chat and email channels get these unless told otherwise. */
export const ACTION_EVENTS: readonly NotifyEvent[] = ['requested', 'progress', 'escalated'];

/**
 * Fleet alerts, not about one approval: `anomaly` (anomaly-alerts.ts) and `quarantine` (pauses.ts). Channels without `groups`
 * get them by default; a channel that serves approver groups only when its `events` name them.
 */
export const ALERT_EVENTS = ['anomaly', 'quarantine'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

const channelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ - (max 64)');
const httpUrl = z.url({ protocol: /^https?$/ });

const base = {
  name: channelName,
  /** Approver groups this channel serves: it hears about approvals whose current tier names one. Absent: every approval. */
  groups: z.array(z.string().min(1)).min(1).optional(),
  events: z.array(z.enum([...NOTIFY_EVENTS, ...ALERT_EVENTS])).min(1).optional(),
};

/** A secret given inline or by the name of an environment variable that holds it. */
const secretFields = {
  secret: z.string().min(16).optional(),
  secretEnv: z.string().min(1).optional(),
};

export const webhookChannelSchema = z
  .strictObject({ ...base, kind: z.literal('webhook'), url: httpUrl, ...secretFields })
  .refine((c) => (c.secret === undefined) !== (c.secretEnv === undefined), { message: 'a webhook signs with `secret` or `secretEnv` (one of them)' });

export const slackChannelSchema = z.strictObject({ ...base, kind: z.literal('slack'), url: httpUrl });

const recipient = z.union([
  z.email(),
  z.strictObject({
    address: z.email(),
    /** The Airlock user this address belongs to: in one-click mode their links act as them. */
    user: z.string().min(1).optional(),
  }),
]);

export const emailChannelSchema = z.strictObject({
  ...base,
  kind: z.literal('email'),
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send unless the connection is upgraded to TLS. */
    requireTLS: z.boolean().default(false),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    passwordEnv: z.string().min(1).optional(),
  }),
  from: z.string().min(3),
  to: z.array(recipient).min(1),
});

export const channelSchema = z.discriminatedUnion('kind', [webhookChannelSchema, slackChannelSchema, emailChannelSchema]);

export const notificationConfigSchema = z
  .strictObject({
    /** Base URL people reach the server at, for links; default: the address the server listens on. */
    publicUrl: httpUrl.optional(),
    links: z
      .strictObject({
        /**
         * `login` (default): a link opens a page that needs a signed-in session, and acts as that
         * person. `one-click`: links mailed to a recipient mapped to a user act as that user
         * without a session (the signed, single-use token is the credential).
         */
        mode: z.enum(['login', 'one-click']).default('login'),
      })
      .default({ mode: 'login' }),
    retry: z
      .strictObject({
        /** Attempts per message, the first included. */
        attempts: z.number().int().min(1).max(20).default(5),
        /** Wait before the first retry; each next wait is `factor` times longer, up to `maxDelay`. */
        minDelay: z.string().default('1s'),
        maxDelay: z.string().default('5m'),
        factor: z.number().min(1).max(10).default(2),
      })
      .default({ attempts: 5, minDelay: '1s', maxDelay: '5m', factor: 2 }),
    /** Per attempt. */
    timeout: z.string().default('10s'),
    channels: z.array(channelSchema).default([]),
  })
  .superRefine((config, ctx) => {
    for (const key of ['minDelay', 'maxDelay'] as const) {
      if (parseDuration(config.retry[key]) === undefined) ctx.addIssue({ code: 'custom', path: ['retry', key], message: 'not a duration like 500ms, 30s or 5m' });
    }
    if (parseDuration(config.timeout) === undefined) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'not a duration like 10s' });
    const names = new Set<string>();
    config.channels.forEach((channel, i) => {
      if (names.has(channel.name)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel name '${channel.name}' is used twice` });
      names.add(channel.name);
    });
  });

/** The configuration as written (defaults not applied). */
export type NotificationConfigInput = z.input<typeof notificationConfigSchema>;
export type NotificationConfig = z.output<typeof notificationConfigSchema>;
export type ChannelConfig = z.output<typeof channelSchema>;
export type WebhookChannelConfig = z.output<typeof webhookChannelSchema>;
export type SlackChannelConfig = z.output<typeof slackChannelSchema>;
export type EmailChannelConfig = z.output<typeof emailChannelSchema>;

/** Validates a configuration; throws one error naming every problem by its path. */
export function parseNotificationConfig(value: unknown, source = 'notification config'): NotificationConfig {
  const result = notificationConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`);
  throw new Error(`invalid ${source}:\n${problems.join('\n')}`);
}

/** Reads a notification configuration file (YAML or JSON). */
export function loadNotificationConfig(file: string): NotificationConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read notification config ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseNotificationConfig(raw ?? {}, `notification config ${file}`);
}

/** A secret from the configuration or the environment; throws when the variable is unset. */
export function resolveSecret(inline: string | undefined, envName: string | undefined, env: Record<string, string | undefined>, what: string): string | undefined {
  if (inline !== undefined) return inline;
  if (envName === undefined) return undefined;
  const value = env[envName];
  if (!value) throw new Error(`${what}: environment variable ${envName} is not set`);
  return value;
}
