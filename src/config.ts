import { DEFAULT_TASK_QUEUE } from '../workflows/ids';

/** Configuration by environment (spec §12); every value has a working default. */
export interface Config {
  port: number;
  host: string;
  /** Unset: `npm start` starts a private PostgreSQL cluster under `.data/`. */
  databaseUrl?: string;
  /** Unset: `npm start` starts a Temporal dev server. */
  temporalAddress?: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Unset: `npm start` starts a local SMTP catcher. */
  smtpUrl?: string;
  provisioningToken?: string;
  /** `LOG_LEVEL` (pino's levels: trace, debug, info, warn, error, fatal, silent); debug shows the bundler's report. */
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    smtpUrl: env.SMTP_URL || undefined,
    provisioningToken: env.PROVISIONING_TOKEN || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}

/** For processes that need everything given (the worker and API run alone, as in docker-compose). */
export function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is required when the worker or API is started on its own`);
  return value;
}
