import type { FastifyReply } from 'fastify';
import { AirlockError } from '../errors.js';
import type { Principal } from './principal.js';

/**
 * Most streams open at once on one server (live events, edge, policy and audit streams together):
 * each holds a socket and what its reader has not taken yet. A new one past it is refused (429).
 */
export const MAX_OPEN_STREAMS = 512;
/**
 * A live-event reader that leaves this much unread is cut off (it reconnects): events are not
 * queued for it without end. Measured before: 200 stalled readers of 1 MB decisions held the
 * event loop ~1.8 s per decision and up to 1 GB.
 */
export const MAX_UNREAD_BYTES = 1 << 20;

/**
 * Most streams one caller (a person, a bot account, an agent) holds open at once, so that one
 * stolen cookie or key cannot take every stream of the server (MAX_OPEN_STREAMS) from everyone
 * else. A dashboard tab holds two; an edge-mode agent one per process.
 */
export const MAX_STREAMS_PER_CALLER = 128;

/** Streams open per caller, per server (the `open` set is one server's). */
const openByCaller = new WeakMap<Set<unknown>, Map<string, number>>();

/**
 * Admits a new stream of `caller` ("user:<id>", "agent:<id>") or refuses it (429) when
 * MAX_OPEN_STREAMS are open, or MAX_STREAMS_PER_CALLER of this caller's; called before the reply
 * is taken over. Synchronous, from the check to the count: 100 streams asked at once cannot all
 * pass a check made before any of them counted. Answers the release, to call once when it closes.
 */
export function admitStream(open: Set<unknown>, caller: string): () => void {
  if (open.size >= MAX_OPEN_STREAMS) throw new AirlockError('rate_limited', `${MAX_OPEN_STREAMS} streams are open on this server: close one, or retry later`);
  let counts = openByCaller.get(open);
  if (!counts) openByCaller.set(open, (counts = new Map()));
  const held = counts.get(caller) ?? 0;
  if (held >= MAX_STREAMS_PER_CALLER) throw new AirlockError('rate_limited', `you have ${MAX_STREAMS_PER_CALLER} streams open on this server: close one, or retry later`);
  counts.set(caller, held + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const now = (counts.get(caller) ?? 1) - 1;
    if (now <= 0) counts.delete(caller);
    else counts.set(caller, now);
  };
}

/** Who holds a stream, for MAX_STREAMS_PER_CALLER. */
export function streamCaller(principal: Principal): string {
  if (principal.kind === 'agent') return `agent:${principal.identity.agent}`;
  if (principal.kind === 'user') return `user:${principal.user.userId}`;
  return 'anonymous';
}

/** An event's data as sent, serialized once however many streams send it (the data objects are shared). */
const serialized = new WeakMap<object, string>();
function eventData(data: unknown): string {
  if (typeof data !== 'object' || data === null) return JSON.stringify(data);
  let text = serialized.get(data);
  if (text === undefined) {
    text = JSON.stringify(data);
    serialized.set(data, text);
  }
  return text;
}

export interface EventStream {
  send(event: string, data: unknown): void;
  /** Runs once when the client goes away or the server closes the stream. */
  onClose(cleanup: () => void): void;
  /** Runs at every heartbeat; the stream ends if it answers false (e.g. its session ended). */
  keepWhile(check: () => Promise<boolean>): void;
  /** Ends the stream from the server's side. */
  end(): void;
}

/**
 * Turns a reply into a Server-Sent Events stream. Comment lines every `heartbeatMs` keep proxies
 * from closing an idle stream; `open` tracks the stream so shutdown can end it.
 */
export function openEventStream(reply: FastifyReply, heartbeatMs: number, open: Set<() => void>, caller: string): EventStream {
  const release = admitStream(open, caller);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 2000\n\n');
  const cleanups: (() => void)[] = [];
  const checks: (() => Promise<boolean>)[] = [];
  const heartbeat = setInterval(() => {
    raw.write(': heartbeat\n\n');
    for (const check of checks) {
      check().then(
        (keep) => {
          if (!keep) end();
        },
        () => end(),
      );
    }
  }, heartbeatMs);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    open.delete(end);
    release();
    for (const cleanup of cleanups) cleanup();
  };
  const end = (): void => {
    close();
    raw.end();
  };
  open.add(end);
  raw.on('close', close);
  // The client may have left while the request was authenticated (an async hook): 'close' fired
  // before it was listened to, and the stream would hold its slots (and its caller's) for good.
  if (raw.destroyed || raw.socket === null || raw.socket.destroyed) close();
  return {
    send(event, data) {
      if (closed) return;
      if (raw.writableLength > MAX_UNREAD_BYTES) {
        // Destroyed, not ended: ending would keep the unread bytes until a reader that stopped reading takes them.
        close();
        raw.destroy();
        return;
      }
      raw.write(`event: ${event}\ndata: ${eventData(data)}\n\n`);
    },
    onClose(cleanup) {
      // Already closed (the client left before the stream opened): clean up at once.
      if (closed) cleanup();
      else cleanups.push(cleanup);
    },
    keepWhile(check) {
      checks.push(check);
    },
    end,
  };
}
