/**
 * Finds (or, as root on Debian/Ubuntu, installs) a Chromium for the dashboard's browser tests.
 *
 *   1. `CHROMIUM_PATH` from the environment, used as is (it must be an executable file);
 *   2. `/usr/bin/chromium` when it exists (a stat: fast when already installed);
 *   3. running as root: `apt-get update && apt-get install -y chromium`, then `/usr/bin/chromium`;
 *   4. otherwise a clear error saying how to provide one.
 *
 * tools/test.ts passes the result to jest as `CHROMIUM_PATH`; test/support/chromium.ts launches it.
 * Run alone: `npx tsx tools/chromium.ts` prints the path.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { formatDuration, type Log } from './procs';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command, passing each output line to `log`; resolves with the exit code. */
function runLogged(cmd: string, args: string[], log: Log): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const forward = (chunk: Buffer, state: { rest: string }) => {
      const lines = (state.rest + chunk.toString('utf8')).split(/\r?\n/);
      state.rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log(`  ${line}`);
    };
    const out = { rest: '' };
    const err = { rest: '' };
    child.stdout.on('data', (c: Buffer) => forward(c, out));
    child.stderr.on('data', (c: Buffer) => forward(c, err));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const s of [out, err]) if (s.rest.trim()) log(`  ${s.rest}`);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** The path of a Chromium binary; installs the distribution's package when needed and allowed (root). */
export async function ensureChromium(log: Log): Promise<string> {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!isExecutableFile(given))
      throw new Error(`CHROMIUM_PATH=${given} is not an executable file; point it at a Chromium or Chrome binary`);
    return given;
  }
  if (isExecutableFile(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(
      `no Chromium found: ${SYSTEM_CHROMIUM} does not exist and we are not root, so it cannot be installed here. ` +
        'Install it (`sudo apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }

  const started = Date.now();
  log(`no Chromium at ${SYSTEM_CHROMIUM}: installing the distribution's package (apt-get, as root)…`);
  log('apt-get update…');
  const update = await runLogged('apt-get', ['update'], log);
  if (update !== 0) throw new Error(`apt-get update exited with code ${update}; cannot install Chromium`);
  log(`apt-get update done in ${formatDuration(Date.now() - started)}; apt-get install -y chromium…`);
  const installStarted = Date.now();
  const install = await runLogged('apt-get', ['install', '-y', 'chromium'], log);
  if (install !== 0) throw new Error(`apt-get install -y chromium exited with code ${install}`);
  if (!isExecutableFile(SYSTEM_CHROMIUM))
    throw new Error(`apt-get installed chromium but ${SYSTEM_CHROMIUM} is still missing; set CHROMIUM_PATH`);
  log(
    `Chromium installed at ${SYSTEM_CHROMIUM} in ${formatDuration(Date.now() - started)} ` +
      `(install ${formatDuration(Date.now() - installStarted)})`,
  );
  return SYSTEM_CHROMIUM;
}

if (require.main === module) {
  ensureChromium((msg) => console.error(`[chromium] ${msg}`)).then(
    (file) => console.log(file),
    (err: unknown) => {
      console.error(`[chromium] ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
