import { DEFAULT_TASK_QUEUE } from '../workflows/ids';
import { temporalSettings, type TemporalSettings } from './temporal/connection';
import { DEFAULT_WEBHOOK_RETRY, type WebhookRetrySchedule } from '../workflows/webhook-delivery/types';

/** Configuration by environment (spec §12); every value has a working default. */
export interface Config {
  port: number;
  host: string;
  /** Unset: `npm start` starts a private PostgreSQL cluster under `.data/`. */
  databaseUrl?: string;
  /** Unset: `npm start` starts a Temporal dev server. */
  temporalAddress?: string;
  temporalNamespace: string;
  /** Address, namespace, TLS and API key, as Temporal's tools read them (src/temporal/connection.ts). */
  temporal: TemporalSettings;
  taskQueue: string;
  /** Unset: `npm start` starts a local SMTP catcher. */
  smtpUrl?: string;
  provisioningToken?: string;
  /** `LOG_LEVEL` (pino's levels: trace, debug, info, warn, error, fatal, silent); debug shows the bundler's report. */
  logLevel: string;
  rateLimits: RateLimits;
  webhooks: WebhookSettings;
}

/** Where webhooks may go and how they are retried (spec §16). */
export interface WebhookSettings {
  /** `WEBHOOK_ALLOW_PRIVATE=1`: private, loopback and link-local receivers accepted (development and tests). */
  allowPrivate: boolean;
  /** Most one attempt waits for an answer. */
  timeoutMs: number;
  retry: WebhookRetrySchedule;
}

export function webhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings {
  const allow = env.WEBHOOK_ALLOW_PRIVATE ?? '';
  if (!['', '0', '1'].includes(allow)) throw new Error(`WEBHOOK_ALLOW_PRIVATE must be 1 or 0, got ${allow}`);
  return { allowPrivate: allow === '1', timeoutMs: 5_000, retry: DEFAULT_WEBHOOK_RETRY };
}

/** Requests per minute and token, per API instance (spec §17). */
export interface RateLimits {
  /** `RATE_LIMIT_PER_MINUTE`: member, finance and provisioning tokens. */
  perMinute: number;
  /** `RATE_LIMIT_AGENT_PER_MINUTE`: agent service tokens, whose consumptions are the hot path. */
  agentPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perMinute: 600, agentPerMinute: 6_000 };

/** Below this the provisioning token is refused at start: it opens every team. */
export const MIN_PROVISIONING_TOKEN_LENGTH = 32;

export function checkProvisioningToken(token: string): string {
  if (token.length < MIN_PROVISIONING_TOKEN_LENGTH) {
    throw new Error(
      `PROVISIONING_TOKEN is ${token.length} characters long; it must have at least ${MIN_PROVISIONING_TOKEN_LENGTH} ` +
        '(e.g. `openssl rand -hex 32`)',
    );
  }
  // What the Authorization header parser accepts (src/api/auth.ts): anything else could never authenticate.
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) {
    throw new Error('PROVISIONING_TOKEN must be at most 512 printable ASCII characters without spaces');
  }
  return token;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const temporal = temporalSettings(env);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporal,
    taskQueue: env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    smtpUrl: env.SMTP_URL || undefined,
    provisioningToken: env.PROVISIONING_TOKEN || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    rateLimits: {
      perMinute: positiveInteger(env, 'RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMITS.perMinute),
      agentPerMinute: positiveInteger(env, 'RATE_LIMIT_AGENT_PER_MINUTE', DEFAULT_RATE_LIMITS.agentPerMinute),
    },
    webhooks: webhookSettings(env),
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  }
  return n;
}

/** For processes that need everything given (the worker and API run alone, as in docker-compose). */
export function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is required when the worker or API is started on its own`);
  return value;
}
