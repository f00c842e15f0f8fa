/** Health, the OpenAPI document, Prometheus metrics and the dashboard's static files: no token needed. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteContext } from '../context';

const DASHBOARD_DIR = path.join(__dirname, '..', 'dashboard');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** What the page loads from node_modules (no CDN), served under /dashboard/vendor/. */
const VENDOR_FILES: Record<string, string> = {
  // The UMD build: the ES module build imports a bare package name a browser cannot resolve without an import map.
  'chart.umd.min.js': path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
  'chart.umd.min.js.map': path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js.map'),
};

const SAFE_SEGMENT = /^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9]+)*$/i;

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The dashboard's files, read once at start: one route per file found (so no request path ever reaches the file
 * system, and `..` has nothing to match), the page itself at /dashboard. The image's files do not change while the
 * process runs; an ETag lets browsers revalidate each load cheaply (`no-cache`) instead of running stale modules.
 */
function dashboardFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const add = (urlPath: string, file: string) => {
    const type = CONTENT_TYPES[path.extname(file)];
    if (!type) return;
    const body = readFileSync(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(urlPath, { body, type, etag });
  };
  // Plain files and folders only: a symbolic link (isFile() is false for it) cannot lead out of the folder.
  const walk = (relative: string[]) => {
    for (const entry of readdirSync(path.join(DASHBOARD_DIR, ...relative), { withFileTypes: true })) {
      if (!SAFE_SEGMENT.test(entry.name)) continue;
      const parts = [...relative, entry.name];
      const urlPath = parts.join('/') === 'index.html' ? '/dashboard' : `/dashboard/${parts.join('/')}`;
      if (entry.isDirectory()) walk(parts);
      else if (entry.isFile()) add(urlPath, path.join(DASHBOARD_DIR, ...parts));
    }
  };
  walk([]);
  for (const [name, file] of Object.entries(VENDOR_FILES)) add(`/dashboard/vendor/${name}`, file);
  return files;
}

/** The security headers (CSP included) come from helmet, as on every answer. */
function sendStatic(file: StaticFile, req: FastifyRequest, reply: FastifyReply) {
  reply.type(file.type).header('cache-control', 'no-cache').header('etag', file.etag);
  if (req.headers['if-none-match'] === file.etag) return reply.status(304).send();
  return reply.send(file.body);
}

export function systemRoutes({ app, deps, metrics }: RouteContext): void {
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const checks = deps.health ? await deps.health() : {};
    const ok = Object.values(checks).every(Boolean);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.render()),
  );
  for (const [urlPath, file] of dashboardFiles()) {
    app.get(urlPath, { schema: { hide: true } }, async (req, reply) => sendStatic(file, req, reply));
  }
  app.get('/dashboard/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard'));
}
