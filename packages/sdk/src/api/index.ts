/**
 * `@airlock/sdk/api`: the Airlock API's types, generated from the server's GET /openapi.json
 * (openapi.ts, `npm run api:types`), and what a client needs to call it by them: the answer, body,
 * path parameters and query of each route, looked up by method and path template, and `apiPath`,
 * which fills a template in. The dashboard, the CLI and the SDK's remote transport send their
 * requests through these, so a route's answer is written down once: in the server's views.
 */
import type { paths } from './openapi.js';

export type { components, paths } from './openapi.js';

/** The methods the API uses. */
export type ApiMethod = 'GET' | 'POST' | 'DELETE';

type Operation<P extends keyof paths, M extends ApiMethod> = NonNullable<paths[P][Lowercase<M>]>;

/** The path templates that answer `method` (`/v1/approvals/{id}`). */
export type ApiPath<M extends ApiMethod> = {
  [P in keyof paths]: paths[P][Lowercase<M>] extends { responses: unknown } ? P : never;
}[keyof paths];

/** What a successful (200) JSON answer of the route carries. */
export type ApiResponse<M extends ApiMethod, P extends ApiPath<M>> =
  Operation<P, M> extends { responses: { 200: { content: { 'application/json': infer R } } } } ? R : never;

/** The JSON body the route takes; `undefined` when it takes none. */
export type ApiBody<M extends ApiMethod, P extends ApiPath<M>> =
  Operation<P, M> extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;

/** The route's path parameters; `never` when it has none. */
export type ApiParams<M extends ApiMethod, P extends ApiPath<M>> = Operation<P, M> extends { parameters: { path: infer X } } ? X : never;

/** The route's query parameters; `never` when it has none. */
export type ApiQuery<M extends ApiMethod, P extends ApiPath<M>> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? ([Q] extends [undefined] ? never : NonNullable<Q>) : never;

/**
 * What a request to the route gives beside method and path: `params` when the template has
 * parameters, `query` when the route reads one, `body` when it takes one (each required exactly
 * when the route requires it).
 */
export type ApiRequest<M extends ApiMethod, P extends ApiPath<M>> = ([ApiParams<M, P>] extends [never] ? { params?: undefined } : { params: ApiParams<M, P> }) &
  ([ApiQuery<M, P>] extends [never] ? { query?: undefined } : { query?: ApiQuery<M, P> }) &
  ([ApiBody<M, P>] extends [undefined] ? { body?: undefined } : { body: ApiBody<M, P> });

/** A query value as sent: undefined ones are left out. */
type QueryValue = string | number | boolean | undefined | null;

/**
 * The path to request: the template with each `{name}` replaced by its parameter, percent-encoded,
 * and the query's defined values appended. `apiPath('/v1/approvals/{id}/wait', { id: 'ap 1' }, { timeout: 30 })`
 * is `/v1/approvals/ap%201/wait?timeout=30`. A parameter the template names but `params` lacks
 * is an error, never the text `undefined` in a URL.
 */
export function apiPath(template: string, params?: Record<string, string | number>, query?: object): string {
  const path =
    params === undefined
      ? template
      : template.replace(/\{([A-Za-z_*]+)\}/g, (_, name: string) => {
          const value = params[name];
          if (value === undefined) throw new TypeError(`apiPath: ${template} needs the parameter ${name}`);
          return encodeURIComponent(String(value));
        });
  if (query === undefined) return path;
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query) as [string, QueryValue][]) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
