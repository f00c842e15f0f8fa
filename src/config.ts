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
  /**
   * `LEDGER_BACKSTOP_SECONDS`: how long a member workflow waits for the API's write-through of a consumption's
   * ledger row before writing it itself (unset: the workflow's default, 60 s). Applies to workflows started after.
   */
  ledgerBackstopMs?: number;
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
    ledgerBackstopMs: parseBackstop(env.LEDGER_BACKSTOP_SECONDS),
  };
}

function parseBackstop(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw new Error(`LEDGER_BACKSTOP_SECONDS must be a whole number of seconds from 1 to 3600, got ${value}`);
  }
  return seconds * 1000;
}

/** For processes that need everything given (the worker and API run alone, as in docker-compose). */
export function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is required when the worker or API is started on its own`);
  return value;
}
