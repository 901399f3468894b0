import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AUDIT_WEBHOOK_EVENT, auditRecordHash, webhookSignature } from '../../src/index.js';
import type { StreamedRecord } from './audit-stream.js';

/**
 * A SIEM's webhook endpoint for the audit forwarder. It fails a share of the requests (500,
 * keeping nothing of them), checks every signature, and takes a batch's records only in order,
 * counting what a receiver must never see: a seq it already has (duplicate) or a seq past the
 * next one (a gap), and records whose hash does not recompute or link.
 */
export class SiemReceiver {
  readonly accepted: StreamedRecord[] = [];
  requests = 0;
  failed = 0;
  badSignatures = 0;
  duplicates = 0;
  gaps = 0;
  brokenLinks = 0;
  private server: Server | undefined;
  url = '';

  constructor(
    private readonly secret: string,
    private readonly fail: () => boolean,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests++;
        const body = Buffer.concat(chunks).toString('utf8');
        const timestamp = String(request.headers['x-airlock-timestamp'] ?? '');
        if (request.headers['x-airlock-signature'] !== webhookSignature(this.secret, timestamp, body) || request.headers['x-airlock-event'] !== AUDIT_WEBHOOK_EVENT) {
          this.badSignatures++;
          response.writeHead(401).end();
          return;
        }
        if (this.fail()) {
          this.failed++;
          response.writeHead(500).end('try again');
          return;
        }
        const batch = JSON.parse(body) as { first: number; last: number; records: StreamedRecord[] };
        for (const record of batch.records) this.take(record);
        response.writeHead(200).end('ok');
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/siem`;
  }

  get last(): number {
    return this.accepted[this.accepted.length - 1]?.seq ?? 0;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private take(record: StreamedRecord): void {
    if (record.seq <= this.last) {
      this.duplicates++;
      return;
    }
    if (record.seq !== this.last + 1) this.gaps++;
    const before = this.accepted[this.accepted.length - 1];
    if (auditRecordHash(record) !== record.hash || (before ? record.prevHash !== before.hash : record.prevHash !== '0'.repeat(64))) this.brokenLinks++;
    this.accepted.push(record);
  }
}
