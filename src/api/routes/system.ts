/** Health, the OpenAPI document, Prometheus metrics and the dashboard's static files: no token needed. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RouteContext } from '../context';

const DASHBOARD_DIR = path.join(__dirname, '..', 'dashboard');
const DASHBOARD_FILES: Record<string, string> = {
  '': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

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
  for (const [file, type] of Object.entries(DASHBOARD_FILES)) {
    app.get(`/dashboard${file ? `/${file}` : ''}`, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type(type)
        .header('cache-control', 'no-store')
        .send(await readFile(path.join(DASHBOARD_DIR, file || 'index.html'))),
    );
  }
  app.get('/dashboard/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard'));
}
