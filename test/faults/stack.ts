/**
 * The fault-injection suite's own stack: PostgreSQL, the Temporal dev server, the worker and the API as separate
 * processes it can kill and restart, an SMTP catcher, and a TCP proxy in front of the API that drops connections.
 * The worker and the API run under a small supervisor, as they would under docker-compose `restart: always`.
 */
import { type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { LocalStack } from '../../tools/local-stack';
import { plainTextEnv } from '../../src/temporal/connection';
import type { MailCatcher } from '../../tools/mail-catcher';
import { findFreePorts, hasExited, spawnLogged, stopProcess, waitForTcp, type Log } from '../../tools/procs';

const root = path.resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Continue-as-new within a period happens under this load too (the server default is 10k events). */
const SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 300;

/** A child process restarted when it dies, unless we are the ones who stopped it. */
class Supervised {
  private child?: ChildProcess;
  private stopping = false;
  unexpectedExits = 0;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: () => NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly log: Log,
    private readonly readyPort?: number,
  ) {}

  async start(): Promise<void> {
    this.stopping = false;
    // `node --import tsx`, not the tsx wrapper: one process, so SIGKILL hits the worker itself, not a parent.
    const child = spawnLogged(process.execPath, ['--import', 'tsx', ...this.args], {
      logFile: this.logFile,
      env: this.env(),
      cwd: root,
    });
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.unexpectedExits++;
      this.log(`${this.name} exited by itself (${signal ?? `code ${code}`}); restarting it`);
      void sleep(1000).then(() => (this.stopping || this.child !== child ? undefined : this.start()));
    });
    if (this.readyPort !== undefined) {
      // Generous: a restart on a busy 2-core machine compiles the service again (tsx) while the load goes on.
      await waitForTcp(this.readyPort, '127.0.0.1', 180_000, { child, what: this.name, logFile: this.logFile });
    }
  }

  /** SIGKILL: no shutdown hooks, in-flight activities and requests die with the process. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || hasExited(child)) return;
    this.stopping = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await stopProcess(this.child, 10_000);
  }
}

/** Forwards to the API; with probability `dropRate` cuts a connection mid-request (after the API got it). */
export class DroppingProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  dropRate = 0;
  drops = 0;

  constructor(private readonly upstreamPort: number) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.upstreamPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        // The request reached the API and its answer is on the way back: the worst moment to lose it.
        if (Math.random() < this.dropRate) {
          this.drops++;
          close();
          return;
        }
        client.write(chunk);
      });
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

export interface FaultCounts {
  workerKills: number;
  postgresRestarts: number;
  temporalRestarts: number;
  apiKills: number;
}

export class FaultStack {
  readonly counts: FaultCounts = { workerKills: 0, postgresRestarts: 0, temporalRestarts: 0, apiKills: 0 };
  readonly taskQueue = 'ai-credits-faults';
  readonly provisioningToken = 'faults-provisioning-token-0123456789abcdef';
  databaseUrl = '';
  temporalAddress = '';
  apiUrl = '';
  /** The proxied API address the load uses. */
  proxyUrl = '';
  proxy!: DroppingProxy;
  worker!: Supervised;
  api!: Supervised;

  private servers?: LocalStack;

  constructor(
    private readonly dataDir: string,
    readonly log: Log,
  ) {}

  get mail(): MailCatcher {
    return this.servers!.mail!;
  }

  async start(): Promise<void> {
    const [apiPort] = await findFreePorts(1);
    this.servers = await LocalStack.start({
      dataDir: this.dataDir,
      log: () => undefined,
      postgres: {
        url: process.env.FAULTS_DATABASE_URL || undefined,
        port: 0,
        database: 'ai_credits_faults',
        settings: { max_connections: '200' },
      },
      temporal: {
        port: 0,
        fresh: true,
        dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS },
      },
      smtp: { port: 0 },
    });
    this.databaseUrl = this.servers.databaseUrl;
    this.temporalAddress = this.servers.temporalAddress;

    const env = (): NodeJS.ProcessEnv => ({
      // Its own dev server, in plain text, whatever TLS settings the shell has for another Temporal.
      ...plainTextEnv(process.env, this.temporalAddress),
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      SMTP_URL: this.servers!.smtpUrl,
      PROVISIONING_TOKEN: this.provisioningToken,
      // The load is one agent token far above its default limit; the suite checks the ledger, not the limit.
      RATE_LIMIT_AGENT_PER_MINUTE: '100000000',
      RATE_LIMIT_PER_MINUTE: '100000000',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // The suite's webhook receiver listens on loopback.
      WEBHOOK_ALLOW_PRIVATE: '1',
    });
    this.worker = new Supervised('worker', ['src/worker.ts'], env, this.logFile('worker.log'), this.log);
    this.api = new Supervised('api', ['src/api/server.ts'], env, this.logFile('api.log'), this.log, apiPort);
    await this.worker.start();
    await this.api.start();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.proxy = new DroppingProxy(apiPort);
    this.proxyUrl = `http://127.0.0.1:${await this.proxy.start()}`;
  }

  private logFile(name: string): string {
    return path.join(this.dataDir, name);
  }

  /** SIGKILL the worker, leave it down for `downMs`, start a new one. */
  async killWorker(downMs = 2000): Promise<void> {
    this.log('fault: SIGKILL worker');
    await this.worker.kill();
    this.counts.workerKills++;
    await sleep(downMs);
    await this.worker.start();
  }

  /** SIGKILL the API process (every open connection and request with it), start a new one. */
  async killApi(downMs = 1000): Promise<void> {
    this.log('fault: SIGKILL api');
    await this.api.kill();
    this.counts.apiKills++;
    await sleep(downMs);
    await this.api.start();
  }

  /** Abort PostgreSQL like a crash (`pg_ctl stop -m immediate`: WAL recovery on start), start it again. */
  async restartPostgres(downMs = 3000): Promise<void> {
    if (!this.servers?.postgres) {
      this.log('fault: PostgreSQL restart skipped (FAULTS_DATABASE_URL is not ours to restart)');
      return;
    }
    this.log('fault: PostgreSQL immediate stop');
    this.counts.postgresRestarts++;
    await this.servers.restartPostgres('immediate', downMs);
    this.log('fault: PostgreSQL back');
  }

  /** Stop the Temporal dev server and start it again on the same SQLite file and port. */
  async restartTemporal(downMs = 2000): Promise<void> {
    this.log('fault: Temporal dev server restart');
    this.counts.temporalRestarts++;
    await this.servers!.restartTemporal(downMs);
    this.log('fault: Temporal dev server back');
  }

  async stop(): Promise<void> {
    await this.proxy?.stop().catch(() => undefined);
    await this.api?.stop().catch(() => undefined);
    await this.worker?.stop().catch(() => undefined);
    await this.servers?.stop();
  }
}
