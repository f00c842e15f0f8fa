/**
 * The service's processes as production runs them: several workers and several API instances, each its own
 * `node` process, restarted when one dies (like compose's `restart: unless-stopped`), with a round-robin in front
 * of the APIs (tools/round-robin.ts). Used by `npm run cluster` and, against a Temporal it is given, by the soak.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  describeExit,
  findFreePorts,
  hasExited,
  killOnExit,
  spawnLogged,
  stopProcess,
  tailFile,
  type Log,
} from './procs';
import { startRoundRobin, type RoundRobin } from './round-robin';

const root = path.resolve(__dirname, '..');

export interface FleetOptions {
  workers: number;
  apis: number;
  /** Port of the round-robin in front of the APIs (0: a free one). */
  port: number;
  logDir: string;
  log: Log;
  /** Environment of every process (database, Temporal, SMTP, provisioning token…). */
  env: NodeJS.ProcessEnv;
  /** Per process, e.g. its own client certificate. */
  envOf?: (name: string) => NodeJS.ProcessEnv;
  /** Called whenever a process (re)started, e.g. to write the pids down. */
  onChange?: () => void;
}

export interface FleetMember {
  name: string;
  kind: 'worker' | 'api';
  pid: number;
  /** Times it was restarted after dying. */
  restarts: number;
  url?: string;
  logFile: string;
}

interface Running extends FleetMember {
  child: ChildProcess;
  /** Where this start's output begins in the log. */
  logOffset: number;
  start(): Promise<void>;
}

export class Fleet {
  readonly members: Running[] = [];
  proxy?: RoundRobin;
  private stopping = false;

  private constructor(private readonly opts: FleetOptions) {}

  static async start(opts: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(opts);
    try {
      const ports = await findFreePorts(opts.apis);
      const specs = [
        ...Array.from({ length: opts.workers }, (_, i) => ({ name: `worker-${i + 1}`, kind: 'worker' as const })),
        ...ports.map((port, i) => ({ name: `api-${i + 1}`, kind: 'api' as const, port })),
      ];
      await Promise.all(specs.map((s) => fleet.add(s.name, s.kind, 'port' in s ? s.port : undefined)));
      const apis = fleet.members.filter((m) => m.kind === 'api').map((m) => m.url!);
      fleet.proxy = await startRoundRobin(apis, opts.port);
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  get url(): string {
    return this.proxy!.url;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.proxy?.close();
    await Promise.all(this.members.map((m) => stopProcess(m.child, 20_000)));
  }

  private async isReady(m: Running): Promise<boolean> {
    if (hasExited(m.child)) return false;
    if (m.kind === 'api')
      return fetch(`${m.url}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
    return readyLine.test(readFileSync(m.logFile, 'utf8').slice(m.logOffset));
  }

  private async add(name: string, kind: 'worker' | 'api', port?: number): Promise<void> {
    const { opts } = this;
    const logFile = path.join(opts.logDir, `${name}.log`);
    const script = kind === 'worker' ? 'src/worker.ts' : 'src/api/server.ts';
    const env = {
      ...opts.env,
      ...opts.envOf?.(name),
      ...(port !== undefined && { PORT: String(port), HOST: '127.0.0.1' }),
    };
    const member = {
      name,
      kind,
      pid: 0,
      restarts: -1,
      url: port === undefined ? undefined : `http://127.0.0.1:${port}`,
      logFile,
      logOffset: 0,
      child: undefined as unknown as ChildProcess,
    } as Running;
    member.start = async () => {
      const child = spawnLogged(process.execPath, ['--import', 'tsx', script], { logFile, env, cwd: root });
      member.logOffset = statSync(logFile).size;
      killOnExit(child);
      member.child = child;
      member.pid = child.pid ?? 0;
      member.restarts++;
      const deadline = Date.now() + 300_000;
      while (!(await this.isReady(member))) {
        if (hasExited(child)) {
          throw new Error(
            `${name} exited (${describeExit(child)}) at start. Last lines of ${logFile}:\n${tailFile(logFile, 15)}`,
          );
        }
        if (Date.now() > deadline) throw new Error(`${name} was not ready in 5 minutes; see ${logFile}`);
        await sleep(100);
      }
      opts.onChange?.();
      child.once('exit', () => {
        if (this.stopping) return;
        opts.log(
          `${name} (pid ${member.pid}) ${describeExit(child)}; starting it again (restart ${member.restarts + 1})`,
        );
        // Restarted until it stays up: a start that fails (e.g. Temporal unreachable for a moment) is retried.
        const again = (): void => {
          if (this.stopping) return;
          member.start().catch((err: Error) => {
            opts.log(`${name}: ${err.message.split('\n')[0]}; retrying in 2 s`);
            setTimeout(again, 2000);
          });
        };
        setTimeout(again, 500);
      });
    };
    this.members.push(member);
    await member.start();
  }
}

/** What src/worker.ts prints once it polls. */
const readyLine = /worker polling task queue/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
