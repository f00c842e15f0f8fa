// Container health probe for the HTTP API (used by the Dockerfile HEALTHCHECK and docker-compose.yml).
// Exits 0 when GET /healthz answers 2xx within the timeout, 1 otherwise. /healthz itself answers 503
// when PostgreSQL or Temporal is unreachable, so "healthy" means the API can actually serve.
// Node 20 has fetch built in: no curl/wget needed in the slim image.
const port = process.env.PORT || '3000';
const url = process.env.HEALTHCHECK_URL || `http://127.0.0.1:${port}/healthz`;
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 4000);

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    console.error(`healthcheck: ${url} answered ${res.status}: ${await res.text().catch(() => '')}`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  console.error(`healthcheck: ${url} failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
