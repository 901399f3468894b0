import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromEnvironment, parseNotificationConfig } from '../src/index.js';
import { tempDir } from './support/temp-dir.js';

describe('notification configuration', () => {
  const dir = tempDir('airlock-notify-config-');
  afterAll(() => dir.remove());

  it('reads a YAML file named by AIRLOCK_NOTIFICATIONS, with defaults, and AIRLOCK_PUBLIC_URL on top', () => {
    const file = join(dir.path, 'notifications.yaml');
    writeFileSync(
      file,
      `channels:
  - name: finance-hook
    kind: webhook
    url: https://hooks.example.com/airlock
    secretEnv: FINANCE_HOOK_SECRET
    groups: [finance-approvers]
  - name: support-mail
    kind: email
    smtp: { host: smtp.example.com }
    from: airlock@example.com
    to: [support@example.com, { address: dana@example.com, user: dana }]
`,
    );
    const config = configFromEnvironment({}, { AIRLOCK_NOTIFICATIONS: file, AIRLOCK_PUBLIC_URL: 'https://airlock.example.com' });
    const parsed = parseNotificationConfig(config.notifications);
    expect(parsed).toMatchObject({
      publicUrl: 'https://airlock.example.com',
      links: { mode: 'login' },
      retry: { attempts: 5, minDelay: '1s', maxDelay: '5m', factor: 2 },
      timeout: '10s',
      channels: [
        { name: 'finance-hook', kind: 'webhook', groups: ['finance-approvers'] },
        { name: 'support-mail', kind: 'email', smtp: { host: 'smtp.example.com', port: 587, secure: false, requireTLS: false } },
      ],
    });
    // A flag wins over the variable.
    expect(() => configFromEnvironment({ notifications: join(dir.path, 'missing.yaml') }, { AIRLOCK_NOTIFICATIONS: file })).toThrow(/cannot read notification config/);
  });

  it.each([
    ['a webhook without a secret', { channels: [{ name: 'h', kind: 'webhook', url: 'https://x.example' }] }, 'channels.0'],
    ['a channel of an unknown kind', { channels: [{ name: 'h', kind: 'pager', url: 'https://x.example' }] }, 'channels.0.kind'],
    ['an address that is not an email', { channels: [{ name: 'm', kind: 'email', smtp: { host: 'h' }, from: 'a@b.c', to: ['not-mail'] }] }, 'channels.0.to.0'],
    ['a URL that is not http(s)', { channels: [{ name: 's', kind: 'slack', url: 'ftp://x.example' }] }, 'channels.0.url'],
    ['a malformed retry delay', { retry: { minDelay: 'soon' } }, 'retry.minDelay'],
    ['two channels with one name', { channels: [{ name: 's', kind: 'slack', url: 'https://x.example' }, { name: 's', kind: 'slack', url: 'https://y.example' }] }, 'channels.1.name'],
    ['an unknown event', { channels: [{ name: 's', kind: 'slack', url: 'https://x.example', events: ['opened'] }] }, 'channels.0.events.0'],
    ['an unknown key', { channel: [] }, '(top)'],
  ])('refuses %s, naming where', (_label, value, path) => {
    expect(() => parseNotificationConfig(value)).toThrow(new RegExp(`^invalid notification config:\\n(.|\\n)*  ${path.replace(/[.()]/g, '\\$&')}: `));
  });
});
