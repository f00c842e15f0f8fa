/**
 * The one local-stack launcher: PostgreSQL, a Temporal dev server and an SMTP catcher, for `npm start`,
 * `npm test`, the fault suite and the bench. A server the environment gives (`url` / `address`: DATABASE_URL,
 * TEMPORAL_ADDRESS, SMTP_URL) is used as is; the others are started here, with data and logs under `dataDir`,
 * and `stop()` stops what was started. Prints one line per component with its address.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MailCatcher } from './mail-catcher';
import { freshDatabase, startPostgres, type PostgresOptions, type RunningPostgres } from './postgres';
import { assertPortFree, findFreePorts, formatDuration, type Log } from './procs';
import { startTemporalDevServer, type RunningDevServer, type TemporalDevServerOptions } from './temporal-dev-server';

export interface LocalStackOptions {
  /** `pg/`, `temporal.db` and the servers' logs go here. */
  dataDir: string;
  log: Log;
  postgres: {
    url?: string;
    /** 0: a free port. */
    port: number;
    database: string;
    /** Drop and create `database` (also on a given server): the run starts from an empty schema. */
    fresh?: boolean;
    /** `-c name=value` server settings. */
    settings?: Record<string, string>;
  };
  /** Unset: no Temporal at all (`npm run cluster` runs its own). */
  temporal?: {
    address?: string;
    /** 0: a free port. */
    port: number;
    /** Unset: no Web UI. */
    uiPort?: number;
    /** Start from empty state rather than the previous run's. */
    fresh?: boolean;
    dynamicConfig?: Record<string, string | number | boolean>;
  };
  /** Unset: no SMTP at all. */
  smtp?: {
    url?: string;
    /** 0: a free port. */
    port: number;
    /** Where the catcher saves each email (`.eml`); unset: kept in memory only. */
    saveDir?: string;
  };
}

export class LocalStack {
  databaseUrl = '';
  temporalAddress = '';
  temporalUiUrl?: string;
  smtpUrl?: string;
  /** Set when started here (not given). */
  postgres?: RunningPostgres;
  temporal?: RunningDevServer;
  mail?: MailCatcher;
  private postgresOptions?: PostgresOptions;
  private temporalOptions?: TemporalDevServerOptions;

  private constructor(private readonly opts: LocalStackOptions) {}

  static async start(opts: LocalStackOptions): Promise<LocalStack> {
    const stack = new LocalStack(opts);
    mkdirSync(opts.dataDir, { recursive: true });
    // Side by side: a first start initializes the cluster while the Temporal CLI downloads.
    const results = await Promise.allSettled([stack.setUpPostgres(), stack.setUpTemporal()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    try {
      if (failed !== undefined) throw failed.reason;
      await stack.setUpSmtp();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  /** Stops what was started (errors are printed, not thrown), the catcher first, PostgreSQL last. */
  async stop(): Promise<void> {
    const report = (err: unknown) => console.error(err instanceof Error ? err.message : String(err));
    await this.mail?.stop().catch(report);
    await this.temporal?.stop().catch(report);
    await this.postgres?.stop().catch(report);
  }

  /**
   * Stops the PostgreSQL started here (`immediate`: like a crash, the next start replays the WAL) and starts it
   * again on the same data and port after `downMs`.
   */
  async restartPostgres(mode: 'fast' | 'immediate', downMs: number): Promise<void> {
    if (this.postgres === undefined || this.postgresOptions === undefined) {
      throw new Error('PostgreSQL was given (DATABASE_URL), not started here: it is not ours to restart');
    }
    await this.postgres.stop(mode);
    await sleep(downMs);
    this.postgres = await startPostgres(this.postgresOptions);
  }

  /** Stops the Temporal dev server started here and starts it again on the same state and port after `downMs`. */
  async restartTemporal(downMs: number): Promise<void> {
    if (this.temporal === undefined || this.temporalOptions === undefined) {
      throw new Error('Temporal was given (TEMPORAL_ADDRESS), not started here: it is not ours to restart');
    }
    await this.temporal.stop();
    await sleep(downMs);
    this.temporal = await startTemporalDevServer({ ...this.temporalOptions, fresh: false });
  }

  private async setUpPostgres(): Promise<void> {
    const { url, database, fresh, settings } = this.opts.postgres;
    if (url !== undefined) {
      this.databaseUrl = fresh ? await freshDatabase(url, database) : url;
      this.line('PostgreSQL', redactPassword(this.databaseUrl), fresh ? 'fresh, on DATABASE_URL' : 'DATABASE_URL');
      return;
    }
    const started = Date.now();
    const [port] = this.opts.postgres.port === 0 ? await findFreePorts(1) : [this.opts.postgres.port];
    this.postgresOptions = {
      dataDir: path.join(this.opts.dataDir, 'pg'),
      port,
      database,
      settings,
      log: this.opts.log,
      logFile: path.join(this.opts.dataDir, 'postgres.log'),
      portHint: 'Stop the other process, set POSTGRES_PORT, or set DATABASE_URL to use that server.',
    };
    this.postgres = await startPostgres(this.postgresOptions);
    this.databaseUrl = fresh ? await freshDatabase(this.postgres.adminUrl, database) : this.postgres.databaseUrl;
    this.line('PostgreSQL', this.databaseUrl, `data ${shortPath(this.postgres.dataDir)}`, started);
  }

  private async setUpTemporal(): Promise<void> {
    if (this.opts.temporal === undefined) return;
    const { address, uiPort, fresh, dynamicConfig } = this.opts.temporal;
    if (address !== undefined) {
      this.temporalAddress = address;
      this.line('Temporal', address, 'TEMPORAL_ADDRESS');
      return;
    }
    const started = Date.now();
    const [port] = this.opts.temporal.port === 0 ? await findFreePorts(1) : [this.opts.temporal.port];
    this.temporalOptions = {
      port,
      uiPort,
      dataDir: this.opts.dataDir,
      fresh,
      dynamicConfig,
      log: this.opts.log,
      logFile: path.join(this.opts.dataDir, 'temporal.log'),
    };
    this.temporal = await startTemporalDevServer(this.temporalOptions);
    this.temporalAddress = this.temporal.address;
    this.temporalUiUrl = this.temporal.uiUrl;
    const state = fresh ? 'dev server, fresh state' : `dev server, state ${shortPath(this.opts.dataDir)}/temporal.db`;
    this.line('Temporal', this.temporalAddress, state, started);
    if (this.temporalUiUrl !== undefined) this.line('Temporal UI', this.temporalUiUrl);
  }

  private async setUpSmtp(): Promise<void> {
    const smtp = this.opts.smtp;
    if (smtp === undefined) return;
    if (smtp.url !== undefined) {
      this.smtpUrl = smtp.url;
      this.line('SMTP', redactPassword(smtp.url), 'SMTP_URL');
      return;
    }
    if (smtp.port !== 0) {
      await assertPortFree(smtp.port, 'local SMTP catcher', {
        hint: 'Stop the other process or set SMTP_URL / SMTP_PORT.',
      });
    }
    this.mail = new MailCatcher(smtp.saveDir);
    this.smtpUrl = await this.mail.start(smtp.port);
    this.line('SMTP', this.smtpUrl, smtp.saveDir ? `catcher, emails in ${shortPath(smtp.saveDir)}` : 'catcher');
  }

  private line(component: string, address: string, detail?: string, startedAt?: number): void {
    const took = startedAt === undefined ? '' : `, ${formatDuration(Date.now() - startedAt)}`;
    this.opts.log(componentLine(component, address, detail === undefined ? undefined : detail + took));
  }
}

/** `API          http://127.0.0.1:3000  (dashboard …)`: the shape of every line the launchers print. */
export function componentLine(component: string, address: string, detail?: string): string {
  return `${component.padEnd(12)} ${address}${detail === undefined ? '' : `  (${detail})`}`;
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Relative to the working directory when inside it: `.data/pg` reads better than `/home/…/ai-credits/.data/pg`. */
function shortPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
