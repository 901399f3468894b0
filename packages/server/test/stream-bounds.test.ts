import http from 'node:http';
import net from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPEN_STREAMS, MAX_STREAMS_PER_CALLER, openEventStream } from '../src/http/sse.js';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

/** Opens a stream over a raw socket and stops reading once the answer's head arrived. */
function stalled(url: string, path: string, cookie: string): Promise<net.Socket & { head: string }> {
  return stalledAs(url, path, `cookie: ${cookie}`);
}

/** The same, with the credentials as a header line (`cookie: …` or `authorization: Bearer …`). */
function stalledAs(url: string, path: string, credentials: string): Promise<net.Socket & { head: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n${credentials}\r\naccept: text/event-stream\r\n\r\n`);
      socket.once('data', (head: Buffer) => {
        socket.pause();
        resolve(Object.assign(socket, { head: head.toString() }));
      });
    });
    socket.on('error', reject);
  });
}

/** Reads the socket until the server closes it; rejects if it is still open after `ms`. */
function readsToTheEnd(socket: net.Socket, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const timer = setTimeout(() => reject(new Error(`the stream was still open after ${ms} ms`)), ms);
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(bytes);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

/** The status a new stream gets now (its body dropped at once); undefined when it does not answer in 2 s. */
async function streamStatus(url: string, headers: Record<string, string>): Promise<number | undefined> {
  const reply = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  await reply?.body?.cancel();
  return reply?.status;
}

/** How many streams a server keeps open, and what it does with a reader that stopped reading. */
describe('stream bounds', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('cuts off a live-event reader that leaves more than 1 MiB unread, and only that one', async () => {
    const slow = await stalled(t.url, '/v1/events', admin.cookie);
    const reading = await stalled(t.url, '/v1/events', admin.cookie);
    let received = 0;
    reading.on('data', (chunk: Buffer) => (received += chunk.length));
    reading.resume();
    // Decisions of ~900 KB of arguments each: their events go to both readers. Past what the
    // kernel's socket buffers hold (a few MB on loopback), the slow reader's bytes wait in the server.
    const workflow = t.agent('workflow-bot-1');
    const DECISIONS = 30;
    for (let i = 0; i < DECISIONS; i++) expect((await workflow.post('/v1/decide', { tool: 'modify_schema', args: { blob: 'x'.repeat(900_000) } })).status).toBe(200);
    await expect.poll(() => received, { timeout: 15_000 }).toBeGreaterThan(DECISIONS * 900_000);
    // The slow one finds its stream ended once it reads again, after part of what was sent.
    const bytes = await readsToTheEnd(slow, 10_000);
    expect(bytes).toBeLessThan(DECISIONS * 900_000);
    expect(reading.destroyed).toBe(false);
    reading.destroy();
  });

  it(`refuses a stream past ${MAX_OPEN_STREAMS} open ones with 429, and admits one again once one closed`, async () => {
    // Opened one after another, by four callers (each up to its own cap): all 512 are admitted.
    const callers = ['support-bot-1', 'devops-bot-1', 'finance-bot-1'].map((agent) => `authorization: Bearer ${t.keys[agent] as string}`);
    const sockets: (net.Socket & { head: string })[] = [];
    for (let i = 0; i < MAX_OPEN_STREAMS; i++) {
      const who = Math.floor(i / MAX_STREAMS_PER_CALLER);
      sockets.push(who === 0 ? await stalled(t.url, '/v1/events', admin.cookie) : await stalledAs(t.url, '/v1/edge/stream', callers[who - 1] as string));
    }
    for (const socket of sockets) expect(socket.head).toMatch(/^HTTP\/1\.1 200/);
    const refused = await fetch(`${t.url}/v1/edge/stream`, { headers: { authorization: `Bearer ${t.keys['workflow-bot-1'] as string}` } });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining(`${MAX_OPEN_STREAMS} streams are open`) });
    (sockets.pop() as net.Socket).destroy();
    await expect.poll(() => streamStatus(`${t.url}/v1/edge/stream`, { authorization: `Bearer ${t.keys['workflow-bot-1'] as string}` })).toBe(200);
    for (const socket of sockets) socket.destroy();
  });
});

/** One caller's share of the streams, on a server of its own (no stream left over from the tests above). */
describe('streams per caller', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it(`refuses one caller's stream past ${MAX_STREAMS_PER_CALLER} of theirs (429) while others still get theirs; 100 asked at once past it: exactly the cap admitted`, async () => {
    const mine: net.Socket[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_CALLER - 50; i++) mine.push(await stalled(t.url, '/v1/events', admin.cookie));
    // 100 more at once: the count is taken as each is admitted, so exactly 50 fit.
    const burst = await Promise.all(Array.from({ length: 100 }, () => stalled(t.url, '/v1/events', admin.cookie)));
    const admitted = burst.filter((socket) => /^HTTP\/1\.1 200/.test(socket.head));
    const refused = burst.filter((socket) => /^HTTP\/1\.1 429/.test(socket.head));
    expect(admitted).toHaveLength(50);
    expect(refused).toHaveLength(50);
    expect(refused[0]?.head).toContain(`you have ${MAX_STREAMS_PER_CALLER} streams open`);
    // Another caller is not held by it.
    const other = await stalledAs(t.url, '/v1/edge/stream', `authorization: Bearer ${t.keys['support-bot-1'] as string}`);
    expect(other.head).toMatch(/^HTTP\/1\.1 200/);
    other.destroy();
    for (const socket of [...mine, ...burst]) socket.destroy();
    // Closed streams count no more: the caller gets one again.
    await expect.poll(() => streamStatus(`${t.url}/v1/events`, { cookie: admin.cookie })).toBe(200);
  });
});

/**
 * A client that leaves while its request is still being authenticated (an async hook: a session
 * lookup is network I/O on PostgreSQL) has closed its answer before the stream listens for that:
 * the stream must count as closed at once, or 128 such requests lock the caller out for good.
 */
describe('a stream whose client left before it opened', () => {
  it(`frees its slots: ${MAX_STREAMS_PER_CALLER} clients leaving during authentication, then the caller still gets a stream`, async () => {
    const open = new Set<() => void>();
    let ran = 0;
    let cleanedUp = 0;
    const app = Fastify();
    /** Each leaving client, by its id: it goes once its request is in the handler (so every one of them runs). */
    const leaveNow = new Map<string, () => void>();
    app.get('/events', async (request, reply) => {
      const id = /[?&]leave=(\d+)/.exec(request.url)?.[1];
      const leaving = id !== undefined;
      if (leaving) {
        ran++;
        leaveNow.get(id)?.();
      }
      // As if authentication took a while: the stream opens only once the client has left.
      const socket = request.raw.socket;
      if (leaving && !socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
      const stream = openEventStream(reply, 60_000, open, 'user:alice');
      if (leaving) stream.onClose(() => cleanedUp++);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as net.AddressInfo;
      const leave = (_: unknown, i: number): Promise<void> =>
        new Promise((resolve) => {
          const request = http.get({ host: '127.0.0.1', port, path: `/events?leave=${i}` }, (response) => response.resume());
          leaveNow.set(String(i), () => request.destroy());
          request.on('error', () => resolve());
          request.on('close', () => resolve());
        });
      await Promise.all(Array.from({ length: MAX_STREAMS_PER_CALLER }, leave));
      // Every stream opened after its client left: each closed and cleaned up at once, none still counted.
      expect(ran).toBe(MAX_STREAMS_PER_CALLER);
      await expect.poll(() => cleanedUp, { timeout: 10_000 }).toBe(MAX_STREAMS_PER_CALLER);
      expect(open.size).toBe(0);
      const status = await new Promise((resolve) => {
        const request = http.get({ host: '127.0.0.1', port, path: '/events' }, (response) => {
          resolve(response.statusCode);
          response.destroy();
        });
        request.on('error', (error) => resolve(error.message));
      });
      expect(status).toBe(200);
    } finally {
      for (const end of [...open]) end();
      await app.close();
    }
  });
});
