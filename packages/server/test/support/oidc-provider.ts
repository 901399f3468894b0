import { createServer, type Server } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';

/** A person at the test's identity provider: the claims it releases about them. */
export interface ProviderAccount {
  preferred_username?: unknown;
  name?: string;
  groups?: unknown;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by login (the subject); change one to change what the next sign-in releases. */
  accounts: Map<string, ProviderAccount>;
  close(): Promise<void>;
}

/** A free loopback port (the provider's URL must be known before Airlock starts). */
export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A real OpenID Connect provider (`oidc-provider`) on 127.0.0.1: one confidential client whose
 * redirect URI is Airlock's callback, PKCE required, its built-in login and consent pages, and
 * the accounts given (sub = the login typed on its page; unknown logins cannot sign in). The
 * `groups` scope releases the `groups` claim (through userinfo, as many providers do).
 */
export async function startProvider(port: number, redirectUri: string, accounts: Record<string, ProviderAccount>): Promise<TestProvider> {
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'airlock-console';
  const clientSecret = 'a client secret only this test knows 0123456789';
  const known = new Map(Object.entries(accounts));
  const configuration: Configuration = {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['a cookie key for the test provider only'] },
    features: { devInteractions: { enabled: true } },
    findAccount(_ctx, sub) {
      const account = known.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...known.get(sub) }) };
    },
  };
  const provider = new Provider(issuer, configuration);
  // Errors it answers to a client are the test's to check; keep them off the console.
  provider.on('server_error', () => undefined);
  const server: HttpServer = provider.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    issuer,
    clientId,
    clientSecret,
    accounts: known,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Cookies by name (host-only, every path: enough for one provider and one Airlock on 127.0.0.1). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) || /^\s*expires=Thu, 01 Jan 1970/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}

/** One request without following redirects, cookies from and into the jar. */
export async function send(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), cookie: jar.header() } });
  jar.take(response);
  return response;
}

/**
 * Follows a browser's way from `start` through the provider's login and consent pages (typing
 * `login`) until a redirect reaches `stopAt` (Airlock's callback), which is answered, not followed.
 */
export async function signInAtProvider(jar: CookieJar, start: string, login: string, stopAt: string): Promise<string> {
  let url = start;
  for (let step = 0; step < 20; step += 1) {
    if (url.startsWith(stopAt)) return url;
    const response = await send(jar, url);
    const location = response.headers.get('location');
    if (location !== null) {
      url = new URL(location, url).href;
      continue;
    }
    const page = await response.text();
    if (response.status !== 200) throw new Error(`${url}: ${response.status} ${page.slice(0, 300)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
    if (action === undefined || prompt === undefined) throw new Error(`${url}: no interaction form in ${page.slice(0, 300)}`);
    const form = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
    const submitted = await send(jar, new URL(action, url).href, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const next = submitted.headers.get('location');
    if (next === null) throw new Error(`${action}: ${submitted.status} ${(await submitted.text()).slice(0, 300)}`);
    url = new URL(next, url).href;
  }
  throw new Error('too many redirects');
}
