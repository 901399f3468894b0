import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { CallerGate, gated } from '../src/http/caller-gate.js';
import { AirlockError } from '../src/errors.js';

/** One caller's share of the heavy reads (http/caller-gate.ts): 2 running, 3 waiting here. */
describe('CallerGate', () => {
  it('runs 2 at once, queues 3 in order, refuses the rest with rate_limited, and hands each slot on', async () => {
    const gate = new CallerGate(2, 3);
    const order: number[] = [];
    const entered = Array.from({ length: 7 }, (_, i) =>
      gate.enter('user:a').then(
        (release) => {
          order.push(i);
          return release;
        },
        (error: unknown) => error,
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    expect(gate.load('user:a')).toEqual({ running: 2, waiting: 3 });
    const refused = await Promise.all([entered[5], entered[6]]);
    for (const error of refused) expect(AirlockError.isInstance(error) && error.code === 'rate_limited').toBe(true);
    // Another caller is not held by them.
    const other = await gate.enter('user:b');
    expect(gate.load('user:b')).toEqual({ running: 1, waiting: 0 });
    other();
    // Each release admits the next in line; releasing twice admits one only.
    const first = (await entered[0]) as () => void;
    first();
    first();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2]);
    expect(gate.load('user:a')).toEqual({ running: 2, waiting: 2 });
    for (const i of [1, 2, 3, 4]) {
      ((await entered[i]) as () => void)();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(gate.load('user:a')).toEqual({ running: 0, waiting: 0 });
  });

  it('100 asked at once: never more than the limit running, every admitted one runs, the rest refused', async () => {
    const gate = new CallerGate(4, 64);
    let running = 0;
    let most = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, async () => {
        let release: () => void;
        try {
          release = await gate.enter('agent:x');
        } catch (error) {
          return AirlockError.isInstance(error) ? error.code : 'other';
        }
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        release();
        return 'ran';
      }),
    );
    expect(most).toBe(4);
    expect(outcomes.filter((o) => o === 'ran')).toHaveLength(68);
    expect(outcomes.filter((o) => o === 'rate_limited')).toHaveLength(32);
    expect(gate.load('agent:x')).toEqual({ running: 0, waiting: 0 });
  });

  it('a client that leaves does not free its slot while its read still runs: 200 aborted requests, never more than 4 at once', async () => {
    const gate = new CallerGate(4, 256);
    let running = 0;
    let most = 0;
    let started = 0;
    const app = Fastify();
    app.get(
      '/slow',
      gated(
        gate,
        () => 'user:mallory',
        async () => {
          // A read that the client's leaving does not stop (a query on the reader thread).
          started++;
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 100));
          running--;
          return { ok: true };
        },
      ),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as AddressInfo;
      // Clients give up at staggered times (20 ms to 1 s): many while their read (100 ms) runs,
      // some while they still wait.
      const fire = (i: number): Promise<void> =>
        new Promise((resolve) => {
          const request = http.get({ host: '127.0.0.1', port, path: '/slow' }, (response) => response.resume());
          request.on('error', () => resolve());
          request.on('close', () => resolve());
          setTimeout(() => request.destroy(), 20 + (i % 50) * 20);
        });
      await Promise.all(Array.from({ length: 200 }, (_, i) => fire(i)));
      await expect.poll(() => gate.load('user:mallory'), { timeout: 20_000 }).toEqual({ running: 0, waiting: 0 });
      expect(most).toBeLessThanOrEqual(4);
      // Those that waited until after their client left were not run at all.
      expect(started).toBeLessThan(200);
    } finally {
      await app.close();
    }
  });
});
