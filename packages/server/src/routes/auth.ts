import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AirlockError } from '../errors.js';
import { userOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import { OIDC_LOGIN_TTL_MS, type OidcService } from '../services/oidc.js';
import type { Services } from '../services/services.js';

export const SESSION_COOKIE = 'airlock_session';
/** Binds a single sign-on to the browser that started it (HttpOnly, SameSite=Lax: it must come back with the provider's redirect). */
export const OIDC_BINDING_COOKIE = 'airlock_oidc';
const OIDC_PATH = '/v1/auth/oidc';

export interface CookieOptions {
  /** Always, never, or 'auto': when the request came over https (TLS or a trusted proxy's X-Forwarded-Proto). */
  secure: boolean | 'auto';
  sessionTtlMs: number;
}

export function authRoutes(services: Services, cookies: CookieOptions) {
  const { auth } = services;
  const secure = (request: FastifyRequest): boolean => (cookies.secure === 'auto' ? request.protocol === 'https' : cookies.secure);
  const setSession = (request: FastifyRequest, reply: FastifyReply, token: string): void => {
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(request),
      path: '/',
      maxAge: Math.floor(cookies.sessionTtlMs / 1000),
    });
  };
  const clearBinding = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.clearCookie(OIDC_BINDING_COOKIE, { path: OIDC_PATH, httpOnly: true, sameSite: 'lax', secure: secure(request) });
  };
  const sso = (): OidcService => {
    if (!services.oidc) throw new AirlockError('sso_not_configured', 'single sign-on is not configured on this server (AIRLOCK_OIDC_ISSUER)');
    return services.oidc;
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/auth/methods',
      response: V.SignInMethods,
      tag: 'auth',
      summary: 'How people sign in here: with a password (unless switched off), and through single sign-on when a provider is configured.',
      handler() {
        const config = services.oidc?.config;
        return { password: auth.passwordLogin, sso: config ? { name: config.name, url: `${OIDC_PATH}/start` } : null };
      },
    }),
    defineRoute({
      method: 'GET',
      url: `${OIDC_PATH}/start`,
      tag: 'auth',
      produces: '*/*',
      summary:
        'Starts a single sign-on: redirects (303) to the OpenID Connect provider with an authorization code request (PKCE S256, state, nonce) and sets the HttpOnly cookie that binds the sign-in to this browser (10 minutes). 404 sso_not_configured without a provider; 502 sso_unavailable when its discovery document does not answer.',
      async handler({ request, reply }) {
        const oidc = sso();
        const redirectUri = oidc.config.redirectUrl ?? `${request.protocol}://${request.host}${OIDC_PATH}/callback`;
        const started = await oidc.start(redirectUri);
        reply.setCookie(OIDC_BINDING_COOKIE, started.binding, {
          httpOnly: true,
          sameSite: 'lax',
          secure: secure(request),
          path: OIDC_PATH,
          maxAge: Math.floor(OIDC_LOGIN_TTL_MS / 1000),
        });
        return reply.header('cache-control', 'no-store').redirect(started.url, 303);
      },
    }),
    defineRoute({
      method: 'GET',
      url: `${OIDC_PATH}/callback`,
      tag: 'auth',
      produces: '*/*',
      summary:
        "The OpenID Connect provider's redirect back: takes the sign-in once (a replayed, tampered or foreign callback is refused), exchanges the code, validates the ID token, maps the claims to a role and approver groups, opens a session (cookie as for POST /v1/auth/login) and redirects (303) to the console. A refusal redirects to `/?sso_error=<code>` (sso_state_invalid, sso_failed, sso_no_role, sso_claim_invalid, sso_username_taken, sso_user_disabled, sso_unavailable).",
      async handler({ request, reply }) {
        const oidc = sso();
        clearBinding(request, reply);
        reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
        const query = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1 || request.url.length));
        try {
          const result = await oidc.callback(query, request.cookies[OIDC_BINDING_COOKIE], request.ip);
          setSession(request, reply, result.token);
          return reply.redirect('/', 303);
        } catch (error) {
          if (!AirlockError.isInstance(error)) throw error;
          return reply.redirect(`/?sso_error=${encodeURIComponent(error.code)}`, 303);
        }
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/auth/login',
      response: V.Session,
      tag: 'auth',
      summary:
        'Sign in; sets an HttpOnly session cookie and returns the CSRF token to send as x-airlock-csrf. 403 password_login_disabled when password sign-in is switched off (AIRLOCK_PASSWORD_LOGIN=off). Attempts are counted before the password is checked (by default 5 a minute per username and address, 20 per username; past that 429 rate_limited with Retry-After).',
      body: z.object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) }),
      async handler({ body, request, reply }) {
        // request.ip is the TCP peer, or with trusted proxies the client they forwarded for.
        const result = await auth.login(body.username, body.password, request.ip);
        setSession(request, reply, result.token);
        return { user: result.user, csrfToken: result.csrfToken, expiresAt: result.expiresAt };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/auth/logout',
      response: V.Ok,
      tag: 'auth',
      summary: 'Sign out and end the session.',
      async handler({ principal, request, reply }) {
        const user = userOf(principal);
        if (user.tokenId !== undefined) throw new AirlockError('invalid_request', `an API token has no session to end: revoke it with DELETE /v1/tokens/${user.tokenId}`);
        await auth.logout(user);
        reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request) });
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/auth/session',
      response: V.Session,
      tag: 'auth',
      summary: 'The signed-in person and the CSRF token of the session (for a reloaded page). With an API token: the person, the role the token acts with, and the token id (no CSRF token).',
      handler({ principal }) {
        const user = userOf(principal);
        const person = { id: user.userId, username: user.username, role: user.role, groups: user.groups, kind: user.kind };
        if (user.tokenId !== undefined) return { user: person, csrfToken: null, tokenId: user.tokenId };
        return { user: person, csrfToken: user.csrfToken };
      },
    }),
  ];
}
