import { describe, expect, it, onTestFinished } from 'vitest';
import { AirlockUnavailableError, createAirlock, RemoteTransport } from '../src/index.js';
import { localFixture } from './local-fixture.js';
import { startSdkServer } from './support/server.js';

const SUPPORT_REACH = {
  change_account_owner: 'blocked',
  create_ticket: 'open',
  export_customers: 'blocked',
  get_account: 'open',
  issue_refund: 'open',
};

describe('airlock.tools(): which tools any call can reach', () => {
  it('local mode answers from the embedded engine, for the configured role', async () => {
    const fixture = localFixture();
    const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: false, watch: false });
    onTestFinished(() => airlock.close());
    const tools = await airlock.tools();
    expect(Object.fromEntries(tools.map((t) => [t.tool, t.reach]))).toEqual(SUPPORT_REACH);
    expect(tools.find((t) => t.tool === 'export_customers')).toMatchObject({ rule: 'export-customers' });
  });

  it("remote mode asks the server, for the key's identity", async () => {
    const server = await startSdkServer('airlock-sdk-tools-');
    onTestFinished(() => server.close());
    const key = server.key('support-bot-1');
    const tools = await createAirlock({ url: server.url, apiKey: key }).tools();
    expect(Object.fromEntries(tools.map((t) => [t.tool, t.reach]))).toEqual(SUPPORT_REACH);
    await expect(createAirlock({ url: server.url, apiKey: 'ak_0000000000000000_nope' }).tools()).rejects.toMatchObject({ refused: true });
  });

  it('remote mode refuses an answer that is not a tool list', async () => {
    const fetchStub: typeof fetch = async () => new Response(JSON.stringify({ tools: [{ tool: 'x', reach: 'maybe' }] }), { status: 200 });
    await expect(new RemoteTransport({ url: 'http://airlock.test', apiKey: 'ak_1', fetch: fetchStub }).tools()).rejects.toBeInstanceOf(AirlockUnavailableError);
  });
});
