import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import { notFound } from '../errors.js';

/** The built single-page dashboard (`packages/dashboard/dist`, copied into this package's `dashboard-dist/`), read once at start. */
export interface DashboardSite {
  /** index.html; undefined when the dashboard was not built. */
  index: string | undefined;
  assetsDir: string;
}

export const ASSETS_PREFIX = '/assets/';

/**
 * Headers of the dashboard page. The app loads only its own hashed scripts and talks only to this
 * origin; it may not be framed (an approve button must not be clickjacked).
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Airlock</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Airlock</h1>
<p>The control plane is running, but the dashboard has not been built. Run <code>npm run build</code> at the repository root (npm install and npm start do it) and restart.</p>
<p>API: <a href="/openapi.json">/openapi.json</a> · <a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p>
</body>
</html>
`;

export function loadDashboard(dir: string): DashboardSite {
  const indexFile = join(dir, 'index.html');
  return { index: existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : undefined, assetsDir: join(dir, 'assets') };
}

export function sendDashboardPage(reply: FastifyReply, site: DashboardSite): FastifyReply {
  return reply
    .headers(PAGE_HEADERS)
    .type('text/html; charset=utf-8')
    .send(site.index ?? NOT_BUILT_PAGE);
}

/**
 * Client-side routes (`/approvals/apr_…`, `/fleet/…`) are pages of the app: a GET for an HTML
 * page outside the API and the assets gets index.html; everything else stays a JSON 404.
 */
export function isDashboardRoute(method: string, path: string, accept: string | undefined): boolean {
  if (method !== 'GET') return false;
  if (path.startsWith('/v1/') || path === '/v1' || path.startsWith(ASSETS_PREFIX)) return false;
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (last.includes('.')) return false;
  return accept !== undefined && accept.includes('text/html');
}

/** Sends one hashed asset (cached for a year: its name changes with its content), or 404. */
export async function sendDashboardAsset(reply: FastifyReply, site: DashboardSite, name: string): Promise<FastifyReply> {
  // `name` is one path segment (checked by the route schema), so it cannot leave assets/.
  if (!existsSync(join(site.assetsDir, name))) throw notFound(`asset '${name}'`);
  reply.header('x-content-type-options', 'nosniff');
  return reply.sendFile(name, site.assetsDir, { immutable: true, maxAge: '365d' });
}
