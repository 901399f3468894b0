import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real OpenID Connect provider (`oidc-provider`) on 127.0.0.1 for the browser tests: one
 * confidential client whose redirect URI is Airlock's callback, PKCE required, the provider's own
 * login and consent pages (devInteractions: the login typed is the subject), and the accounts
 * given; the `groups` scope releases the `groups` claim (through userinfo).
 */
export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export interface ProviderAccount {
  preferred_username: string;
  groups?: string[];
}

/** A free loopback port (the provider's URL must be known before Airlock starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startProvider(port: number, redirectUri: string, accounts: Record<string, ProviderAccount>): Promise<TestProvider> {
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'airlock-console';
  const clientSecret = 'a client secret only this test knows 0123456789';
  const configuration: Configuration = {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['preferred_username'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'groups'],
    pkce: { required: () => true, methods: ['S256'] },
    cookies: { keys: ['a cookie key for the test provider only'] },
    features: { devInteractions: { enabled: true } },
    findAccount(_ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...account }) };
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', () => undefined);
  const server: HttpServer = provider.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { issuer, clientId, clientSecret, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
