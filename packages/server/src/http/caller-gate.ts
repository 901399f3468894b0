import type { FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError } from '../errors.js';

/**
 * At most `running` requests of one caller at a time through a gate, the next `waiting` queued
 * behind them, any more refused (429). The routes behind it are reads whose cost grows with the
 * data (searches, exports, insights): on SQLite they share one reader thread in FIFO order, so
 * without the gate one caller's burst of 100 searches would put every other person's page behind
 * all of them; with it, behind at most `running` of theirs. A burst is queued, not refused, so a
 * console page asking several at once never sees a 429.
 */
export class CallerGate {
  private readonly callers = new Map<string, { running: number; queue: (() => void)[] }>();

  constructor(
    readonly running: number,
    readonly waiting: number,
  ) {}

  /**
   * Resolves when the caller may go on, with the release to call once when done (twice is
   * harmless). From the check to the count nothing awaits: 100 requests at once cannot all pass
   * a check made before any of them counted.
   */
  async enter(caller: string): Promise<() => void> {
    let state = this.callers.get(caller);
    if (!state) this.callers.set(caller, (state = { running: 0, queue: [] }));
    const own = state;
    if (own.running < this.running) {
      own.running++;
    } else {
      if (own.queue.length >= this.waiting) {
        throw new AirlockError('rate_limited', `you have ${this.running} such reads running and ${this.waiting} waiting: wait for them`, { retryAfter: 1 });
      }
      // The slot is handed over by the release of a running one (its count stays).
      await new Promise<void>((resolve) => own.queue.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = own.queue.shift();
      if (next) return next();
      own.running--;
      if (own.running === 0 && this.callers.get(caller) === own) this.callers.delete(caller);
    };
  }

  /** Requests of `caller` running and waiting (tests, metrics). */
  load(caller: string): { running: number; waiting: number } {
    const state = this.callers.get(caller);
    return { running: state?.running ?? 0, waiting: state?.queue.length ?? 0 };
  }
}

/**
 * A route handler behind the gate. The slot is held until both the handler's work is over (a
 * client leaving does not stop a read already on the reader thread: releasing at the client's
 * 'close' let 200 aborted searches run at once) and the answer is (an export streams long after
 * its handler returned). A request whose client left while it waited is not run at all.
 */
export function gated<R>(gate: CallerGate, callerOf: (request: FastifyRequest) => string, run: (request: FastifyRequest, reply: FastifyReply) => R | Promise<R>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<R | FastifyReply> => {
    const release = await gate.enter(callerOf(request));
    if (gone(request, reply)) {
      release();
      return reply.code(499).send();
    }
    let handled = false;
    let closed = false;
    const done = (): void => {
      if (handled && closed) release();
    };
    reply.raw.once('close', () => {
      closed = true;
      done();
    });
    if (gone(request, reply)) closed = true;
    try {
      return await run(request, reply);
    } finally {
      handled = true;
      done();
    }
  };
}

/**
 * Whether the client has gone: its connection closed, or the answer was already destroyed. Not
 * `request.raw.destroyed`: a request whose body was read to its end is destroyed too (auto-destroy),
 * with its client still waiting for the answer.
 */
function gone(request: FastifyRequest, reply: FastifyReply): boolean {
  return reply.raw.destroyed || request.raw.socket?.destroyed === true;
}
