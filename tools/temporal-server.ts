/**
 * The real Temporal server for `npm run cluster`, built from its Go modules at the versions docker-compose.yml
 * pins, so what runs here is what compose runs: `go install` of the server (`go.temporal.io/server/cmd/server`),
 * its SQL schema tool (`…/cmd/tools/sql`, the `temporal-sql-tool` of the admin-tools image) and the Web UI server
 * (`github.com/temporalio/ui-server/v2/cmd/server`, assets embedded), cached in `~/.cache/ai-credits/bin` like the
 * CLI. The server's configuration is the template its image renders (`config/docker.yaml` of the same module),
 * copied beside the binaries, so the same environment variables configure both.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { cacheDir, withLock } from './cache';
import { goBinary, goInstall } from './go-install';
import { isExecutable, runChecked, type Log } from './procs';

const root = path.resolve(__dirname, '..');

const GO_MISSING =
  'npm run cluster builds the Temporal server from its Go module and needs Go (https://go.dev/dl/, the version ' +
  "the server's go.mod names) on PATH.";

export interface ComposeTemporal {
  serverVersion: string;
  uiVersion: string;
  /** The `temporal` service's environment (the server image's template variables). */
  serverEnv: Record<string, string>;
}

/** The versions and server settings of docker-compose.yml (defaults of `${VAR:-default}` applied). */
export function composeTemporal(file = path.join(root, 'docker-compose.yml')): ComposeTemporal {
  const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; environment?: Record<string, string | number | boolean> }>;
  };
  const tag = (service: string, image: string) => {
    const ref = compose.services[service]?.image ?? '';
    const m = new RegExp(`^${image.replace('/', '\\/')}:(\\d+\\.\\d+\\.\\d+)$`).exec(ref);
    if (!m) throw new Error(`${file}: service ${service} should use ${image}:<x.y.z>, has "${ref}"`);
    return m[1];
  };
  const serverEnv = Object.fromEntries(
    Object.entries(compose.services.temporal?.environment ?? {}).map(([k, v]) => [
      k,
      String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'),
    ]),
  );
  return {
    serverVersion: tag('temporal', 'temporalio/server'),
    uiVersion: tag('temporal-ui', 'temporalio/ui'),
    serverEnv,
  };
}

export interface TemporalServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
  /** The image's config template (`# enable-template`), rendered by the server from environment variables. */
  configTemplate: string;
}

export async function ensureTemporalServer(version: string, log: Log): Promise<TemporalServerBinaries> {
  const dir = path.join(cacheDir(), 'bin', `temporal-server-${version}`);
  const files: TemporalServerBinaries = {
    version,
    server: path.join(dir, 'server'),
    sqlTool: path.join(dir, 'sql'),
    configTemplate: path.join(dir, 'docker.yaml'),
  };
  const complete = () => isExecutable(files.server) && isExecutable(files.sqlTool) && existsSync(files.configTemplate);
  if (complete()) return files;
  return withLock(`temporal-server-${version}`, { what: `building Temporal server ${version}`, log }, async () => {
    if (!isExecutable(files.server) || !isExecutable(files.sqlTool)) {
      await goInstall({
        packages: ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'].map(
          (p) => `${p}@v${version}`,
        ),
        binaries: { server: files.server, sql: files.sqlTool },
        what: `Temporal server ${version} and its SQL tool`,
        logName: path.basename(dir),
        goMissing: GO_MISSING,
        log,
      });
    }
    if (!existsSync(files.configTemplate)) {
      const go = goBinary(GO_MISSING);
      const { stdout } = await runChecked(go, ['mod', 'download', '-json', `go.temporal.io/server@v${version}`], {
        what: 'go mod download',
        cwd: dir,
      });
      const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
      copyFileSync(path.join(moduleDir, 'config', 'docker.yaml'), files.configTemplate);
    }
    return files;
  });
}

/** The Temporal Web UI server; its assets are embedded in the module. */
export async function ensureTemporalUi(version: string, log: Log): Promise<string> {
  const dir = path.join(cacheDir(), 'bin', `temporal-ui-${version}`);
  const server = path.join(dir, 'server');
  if (isExecutable(server)) return server;
  return withLock(`temporal-ui-${version}`, { what: `building Temporal UI ${version}`, log }, async () => {
    if (!isExecutable(server)) {
      await goInstall({
        packages: [`github.com/temporalio/ui-server/v2/cmd/server@v${version}`],
        binaries: { server },
        what: `Temporal UI ${version}`,
        logName: path.basename(dir),
        goMissing: GO_MISSING,
        log,
      });
    }
    return server;
  });
}
