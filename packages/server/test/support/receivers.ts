import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { ApprovalNotification, Notification, Notifier } from '../../src/index.js';

/** Items arriving over time; `next` waits for the first one (not yet taken) that matches. */
export class Inbox<T> {
  readonly all: T[] = [];
  private readonly taken = new Set<T>();
  private readonly waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.all.push(item);
    const waiter = this.waiters.find((w) => w.match(item));
    if (!waiter) return;
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    this.taken.add(item);
    waiter.resolve(item);
  }

  next(match: (item: T) => boolean = () => true): Promise<T> {
    const found = this.all.find((item) => !this.taken.has(item) && match(item));
    if (found) {
      this.taken.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered with. */
  status: number;
}

/** A local HTTP endpoint that records every POST and answers with the status `respond` picks (by arrival, from 1). */
export async function httpReceiver(respond: (n: number) => number = () => 200): Promise<{ url: string; inbox: Inbox<ReceivedRequest>; close: () => Promise<void> }> {
  const inbox = new Inbox<ReceivedRequest>();
  let count = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = respond(++count);
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'failed', () => {
        inbox.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    inbox,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections from the server under test would hold close() open.
        server.closeAllConnections();
      }),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message with quoted-printable soft breaks and escapes undone, so links can be read whole. */
  text: string;
}

/** A local SMTP server (no TLS, no auth) that records every message. */
export async function smtpReceiver(): Promise<{ port: number; inbox: Inbox<ReceivedMail>; close: () => Promise<void> }> {
  const inbox = new Inbox<ReceivedMail>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelope = session.envelope;
        inbox.push({
          from: envelope.mailFrom ? envelope.mailFrom.address : '',
          to: envelope.rcptTo.map((r) => r.address),
          text: decodeQuotedPrintable(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, inbox, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function decodeQuotedPrintable(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A channel transport that records what it was asked to send and always succeeds (approval messages in `inbox`, alerts in `alerts`). */
export function recordingNotifier(name: string, kind: Notifier['kind']): Notifier & { inbox: Inbox<ApprovalNotification>; alerts: Inbox<Notification> } {
  const inbox = new Inbox<ApprovalNotification>();
  const alerts = new Inbox<Notification>();
  return {
    name,
    kind,
    inbox,
    alerts,
    async send(notification) {
      if (notification.event === 'anomaly' || notification.event === 'quarantine') alerts.push(notification);
      else inbox.push(notification);
      return {};
    },
  };
}
