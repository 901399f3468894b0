import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP receiver sees it, whichever protocol carried it. */
export interface ReceivedSpan {
  protocol: 'json' | 'protobuf';
  /** `service.name` of the resource that sent it. */
  service: string | undefined;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: number;
}

/** A metric data point (sum, gauge or histogram) as received over OTLP/JSON. */
export interface ReceivedPoint {
  metric: string;
  attributes: Record<string, unknown>;
  /** Sums and gauges: the value; histograms: the count. */
  value: number;
}

/**
 * An OTLP/HTTP collector for tests: `POST /v1/traces` and `/v1/metrics`, in JSON
 * (`application/json`) or protobuf (`application/x-protobuf`, decoded by the small wire-format
 * reader below, so the test depends on no exporter internals).
 */
export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  points: ReceivedPoint[];
  /** Every request, by path. */
  requests: { path: string; contentType: string }[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, 'url' | 'close'> = { spans: [], points: [], requests: [] };
  const server = createServer((request, response) => {
    void read(request).then((body) => {
      const contentType = String(request.headers['content-type'] ?? '');
      const path = request.url ?? '';
      receiver.requests.push({ path, contentType });
      const json = contentType.includes('json');
      if (path === '/v1/traces') receiver.spans.push(...(json ? spansFromJson(JSON.parse(body.toString('utf8'))) : spansFromProtobuf(body)));
      if (path === '/v1/metrics' && json) receiver.points.push(...pointsFromJson(JSON.parse(body.toString('utf8'))));
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  } as OtlpReceiver;
}

async function read(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---- OTLP/JSON ----

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    if ('stringValue' in value) attributes[key] = value.stringValue;
    else if ('boolValue' in value) attributes[key] = value.boolValue;
    else if ('intValue' in value) attributes[key] = Number(value.intValue);
    else if ('doubleValue' in value) attributes[key] = Number(value.doubleValue);
  }
  return attributes;
}

function spansFromJson(body: {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
}): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = jsonAttributes(resourceSpans.resource?.attributes)['service.name'] as string | undefined;
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          protocol: 'json',
          service,
          traceId: String(span.traceId),
          spanId: String(span.spanId),
          parentSpanId: typeof span.parentSpanId === 'string' ? span.parentSpanId : '',
          name: String(span.name),
          kind: Number(span.kind),
          attributes: jsonAttributes(span.attributes as JsonKeyValue[]),
          status: Number((span.status as { code?: number } | undefined)?.code ?? 0),
        });
      }
    }
  }
  return spans;
}

function pointsFromJson(body: { resourceMetrics?: { scopeMetrics?: { metrics?: Record<string, unknown>[] }[] }[] }): ReceivedPoint[] {
  const points: ReceivedPoint[] = [];
  for (const resource of body.resourceMetrics ?? []) {
    for (const scope of resource.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const name = String(metric.name);
        const data = (metric.sum ?? metric.gauge ?? metric.histogram) as { dataPoints?: Record<string, unknown>[] } | undefined;
        for (const point of data?.dataPoints ?? []) {
          const value = metric.histogram ? Number(point.count) : Number(point.asInt ?? point.asDouble ?? 0);
          points.push({ metric: name, attributes: jsonAttributes(point.attributes as JsonKeyValue[]), value });
        }
      }
    }
  }
  return points;
}

// ---- OTLP/protobuf (opentelemetry/proto/collector/trace/v1/trace_service.proto) ----

type Field = { field: number; value: bigint | Buffer };

/** The fields of one protobuf message, in order: varints and fixed numbers as bigint, length-delimited as bytes. */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buffer.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ field, value: varint() });
    else if (wire === 1) {
      out.push({ field, value: buffer.readBigUInt64LE(at) });
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ field, value: buffer.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      out.push({ field, value: BigInt(buffer.readUInt32LE(at)) });
      at += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const messages = (list: Field[], field: number): Buffer[] => list.filter((f) => f.field === field).map((f) => f.value as Buffer);
const first = (list: Field[], field: number): bigint | Buffer | undefined => list.find((f) => f.field === field)?.value;

function protobufAttributes(list: Buffer[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const keyValue of list) {
    const kv = fields(keyValue);
    const key = (first(kv, 1) as Buffer).toString('utf8');
    const value = fields((first(kv, 2) as Buffer | undefined) ?? Buffer.alloc(0));
    const [entry] = value;
    if (!entry) continue;
    if (entry.field === 1) attributes[key] = (entry.value as Buffer).toString('utf8');
    else if (entry.field === 2) attributes[key] = entry.value === 1n;
    else if (entry.field === 3) attributes[key] = Number(BigInt.asIntN(64, entry.value as bigint));
    else if (entry.field === 4) {
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(entry.value as bigint);
      attributes[key] = bytes.readDoubleLE();
    }
  }
  return attributes;
}

function spansFromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of messages(fields(body), 1)) {
    const rs = fields(resourceSpans);
    const resource = first(rs, 1) as Buffer | undefined;
    const service = resource ? (protobufAttributes(messages(fields(resource), 1))['service.name'] as string | undefined) : undefined;
    for (const scopeSpans of messages(rs, 2)) {
      for (const spanBytes of messages(fields(scopeSpans), 2)) {
        const span = fields(spanBytes);
        const status = first(span, 15) as Buffer | undefined;
        spans.push({
          protocol: 'protobuf',
          service,
          traceId: (first(span, 1) as Buffer).toString('hex'),
          spanId: (first(span, 2) as Buffer).toString('hex'),
          parentSpanId: ((first(span, 4) as Buffer | undefined) ?? Buffer.alloc(0)).toString('hex'),
          name: (first(span, 5) as Buffer).toString('utf8'),
          kind: Number((first(span, 6) as bigint | undefined) ?? 0n),
          attributes: protobufAttributes(messages(span, 9)),
          status: status ? Number((first(fields(status), 3) as bigint | undefined) ?? 0n) : 0,
        });
      }
    }
  }
  return spans;
}
