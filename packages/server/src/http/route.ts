import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal } from './principal.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface RouteContext<B, Q, P, H> {
  body: B;
  query: Q;
  params: P;
  headers: H;
  principal: Principal;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One HTTP route: where, its zod schemas (validated before the handler runs; also the source of
 * the OpenAPI document) and a thin handler that calls a service. What it returns is sent as JSON.
 */
export interface RouteDef<B = unknown, Q = unknown, P = unknown, H = unknown, R = unknown> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  headers?: z.ZodType<H>;
  /**
   * Optional fast paths ahead of zod for a hot route: each answers the value its schema would
   * parse to, or undefined to let the schema decide (and name the problem). A fast path may only
   * accept inputs its schema accepts, with the same result (routes/decide.ts, tested against zod).
   */
  fast?: { body?: (value: unknown) => B | undefined; headers?: (value: Record<string, unknown>) => H | undefined };
  /**
   * A read whose cost grows with the data (a search, an export, an aggregate): one caller runs at
   * most a few at once, the rest wait their turn (http/caller-gate.ts), so one caller's burst
   * cannot hold everyone else's reads behind it.
   */
  heavy?: true;
  /** Media type of a successful answer; JSON unless stated. */
  produces?: 'application/json' | 'text/event-stream' | 'text/plain' | 'text/html' | 'application/x-ndjson' | 'text/csv' | '*/*';
  /**
   * What a successful JSON answer looks like (http/views.ts): the OpenAPI document's response
   * schema. Documentation only (not checked at run time), but the handler's return type must fit it.
   */
  response?: z.ZodType<R>;
  handler(context: RouteContext<B, Q, P, H>): NoInfer<R> | Promise<NoInfer<R>>;
}

/** Identity function that lets TypeScript infer the handler's types from the schemas. */
export function defineRoute<B = undefined, Q = undefined, P = undefined, H = undefined, R = unknown>(route: RouteDef<B, Q, P, H, R>): RouteDef<B, Q, P, H> {
  return route as RouteDef<B, Q, P, H>;
}

/** `:id` → `{id}` for OpenAPI. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}
