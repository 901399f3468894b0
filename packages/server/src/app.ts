import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { jsonTextProblem, MAX_ARGS_DEPTH, MAX_JSON_DEPTH, MAX_JSON_VALUES, withStorableText } from '@airlock/core';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ROUTE_ACCESS, allows, routeKey } from './access.js';
import type { TrustProxy } from './config.js';
import { AirlockError } from './errors.js';
import { CallerGate, gated } from './http/caller-gate.js';
import { isDashboardRoute, loadDashboard, sendDashboardPage, type DashboardSite } from './http/dashboard.js';
import { ERROR_STATUS } from './http/error-status.js';
import type { Principal } from './http/principal.js';
import type { RouteDef } from './http/route.js';
import { streamCaller } from './http/sse.js';
import { parseInput } from './http/validate.js';
import { buildOpenApi } from './openapi.js';
import { agentToolRoutes } from './routes/agent-tools.js';
import { agentRoutes } from './routes/agents.js';
import { approvalRoutes } from './routes/approvals.js';
import { auditRoutes } from './routes/audit.js';
import { auditStreamRoutes } from './routes/audit-stream.js';
import { authRoutes, SESSION_COOKIE } from './routes/auth.js';
import { outcomeRoutes } from './routes/outcomes.js';
import { decideRoutes } from './routes/decide.js';
import { linkRoutes } from './routes/links.js';
import { opsRoutes } from './routes/ops.js';
import { insightRoutes } from './routes/insights.js';
import { policyRoutes } from './routes/policies.js';
import { streamRoutes } from './routes/streams.js';
import { pauseRoutes } from './routes/pauses.js';
import { edgeRoutes } from './routes/edge.js';
import { userRoutes } from './routes/users.js';
import type { Services } from './services/services.js';
import type { Telemetry } from './telemetry.js';
import { PERSONAL_TOKEN_PREFIX } from './services/tokens.js';
import { tokenRoutes } from './routes/tokens.js';

/** Request bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Heavy reads (RouteDef.heavy) of one caller running at once, and waiting behind them before a 429. */
export const HEAVY_READS_RUNNING = 4;
export const HEAVY_READS_WAITING = 256;

export interface AppOptions {
  /** Mark the session cookie Secure: always, never, or 'auto' (when the request came over https). */
  secureCookies: boolean | 'auto';
  /** Proxies whose X-Forwarded-For / -Proto are believed (see `ServerConfig.trustProxy`); default none. */
  trustProxy?: TrustProxy;
  sessionTtlMs: number;
  /** Interval of SSE heartbeat comments. */
  heartbeatMs: number;
  /** Reported in the OpenAPI document. */
  version: string;
  /** Where unexpected errors are reported. Requests, headers and bodies are never logged. */
  logError: (message: string) => void;
  /** The built dashboard (`index.html` + `assets/`), served at `/`. */
  dashboardDir: string;
  /** OpenTelemetry (`telemetry.ts`): traced routes run inside their spans. Absent: off. */
  telemetry?: Telemetry | undefined;
  /**
   * Check every JSON answer against its route's documented schema (http/views.ts) and fail the
   * request (500) when they disagree, so the OpenAPI document and the typed client cannot drift
   * from what handlers return. Off in production (a parse per answer); the test suite turns it on
   * with AIRLOCK_CHECK_RESPONSES=1.
   */
  checkResponses?: boolean | undefined;
}

const ANONYMOUS: Principal = { kind: 'anonymous' };
const CSRF_HEADER = 'x-airlock-csrf';
const BEARER = /^Bearer\s+(\S+)$/i;

/** Every route of the API, in the order they are registered and documented. */
export function allRoutes(services: Services, options: AppOptions, streams: Set<() => void>, dashboard: DashboardSite): RouteDef[] {
  let document: unknown;
  const routes: RouteDef[] = [
    ...opsRoutes(services, () => (document ??= buildOpenApi(routes, options.version)), dashboard),
    ...authRoutes(services, { secure: options.secureCookies, sessionTtlMs: options.sessionTtlMs }),
    ...decideRoutes(services),
    ...outcomeRoutes(services),
    ...agentToolRoutes(services),
    ...approvalRoutes(services),
    ...linkRoutes(services),
    ...auditRoutes(services),
    ...auditStreamRoutes(services, { heartbeatMs: options.heartbeatMs, open: streams }),
    ...policyRoutes(services),
    ...insightRoutes(services),
    ...streamRoutes(services, { heartbeatMs: options.heartbeatMs, open: streams }),
    ...agentRoutes(services),
    ...userRoutes(services),
    ...tokenRoutes(services),
    ...pauseRoutes(services),
    ...edgeRoutes(services, { open: streams }),
  ] as RouteDef[];
  return routes;
}

/**
 * The HTTP layer: authentication and the access table before any body is read, zod validation,
 * thin handlers over the services, and JSON errors with stable codes.
 */
export async function buildApp(services: Services, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // request.ip (the login throttle's client) and request.protocol (Secure cookies) read the
    // forwarding headers only from the proxies configured here.
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
  });
  await app.register(cookie);
  // JSON bodies: one linear scan of the text before Fastify's own (prototype-poisoning-safe) parse.
  // Nothing nested deeper than MAX_JSON_DEPTH reaches a recursive walk (validation, canonical JSON,
  // the audit record): 100,000 levels overflowed a recursive check (500 internal_error). And an
  // object naming a key twice is refused: the call would be decided on the value JSON.parse keeps
  // (the last) while a tool behind a parser that keeps the first would run with the other.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Batches of up to 500 reports (the SDKs send full ones) may hold more values than one call: the
  // body size bounds them, as before.
  const BATCH_ROUTES = new Set(['/v1/edge/decisions', '/v1/outcomes']);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const batch = BATCH_ROUTES.has(request.routeOptions.url ?? '');
    let problem = jsonTextProblem(body as string, MAX_JSON_DEPTH, batch ? Number.POSITIVE_INFINITY : MAX_JSON_VALUES);
    if (problem?.code === 'invalid_text' && batch) {
      // Reports of calls that already ran (edge decisions, outcomes) are recorded, not refused:
      // refused, a batch was retried for good and held back every later report. Their text is
      // made storable (U+FFFD for each NUL or unpaired surrogate); the other checks still apply.
      problem = jsonTextProblem(body as string, MAX_JSON_DEPTH, Number.POSITIVE_INFINITY, false);
      if (problem === undefined) {
        return parseJson(request, body as string, (error: Error | null, value?: unknown) => (error ? done(error, undefined) : done(null, withStorableText(value))));
      }
    }
    if (problem === undefined) return parseJson(request, body as string, done);
    const param = problem.path === '' ? 'body' : `body.${problem.path}`;
    if (problem.code === 'too_many_values') {
      done(new AirlockError('request_too_large', `the JSON body holds more than ${MAX_JSON_VALUES} values (objects, arrays and their members): send smaller batches or arguments`, { param }), undefined);
    } else if (problem.code === 'too_deep') {
      done(new AirlockError('request_too_large', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels at ${param} (arguments may nest ${MAX_ARGS_DEPTH})`, { param }), undefined);
    } else if (problem.code === 'invalid_text') {
      // PostgreSQL's text holds no NUL (one such value failed a whole batch of other agents'
      // decisions), and an unpaired surrogate is stored as U+FFFD: the column would not match the record.
      done(new AirlockError('invalid_text', `${param}: ${problem.message.replace(/^a string at \S+ /, 'a string ')}`, { param }), undefined);
    } else {
      done(new AirlockError('duplicate_key', `${param}: the key ${JSON.stringify(problem.key)} appears twice in one object; each key may appear once (I-JSON)`, { param }), undefined);
    }
  });
  // Fail closed: a route of any plugin that the access table does not name stops the server at start.
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const key = routeKey(method, route.url);
      if (ROUTE_ACCESS[key] === undefined) throw new Error(`route ${key} is missing from ROUTE_ACCESS`);
    }
  });
  // reply.sendFile for the dashboard's assets; the asset route itself is in the table like any other.
  await app.register(fastifyStatic, { serve: false });
  const dashboard = loadDashboard(options.dashboardDir);
  /** Who made each request, set by the authentication hook before the handler runs. */
  const principals = new WeakMap<FastifyRequest, Principal>();

  async function authenticate(request: FastifyRequest): Promise<Principal> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const token = BEARER.exec(authorization)?.[1];
      // A person's API token (apt_…) acts as the person; anything else must be an agent key (ak_…).
      if (token?.startsWith(PERSONAL_TOKEN_PREFIX)) return { kind: 'user', user: await services.tokens.authenticate(token) };
      const identity = token === undefined ? undefined : await services.agents.authenticate(token);
      if (!identity) throw new AirlockError('invalid_api_key', 'the API key is not valid');
      return { kind: 'agent', identity };
    }
    const session = request.cookies[SESSION_COOKIE];
    if (session !== undefined) {
      const user = await services.auth.session(session);
      if (!user) throw new AirlockError('invalid_session', 'the session has expired or does not exist; sign in again');
      return { kind: 'user', user };
    }
    throw new AirlockError('unauthenticated', 'send an agent API key or a personal API token (Authorization: Bearer), or sign in');
  }

  app.addHook('onRequest', async (request) => {
    // A NUL in the path or query (%00) would reach PostgreSQL as a parameter, which text cannot
    // hold: refused like one in a body (the only way; percent-decoding makes no unpaired surrogate).
    if (/%00/i.test(request.url)) throw new AirlockError('invalid_text', 'the URL holds %00 (U+0000): text must be well-formed Unicode without NUL', { param: 'query' });
    const url = request.routeOptions.url;
    if (url === undefined) return;
    const access = ROUTE_ACCESS[routeKey(request.method, url)] ?? [];
    if (access === 'public') return;
    const principal = await authenticate(request);
    const caller = principal.kind === 'agent' ? 'agent' : principal.kind === 'user' ? principal.user.role : undefined;
    if (caller === undefined || !allows(access, caller)) {
      throw new AirlockError('forbidden', `${principal.kind === 'agent' ? 'agent keys' : `role ${String(caller)}`} may not call ${request.method} ${url}`);
    }
    // CSRF guards cookies a browser sends by itself; a bearer token is never sent that way.
    if (principal.kind === 'user' && principal.user.tokenId === undefined && request.method !== 'GET') {
      const presented = request.headers[CSRF_HEADER];
      if (!services.auth.checkCsrf(principal.user, typeof presented === 'string' ? presented : undefined)) {
        throw new AirlockError('csrf_token_invalid', `send the session's CSRF token in the ${CSRF_HEADER} header`);
      }
    }
    principals.set(request, principal);
  });

  const checkResponses = options.checkResponses ?? process.env.AIRLOCK_CHECK_RESPONSES === '1';
  const heavyReads = new CallerGate(HEAVY_READS_RUNNING, HEAVY_READS_WAITING);
  const streams = new Set<() => void>();
  for (const route of allRoutes(services, options, streams, dashboard)) {
    const traced = options.telemetry?.wrap(route) ?? route.handler;
    const handler = checkResponses && route.response ? checkedHandler(route, traced) : traced;
    const fastBody = route.fast?.body;
    const fastHeaders = route.fast?.headers;
    const run = (request: FastifyRequest, reply: FastifyReply) =>
      handler({
        body: route.body ? (fastBody?.(request.body) ?? parseInput(route.body, request.body, 'body')) : undefined,
        query: route.query ? parseInput(route.query, request.query, 'query') : undefined,
        params: route.params ? parseInput(route.params, request.params, 'params') : undefined,
        headers: route.headers ? (fastHeaders?.(request.headers) ?? parseInput(route.headers, request.headers, 'headers')) : undefined,
        principal: principals.get(request) ?? ANONYMOUS,
        request,
        reply,
      });
    app.route({
      method: route.method,
      url: route.url,
      handler: route.heavy ? gated(heavyReads, (request) => streamCaller(principals.get(request) ?? ANONYMOUS), run) : run,
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (isDashboardRoute(request.method, path, request.headers.accept)) return sendDashboardPage(reply, dashboard);
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } });
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (AirlockError.isInstance(error)) {
      if (error.code === 'rate_limited' && typeof error.details?.retryAfter === 'number') reply.header('retry-after', String(error.details.retryAfter));
      return reply.code(ERROR_STATUS[error.code]).send({ error: { code: error.code, message: error.message, ...error.details } });
    }
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send({ error: { code: 'payload_too_large', message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` } });
    if (status === 415) return reply.code(415).send({ error: { code: 'unsupported_media_type', message: error.message } });
    if (status >= 400 && status < 500) return reply.code(400).send({ error: { code: 'invalid_json', message: error.message } });
    options.logError(`internal error: ${error.stack ?? error.message}`);
    return reply.code(500).send({ error: { code: 'internal_error', message: 'internal error' } });
  });

  app.addHook('preClose', async () => {
    services.approvals.releaseWaiters();
    for (const end of [...streams]) end();
  });

  return app;
}

/** The route's handler, whose answers must parse with the route's response schema (see AppOptions.checkResponses). */
function checkedHandler(route: RouteDef, handler: RouteDef['handler']): RouteDef['handler'] {
  const schema = route.response as z.ZodType;
  return async (context) => {
    const answer: unknown = await handler(context);
    // A reply already sent by the handler (streams, redirects) has no JSON answer to check.
    if (context.reply.sent || answer === undefined) return answer;
    const parsed = schema.safeParse(answer);
    if (!parsed.success) {
      throw new Error(`${route.method} ${route.url} answered outside its documented schema: ${z.prettifyError(parsed.error)}`);
    }
    return answer;
  };
}
