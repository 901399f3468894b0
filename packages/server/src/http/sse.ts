import type { FastifyReply } from 'fastify';

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
export function openEventStream(reply: FastifyReply, heartbeatMs: number, open: Set<() => void>): EventStream {
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
    for (const cleanup of cleanups) cleanup();
  };
  const end = (): void => {
    close();
    raw.end();
  };
  open.add(end);
  raw.on('close', close);
  return {
    send(event, data) {
      if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(cleanup) {
      cleanups.push(cleanup);
    },
    keepWhile(check) {
      checks.push(check);
    },
    end,
  };
}
