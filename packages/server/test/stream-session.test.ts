import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

/** Reads a stream until it ends; resolves true when the server ended it. */
async function endsWithin(response: Response, ms: number): Promise<boolean> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let gaveUp = false;
  const timer = setTimeout(() => {
    gaveUp = true;
    void reader.cancel();
  }, ms);
  try {
    for (;;) {
      const { done } = await reader.read();
      if (done) return !gaveUp;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

describe("a person's event streams live as long as the session", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ heartbeatMs: 100, sessionTtlMs: 60_000 });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it.each(['/v1/events', '/v1/policy/stream'])('%s ends at logout', async (path) => {
    const admin = await t.admin();
    const stream = await fetch(`${t.url}${path}`, { headers: { cookie: admin.cookie } });
    expect(stream.status).toBe(200);
    const ended = endsWithin(stream, 5_000);
    expect((await admin.post('/v1/auth/logout')).status).toBe(200);
    expect(await ended).toBe(true);
  });

  it('/v1/events ends at the first heartbeat after the session expires', async () => {
    const admin = await t.admin();
    const stream = await fetch(`${t.url}/v1/events`, { headers: { cookie: admin.cookie } });
    const ended = endsWithin(stream, 5_000);
    t.clock.advance(61_000);
    expect(await ended).toBe(true);
  });

  it('a stream whose session is still valid stays open', async () => {
    const admin = await t.admin();
    const stream = await fetch(`${t.url}/v1/events`, { headers: { cookie: admin.cookie } });
    expect(await endsWithin(stream, 600)).toBe(false);
  });
});
