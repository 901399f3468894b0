import type { AuditRecordView } from '../../src/services/audit.js';
import type { Caller } from './http.js';

/** An audit record as the stream sends it. */
export type StreamedRecord = AuditRecordView;

/** A line/event of the stream: a record, or the error that ended it. */
export type StreamItem = { record: StreamedRecord } | { error: { code: string; message: string; seq?: number } };

/**
 * A client of GET /v1/audit/stream that reads NDJSON or SSE incrementally: `next()` answers the
 * next record or error (undefined when the stream ended); `abort()` drops the connection.
 */
export class AuditStreamClient {
  private readonly abortController = new AbortController();
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly queued: StreamItem[] = [];
  private ended = false;
  status = 0;
  contentType = '';

  private constructor(private readonly format: 'ndjson' | 'sse') {}

  static async open(url: string, headers: Record<string, string>, options: { format?: 'ndjson' | 'sse'; query?: string } = {}): Promise<AuditStreamClient> {
    const format = options.format ?? 'ndjson';
    const client = new AuditStreamClient(format);
    const response = await fetch(`${url}/v1/audit/stream${options.query ?? ''}`, {
      headers: { ...headers, ...(format === 'sse' ? { accept: 'text/event-stream' } : {}) },
      signal: client.abortController.signal,
    });
    client.status = response.status;
    client.contentType = response.headers.get('content-type') ?? '';
    if (response.status !== 200) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
    client.reader = (response.body as ReadableStream<Uint8Array>).getReader();
    return client;
  }

  async next(): Promise<StreamItem | undefined> {
    for (;;) {
      const item = this.queued.shift();
      if (item) return item;
      if (this.ended || !this.reader) return undefined;
      let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
      try {
        chunk = await this.reader.read();
      } catch {
        this.ended = true;
        return undefined;
      }
      if (chunk.done) {
        this.ended = true;
        continue;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
      this.parse();
    }
  }

  /** Records until one with seq >= `seq` (inclusive); throws on an error item or an early end. */
  async readThrough(seq: number): Promise<StreamedRecord[]> {
    const records: StreamedRecord[] = [];
    for (;;) {
      const item = await this.next();
      if (!item) throw new Error(`stream ended after ${records.length} records, before seq ${seq}`);
      if ('error' in item) throw new Error(`stream error ${item.error.code}: ${item.error.message}`);
      records.push(item.record);
      if (item.record.seq >= seq) return records;
    }
  }

  abort(): void {
    this.abortController.abort();
    this.ended = true;
  }

  private parse(): void {
    if (this.format === 'ndjson') {
      let end: number;
      while ((end = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, end).trim();
        this.buffer = this.buffer.slice(end + 1);
        if (line === '') continue; // heartbeat
        const parsed = JSON.parse(line) as StreamedRecord | { error: { code: string; message: string } };
        this.queued.push('error' in parsed ? { error: parsed.error } : { record: parsed });
      }
      return;
    }
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      const id = /^id: (.*)$/m.exec(block)?.[1];
      if (event === 'record' && data) {
        const record = JSON.parse(data) as StreamedRecord;
        if (id !== String(record.seq)) throw new Error(`SSE id ${String(id)} is not the record's seq ${record.seq}`);
        this.queued.push({ record });
      } else if (event === 'error' && data) {
        this.queued.push({ error: (JSON.parse(data) as { error: { code: string; message: string } }).error });
      }
    }
  }
}

/** Records `count` edge decisions of one agent through the API, in batches of 500 (one audit record each). */
export async function writeEdgeDecisions(agent: Caller, count: number, prefix: string): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const decisions = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      id: `${prefix}-${start + i}`,
      at: Date.now(),
      version: 1,
      rule: null,
      call: { tool: 'get_account', args: { account_id: `A-${start + i}` } },
    }));
    const reply = await agent.post('/v1/edge/decisions', { decisions });
    if (reply.status !== 200) throw new Error(`edge report answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
}

/** Checks that records are seq 1.. (or from `first`) without gap or duplicate, each linking to the one before. */
export function chainProblems(records: readonly StreamedRecord[], first = 1): string[] {
  const problems: string[] = [];
  records.forEach((record, i) => {
    if (record.seq !== first + i) problems.push(`position ${i}: seq ${record.seq}, expected ${first + i}`);
    const before = records[i - 1];
    if (before && record.prevHash !== before.hash) problems.push(`seq ${record.seq} does not link to seq ${before.seq}`);
  });
  return problems;
}
