import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AirlockError } from '../errors.js';
import { userOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';

export const SESSION_COOKIE = 'airlock_session';

export interface CookieOptions {
  /** Always, never, or 'auto': when the request came over https (TLS or a trusted proxy's X-Forwarded-Proto). */
  secure: boolean | 'auto';
  sessionTtlMs: number;
}

export function authRoutes(services: Services, cookies: CookieOptions) {
  const { auth } = services;
  const secure = (request: FastifyRequest): boolean => (cookies.secure === 'auto' ? request.protocol === 'https' : cookies.secure);
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/auth/login',
      response: V.Session,
      tag: 'auth',
      summary:
        'Sign in; sets an HttpOnly session cookie and returns the CSRF token to send as x-airlock-csrf. Attempts are counted before the password is checked (by default 5 a minute per username and address, 20 per username; past that 429 rate_limited with Retry-After).',
      body: z.object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) }),
      async handler({ body, request, reply }) {
        // request.ip is the TCP peer, or with trusted proxies the client they forwarded for.
        const result = await auth.login(body.username, body.password, request.ip);
        reply.setCookie(SESSION_COOKIE, result.token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: secure(request),
          path: '/',
          maxAge: Math.floor(cookies.sessionTtlMs / 1000),
        });
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
        const person = { id: user.userId, username: user.username, role: user.role, groups: user.groups };
        if (user.tokenId !== undefined) return { user: person, csrfToken: null, tokenId: user.tokenId };
        return { user: person, csrfToken: user.csrfToken };
      },
    }),
  ];
}
