import { describe, expect, it } from 'vitest';
import { CallerGate } from '../src/http/caller-gate.js';
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
});
