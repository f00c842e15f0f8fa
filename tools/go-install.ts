/**
 * `go install` of pinned Go packages into the per-user cache (tools/cache.ts), for the binaries that come from
 * their Go modules: the Temporal CLI built from source (tools/temporal-cli.ts) and the Temporal server, its SQL tool
 * and the Web UI (tools/temporal-server.ts). The build goes to a staging folder, its output to a log file under
 * `<cache>/logs`, and only a complete build is moved into place: a binary present in the cache is a whole one.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './cache';
import {
  describeExit,
  formatDuration,
  hasExited,
  indent,
  isExecutable,
  killOnExit,
  spawnLogged,
  tailFile,
  which,
  type Log,
} from './procs';

/** `go` on PATH or where its installers put it; `missing` is the error when there is none. */
export function goBinary(missing: string): string {
  const go = which('go', ['/usr/local/go/bin', path.join(process.env.HOME ?? '/root', 'go', 'bin')]);
  if (go === undefined) throw new Error(missing);
  return go;
}

export interface GoInstall {
  /** `module/path/cmd@vX.Y.Z` of each package. */
  packages: string[];
  /** Each binary the packages build (its name in GOBIN) and where it goes, all in one folder of the cache. */
  binaries: Record<string, string>;
  /** What is built, for the messages: "the Temporal CLI v1.5.1". */
  what: string;
  /** The log file is `<cache>/logs/go-install-<logName>.log`. */
  logName: string;
  /** Linker flags besides `-s -w`, e.g. `-X module/pkg.Version=1.5.1`. */
  ldflags?: string[];
  /** The error when Go is not installed. */
  goMissing: string;
  /** Appended to the error when the build fails. */
  failureHint?: string;
  log: Log;
}

export async function goInstall(opts: GoInstall): Promise<void> {
  const go = goBinary(opts.goMissing);
  const targets = Object.values(opts.binaries);
  const staging = path.join(path.dirname(targets[0]), `.staging-${opts.logName}-${process.pid}`);
  const logFile = path.join(cacheDir(), 'logs', `go-install-${opts.logName}.log`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    opts.log(`Building ${opts.what} with go install (first run only; minutes on 2 cores)…`);
    opts.log(`  output: ${logFile}`);
    const started = Date.now();
    // Stripped; -trimpath keeps the build reproducible.
    const ldflags = ['-s', '-w', ...(opts.ldflags ?? [])].join(' ');
    const child = spawnLogged(go, ['install', '-trimpath', `-ldflags=${ldflags}`, ...opts.packages], {
      logFile,
      env: { ...process.env, GOBIN: staging, GOFLAGS: process.env.GOFLAGS ?? '' },
    });
    const removeHook = killOnExit(child);
    const heartbeat = setInterval(
      () => opts.log(`  still building ${opts.what}… (${formatDuration(Date.now() - started)} so far)`),
      60_000,
    );
    try {
      await new Promise<void>((resolve) => {
        if (hasExited(child)) resolve();
        else child.once('close', () => resolve());
        child.once('error', () => resolve());
      });
    } finally {
      clearInterval(heartbeat);
      removeHook();
    }
    const built = Object.keys(opts.binaries).map((name) => path.join(staging, name));
    if (child.exitCode !== 0 || !built.every(isExecutable)) {
      throw new Error(
        `Building ${opts.what} failed (go install ${describeExit(child)}). Last lines of ${logFile}:\n` +
          indent(tailFile(logFile, 20)) +
          (opts.failureHint ? `\n${opts.failureHint}` : ''),
      );
    }
    for (const [name, target] of Object.entries(opts.binaries)) {
      mkdirSync(path.dirname(target), { recursive: true });
      renameSync(path.join(staging, name), target); // atomic: `target` existing means a complete binary
    }
    opts.log(`Built ${opts.what} in ${formatDuration(Date.now() - started)}: ${targets.join(', ')}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
