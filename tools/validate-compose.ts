/**
 * Static checks of docker-compose.yml, the Dockerfile and .dockerignore, with no Docker engine and no
 * compose plugin needed (neither is on the development machines or in CI).
 *
 *   npx tsx tools/validate-compose.ts [path/to/docker-compose.yml]
 *
 * What it checks:
 * - the YAML parses (merge keys `<<` allowed, duplicate keys refused), variables interpolate the way
 *   Compose does (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`, ...);
 * - top-level, service, healthcheck, build and depends_on keys are ones the Compose specification knows
 *   (lists taken from compose-spec.json as shipped in compose-go v2.16.2), and there is no `version:`;
 * - every service has a build or a pinned image (a tag that is not `latest`, or a digest);
 * - every depends_on names an existing service, uses a known condition, has no cycle, and a
 *   `service_healthy` target has a healthcheck;
 * - postgresql, temporal and api have healthchecks, with well-formed tests and durations;
 * - the worker and the API get every setting the app reads, agree on Temporal namespace, task queue,
 *   database and SMTP, point at services of this file that they depend on, wait for the job that
 *   registers their Temporal namespace, and the API listens on
 *   0.0.0.0 on a published port; npm scripts in `command:` exist in package.json;
 * - published host ports are not used twice; named volumes are declared; bind-mount sources exist;
 * - exposure: with BIND_ADDRESS opened (0.0.0.0, or any address), only the API is published beyond loopback and
 *   it follows BIND_ADDRESS; Temporal's gRPC, its UI and the mail catcher stay on 127.0.0.1 (or unpublished), no
 *   service uses the host's network, and the provisioning token asked of the user is at least 32 characters;
 *   Temporal's dynamic config file is mounted and parses;
 * - the Dockerfile: pinned base images, production-only `npm ci`, the sources the worker needs and nothing only
 *   development needs, a non-root user, a HEALTHCHECK, and every COPY source exists and is not excluded by
 *   .dockerignore.
 *
 * Variables come from the environment only (not from a .env file), so the result does not depend on the
 * machine. A `${VAR:?...}` that is unset is reported as a note, not an error: it is required at `up` time.
 * Exit status 0 when there is no error (warnings allowed), 1 otherwise.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const REQUIRED_ENV: Record<string, string[]> = {
  worker: ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'SMTP_URL'],
  api: [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_TASK_QUEUE',
    'SMTP_URL',
    'PORT',
    'HOST',
    'PROVISIONING_TOKEN',
  ],
};
/** Settings the worker and the API must share. */
const SHARED_ENV = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'SMTP_URL'];
const HEALTHCHECK_REQUIRED = ['postgresql', 'temporal', 'api'];
/** Sources the image needs at run time (tsx runs TypeScript; the worker bundles workflows/ at start). */
const IMAGE_SOURCES = ['src', 'workflows', 'activities', 'migrations', 'config', 'package.json', 'package-lock.json'];
/** Development only: the local-stack launcher and tests stay out of the image. */
const DEV_ONLY_SOURCES = ['tools', 'test', 'bench', 'docs'];

// From compose-spec.json (compose-go v2.16.2, the loader behind `docker compose config`).
const TOP_LEVEL_KEYS = new Set(['name', 'include', 'services', 'models', 'networks', 'volumes', 'secrets', 'configs']);
const SERVICE_KEYS = new Set(
  (
    'annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name ' +
    'cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec ' +
    'depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file ' +
    'environment expose extends external_links extra_hosts gpus group_add healthcheck hostname image init ipc ' +
    'isolation label_file labels links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit ' +
    'models network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_start ' +
    'pre_stop privileged profiles provider pull_policy pull_refresh_after read_only restart runtime scale secrets ' +
    'security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits umask ' +
    'use_api_socket user userns_mode uts volumes volumes_from working_dir'
  ).split(' '),
);
const HEALTHCHECK_KEYS = new Set([
  'disable',
  'interval',
  'retries',
  'test',
  'timeout',
  'start_period',
  'start_interval',
]);
const BUILD_KEYS = new Set(
  (
    'context dockerfile dockerfile_inline entitlements args ssh labels cache_from cache_to no_cache no_cache_filter ' +
    'additional_contexts network provenance sbom pull target shm_size extra_hosts isolation privileged secrets tags ' +
    'ulimits platforms'
  ).split(' '),
);
const DEPENDS_ON_KEYS = new Set(['condition', 'restart', 'required']);
const DEPENDS_ON_CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
const FLOATING_TAGS = new Set(['latest', 'stable', 'edge', 'main', 'master', 'nightly', 'dev']);

const errors: string[] = [];
const warnings: string[] = [];
const notes: string[] = [];
let checks = 0;

function check(ok: boolean, message: string, level: 'error' | 'warning' = 'error'): boolean {
  checks++;
  if (!ok) (level === 'error' ? errors : warnings).push(message);
  return ok;
}

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- interpolation (Compose rules)

const requiredUnset = new Set<string>();

/** Interpolates one string the way Compose does; unset `:?` variables become a visible placeholder. */
function interpolate(input: string, env: NodeJS.ProcessEnv, where: string): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < input.length && depth > 0) {
        if (input[j] === '{') depth++;
        else if (input[j] === '}') depth--;
        j++;
      }
      if (depth !== 0) throw new Error(`${where}: unterminated \${ in "${input}"`);
      out += expand(input.slice(i + 2, j - 1), env, where);
      i = j;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i + 1));
      if (!m) throw new Error(`${where}: invalid "$" in "${input}" (write $$ for a literal dollar sign)`);
      out += env[m[0]] ?? '';
      i += 1 + m[0].length;
    }
  }
  return out;
}

function expand(body: string, env: NodeJS.ProcessEnv, where: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
  if (!m) throw new Error(`${where}: invalid substitution "\${${body}}"`);
  const [, name, op, arg = ''] = m;
  const value = env[name];
  const unset = value === undefined;
  const empty = unset || value === '';
  switch (op) {
    case undefined:
      return value ?? '';
    case ':-':
      return empty ? interpolate(arg, env, where) : value!;
    case '-':
      return unset ? interpolate(arg, env, where) : value!;
    case ':+':
      return empty ? '' : interpolate(arg, env, where);
    case '+':
      return unset ? '' : interpolate(arg, env, where);
    case ':?':
    case '?':
      if (op === ':?' ? empty : unset) {
        requiredUnset.add(name);
        return `<${name}>`;
      }
      return value!;
    default:
      throw new Error(`${where}: invalid substitution "\${${body}}"`);
  }
}

function interpolateTree(node: Json, env: NodeJS.ProcessEnv, where: string): Json {
  if (typeof node === 'string') return interpolate(node, env, where);
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, env, `${where}[${i}]`));
  if (isObj(node)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, env, where ? `${where}.${k}` : k);
    return out;
  }
  return node;
}

// ---------------------------------------------------------------- helpers

function parseYamlFile(file: string): Json {
  const doc = parseDocument(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('\n')}`);
  for (const w of doc.warnings) warnings.push(`${file}: ${w.message}`);
  return doc.toJS({ maxAliasCount: 1000 }) as Json;
}

function environmentOf(service: Obj, name: string): Map<string, string | null> {
  const env = new Map<string, string | null>();
  const raw = service.environment;
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const s = String(entry);
      const eq = s.indexOf('=');
      env.set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? null : s.slice(eq + 1));
    }
  } else if (isObj(raw)) {
    for (const [k, v] of Object.entries(raw)) env.set(k, v === null ? null : String(v));
  } else if (raw !== undefined) {
    check(false, `services.${name}.environment must be a mapping or a list`);
  }
  return env;
}

function dependsOn(service: Obj, name: string): Map<string, Obj> {
  const deps = new Map<string, Obj>();
  const raw = service.depends_on;
  if (Array.isArray(raw)) for (const d of raw) deps.set(String(d), { condition: 'service_started' });
  else if (isObj(raw)) {
    for (const [d, spec] of Object.entries(raw)) {
      if (!isObj(spec)) {
        check(false, `services.${name}.depends_on.${d} must be a mapping`);
        continue;
      }
      for (const k of Object.keys(spec))
        check(DEPENDS_ON_KEYS.has(k), `services.${name}.depends_on.${d}: unknown key ${k}`);
      deps.set(d, spec);
    }
  } else if (raw !== undefined) check(false, `services.${name}.depends_on must be a list or a mapping`);
  return deps;
}

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function hasHealthcheck(service: Obj, dockerfileHasHealthcheck: (s: Obj) => boolean): boolean {
  const hc = service.healthcheck;
  if (isObj(hc)) {
    if (hc.disable === true) return false;
    const test = hc.test;
    if (Array.isArray(test) && test[0] === 'NONE') return false;
    if (test !== undefined) return true;
  }
  return dockerfileHasHealthcheck(service);
}

/** `[registry/]repository[:tag][@digest]` → tag and digest. */
function imageRef(image: string): { tag?: string; digest?: string } {
  const [nameTag, digest] = image.split('@', 2);
  const lastSlash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  return { tag: colon > lastSlash ? nameTag.slice(colon + 1) : undefined, digest };
}

function checkPinned(image: string, where: string): void {
  const { tag, digest } = imageRef(image);
  if (digest) return void check(/^sha256:[0-9a-f]{64}$/.test(digest), `${where}: malformed digest in ${image}`);
  if (!check(tag !== undefined && tag !== '', `${where}: image ${image} has no tag (that means :latest); pin one`))
    return;
  check(!FLOATING_TAGS.has(tag!), `${where}: image ${image} uses the floating tag "${tag}"; pin a version`);
  check(
    !/^v?\d+$/.test(tag!),
    `${where}: image ${image} pins only a major version; prefer major.minor[.patch]`,
    'warning',
  );
}

interface PublishedPort {
  service: string;
  ip: string;
  port: number;
  protocol: string;
  target: number;
}

function parsePorts(service: Obj, name: string): PublishedPort[] {
  const out: PublishedPort[] = [];
  const raw = service.ports;
  if (raw === undefined) return out;
  if (!check(Array.isArray(raw), `services.${name}.ports must be a list`)) return out;
  const range = (s: string): number[] => {
    const [a, b] = s.split('-').map(Number);
    const end = b ?? a;
    if (!Number.isInteger(a) || !Number.isInteger(end) || a < 1 || end > 65535 || end < a) return [];
    return Array.from({ length: end - a + 1 }, (_, k) => a + k);
  };
  for (const entry of raw as Json[]) {
    if (isObj(entry)) {
      const target = Number(entry.target);
      const protocol = String(entry.protocol ?? 'tcp');
      const ip = String(entry.host_ip ?? '0.0.0.0');
      check(Number.isInteger(target), `services.${name}.ports: long syntax needs a numeric target`);
      if (entry.published === undefined || entry.published === null) continue;
      for (const p of range(String(entry.published))) out.push({ service: name, ip, port: p, protocol, target });
      continue;
    }
    let spec = String(entry);
    let protocol = 'tcp';
    const slash = spec.lastIndexOf('/');
    if (slash >= 0) [spec, protocol] = [spec.slice(0, slash), spec.slice(slash + 1)];
    let ip = '0.0.0.0';
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(spec);
    if (v6) [ip, spec] = [v6[1], v6[2]];
    const parts = spec.split(':');
    if (!v6 && parts.length === 3) ip = parts.shift()!;
    if (!check(parts.length <= 2, `services.${name}.ports: cannot parse "${String(entry)}"`)) continue;
    const targets = range(parts[parts.length - 1]);
    if (!check(targets.length > 0, `services.${name}.ports: bad container port in "${String(entry)}"`)) continue;
    if (parts.length === 1 || parts[0] === '') continue; // container port only: the engine picks a host port
    const published = range(parts[0]);
    check(published.length > 0, `services.${name}.ports: bad host port in "${String(entry)}"`);
    published.forEach((p, k) =>
      out.push({ service: name, ip, port: p, protocol, target: targets[Math.min(k, targets.length - 1)] }),
    );
  }
  return out;
}

/** host and port of "host:port" or of a URL. */
function endpoint(value: string): { host: string; port?: string } | undefined {
  try {
    if (value.includes('://')) {
      const u = new URL(value);
      return { host: u.hostname, port: u.port || undefined };
    }
    const m = /^([^:/]+)(?::(\d+))?$/.exec(value);
    return m ? { host: m[1], port: m[2] } : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- Dockerfile and .dockerignore

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Docker's rule: patterns in order, the last one matching the path or one of its parents decides. */
function dockerIgnored(rel: string, patterns: string[]): boolean {
  const candidates = rel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = path.posix.normalize((negate ? raw.slice(1) : raw).trim()).replace(/^\/+|\/+$/g, '');
    const re = globToRegExp(pattern);
    if (candidates.some((c) => re.test(c))) ignored = !negate;
  }
  return ignored;
}

function expandSource(root: string, source: string): string[] {
  if (!/[*?[]/.test(source)) return existsSync(path.join(root, source)) ? [source] : [];
  const dir = path.posix.dirname(source);
  const re = globToRegExp(path.posix.basename(source));
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => re.test(f))
    .map((f) => (dir === '.' ? f : `${dir}/${f}`));
}

interface DockerfileInfo {
  hasHealthcheck: boolean;
}

function checkDockerfile(composeDir: string, service: string, build: Obj | string): DockerfileInfo {
  const context = path.resolve(composeDir, typeof build === 'string' ? build : String(build.context ?? '.'));
  const where = `services.${service}.build`;
  if (!check(existsSync(context) && statSync(context).isDirectory(), `${where}: context ${context} is not a directory`))
    return { hasHealthcheck: false };
  if (typeof build !== 'string' && build.dockerfile_inline !== undefined) return { hasHealthcheck: false };
  const dockerfile = path.resolve(
    context,
    typeof build === 'string' ? 'Dockerfile' : String(build.dockerfile ?? 'Dockerfile'),
  );
  if (!check(existsSync(dockerfile), `${where}: ${dockerfile} does not exist`)) return { hasHealthcheck: false };

  const lines = readFileSync(dockerfile, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignoreFile = path.join(context, '.dockerignore');
  const ignore = existsSync(ignoreFile)
    ? readFileSync(ignoreFile, 'utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
    : [];
  check(
    existsSync(ignoreFile),
    `${dockerfile}: no .dockerignore next to it (node_modules and .git would be sent)`,
    'warning',
  );

  const args = new Map<string, string>();
  const stages = new Set<string>();
  let user = 'root';
  let hasHealthcheck = false;
  const copied = new Set<string>();
  let npmCiProd = false;
  for (const line of lines) {
    const [instr, ...restParts] = line.split(/\s+/);
    const rest = restParts.join(' ');
    switch (instr.toUpperCase()) {
      case 'ARG': {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
        if (m && m[2] !== undefined) args.set(m[1], m[2].replace(/^"|"$/g, ''));
        break;
      }
      case 'FROM': {
        const tokens = restParts.filter((t) => !t.startsWith('--'));
        const image = tokens[0].replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => args.get(n) ?? '');
        if (!stages.has(image) && image !== 'scratch') checkPinned(image, `${dockerfile} FROM`);
        if (tokens[1]?.toUpperCase() === 'AS' && tokens[2]) stages.add(tokens[2]);
        user = 'root';
        hasHealthcheck = false;
        break;
      }
      case 'USER':
        user = rest.split(':')[0];
        break;
      case 'HEALTHCHECK':
        hasHealthcheck = !/^NONE\b/i.test(rest);
        break;
      case 'RUN':
        if (/\bnpm\s+ci\b/.test(rest) && /--omit[= ]dev\b|--production\b/.test(rest)) npmCiProd = true;
        break;
      case 'COPY':
      case 'ADD': {
        if (restParts.some((t) => t.startsWith('--from='))) break;
        let parts: string[];
        const nonFlags = rest.replace(/^(--\S+\s+)*/, '');
        if (nonFlags.startsWith('[')) parts = JSON.parse(nonFlags) as string[];
        else parts = nonFlags.split(/\s+/);
        for (const src of parts.slice(0, -1)) {
          const rel = path.posix.normalize(src).replace(/^\.\/|\/$/g, '');
          const matches = expandSource(context, rel);
          check(matches.length > 0, `${dockerfile}: ${instr} source ${src} matches nothing in ${context}`);
          for (const m of matches) {
            check(!dockerIgnored(m, ignore), `${dockerfile}: ${instr} source ${m} is excluded by .dockerignore`);
            copied.add(m.split('/')[0]);
          }
        }
        break;
      }
    }
  }
  check(npmCiProd, `${dockerfile}: expected a production-only install (npm ci --omit=dev)`);
  check(user !== 'root' && user !== '0', `${dockerfile}: the final stage runs as root; add a USER`);
  check(hasHealthcheck, `${dockerfile}: the final stage has no HEALTHCHECK`, 'warning');
  for (const needed of IMAGE_SOURCES)
    check(copied.has(needed), `${dockerfile}: ${needed} is not copied into the image`);
  for (const devOnly of DEV_ONLY_SOURCES)
    check(!copied.has(devOnly), `${dockerfile}: ${devOnly} is for development only, keep it out of the image`);
  return { hasHealthcheck };
}

// ---------------------------------------------------------------- main

function main(): void {
  const composeFile = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'docker-compose.yml'));
  const composeDir = path.dirname(composeFile);
  const raw = parseYamlFile(composeFile);
  if (!isObj(raw)) throw new Error(`${composeFile}: the top level must be a mapping`);

  for (const key of Object.keys(raw)) {
    if (key === 'version') check(false, 'top-level "version:" is obsolete in the Compose specification; remove it');
    else check(TOP_LEVEL_KEYS.has(key) || key.startsWith('x-'), `unknown top-level key "${key}"`);
  }
  const doc = interpolateTree(raw, process.env, '') as Obj;
  const services = doc.services;
  if (!isObj(services) || Object.keys(services).length === 0) throw new Error('no services defined');
  const names = new Set(Object.keys(services));
  const declaredVolumes = new Set(isObj(doc.volumes) ? Object.keys(doc.volumes) : []);

  const packageJson = JSON.parse(readFileSync(path.join(composeDir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const dockerfiles = new Map<string, DockerfileInfo>();
  const dockerfileHealthcheck = (s: Obj) => {
    const b = s.build;
    return b !== undefined && (dockerfiles.get(JSON.stringify(b))?.hasHealthcheck ?? false);
  };

  // Per-service structure, images, builds.
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) {
      check(false, `services.${name} must be a mapping`);
      continue;
    }
    check(/^[a-zA-Z0-9._-]+$/.test(name), `service name "${name}" has characters Compose refuses`);
    for (const key of Object.keys(svc))
      check(SERVICE_KEYS.has(key) || key.startsWith('x-'), `services.${name}: unknown key "${key}"`);
    check(svc.image !== undefined || svc.build !== undefined, `services.${name}: needs an image or a build`);
    if (svc.build !== undefined) {
      const build = svc.build;
      if (isObj(build))
        for (const key of Object.keys(build))
          check(BUILD_KEYS.has(key) || key.startsWith('x-'), `services.${name}.build: unknown key "${key}"`);
      const id = JSON.stringify(build);
      if (!dockerfiles.has(id) && (typeof build === 'string' || isObj(build)))
        dockerfiles.set(id, checkDockerfile(composeDir, name, build));
    } else if (typeof svc.image === 'string') {
      checkPinned(svc.image, `services.${name}`);
    }
    if (svc.healthcheck !== undefined) {
      const hc = svc.healthcheck;
      if (!isObj(hc)) check(false, `services.${name}.healthcheck must be a mapping`);
      else {
        for (const key of Object.keys(hc))
          check(HEALTHCHECK_KEYS.has(key), `services.${name}.healthcheck: unknown key "${key}"`);
        const t = hc.test;
        if (t !== undefined)
          check(
            typeof t === 'string' ||
              (Array.isArray(t) &&
                ['CMD', 'CMD-SHELL', 'NONE'].includes(String(t[0])) &&
                t.length >= (t[0] === 'NONE' ? 1 : 2)),
            `services.${name}.healthcheck.test must be a string or ["CMD"|"CMD-SHELL"|"NONE", ...]`,
          );
        for (const key of ['interval', 'timeout', 'start_period', 'start_interval'])
          if (hc[key] !== undefined)
            check(
              DURATION.test(String(hc[key])),
              `services.${name}.healthcheck.${key}: bad duration "${String(hc[key])}"`,
            );
        if (hc.retries !== undefined)
          check(Number.isInteger(hc.retries), `services.${name}.healthcheck.retries must be an integer`);
      }
    }
    // Commands that run npm scripts must name scripts that exist.
    const command = Array.isArray(svc.command) ? svc.command.map(String) : String(svc.command ?? '').split(/\s+/);
    const run = command.indexOf('run');
    if (svc.build !== undefined && command[0] === 'npm' && run >= 0)
      check(
        packageJson.scripts?.[command[run + 1]] !== undefined,
        `services.${name}.command runs npm script "${command[run + 1]}", which package.json does not define`,
      );
  }

  // depends_on: targets exist, conditions are valid, healthy targets have healthchecks, no cycles.
  const graph = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    const deps = dependsOn(svc, name);
    graph.set(name, [...deps.keys()]);
    for (const [dep, spec] of deps) {
      if (!check(names.has(dep), `services.${name}.depends_on: no service named "${dep}"`)) continue;
      const condition = String(spec.condition ?? 'service_started');
      check(DEPENDS_ON_CONDITIONS.has(condition), `services.${name}.depends_on.${dep}: unknown condition ${condition}`);
      if (condition === 'service_healthy')
        check(
          hasHealthcheck(services[dep] as Obj, dockerfileHealthcheck),
          `services.${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`,
        );
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, trail: string[]): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') return void check(false, `depends_on cycle: ${[...trail, n].join(' -> ')}`);
    state.set(n, 'visiting');
    for (const d of graph.get(n) ?? []) if (names.has(d)) visit(d, [...trail, n]);
    state.set(n, 'done');
  };
  for (const n of names) visit(n, []);

  // Healthchecks the stack relies on.
  for (const name of HEALTHCHECK_REQUIRED)
    if (check(names.has(name), `missing service "${name}"`))
      check(hasHealthcheck(services[name] as Obj, dockerfileHealthcheck), `services.${name} needs a healthcheck`);

  // The app's settings.
  const envs = new Map<string, Map<string, string | null>>();
  for (const [name, required] of Object.entries(REQUIRED_ENV)) {
    if (!check(names.has(name), `missing service "${name}"`)) continue;
    const svc = services[name] as Obj;
    const env = environmentOf(svc, name);
    envs.set(name, env);
    check(svc.env_file === undefined, `services.${name} uses env_file; its settings cannot be checked here`, 'warning');
    for (const key of required) {
      const v = env.get(key);
      check(v !== undefined && v !== null && v !== '', `services.${name}.environment.${key} is not set`);
    }
    const deps = dependsOn(svc, name);
    const target = (key: string, must: boolean): void => {
      const v = env.get(key);
      const ep = v ? endpoint(v) : undefined;
      if (!v || !check(ep !== undefined, `services.${name}.environment.${key}: cannot read a host from "${v}"`)) return;
      if (
        !check(names.has(ep!.host), `services.${name}.environment.${key} points at "${ep!.host}", not a service here`)
      )
        return;
      check(
        deps.has(ep!.host),
        `services.${name} uses ${ep!.host} (${key}) but does not depend_on it`,
        must ? 'error' : 'warning',
      );
    };
    target('DATABASE_URL', true);
    target('TEMPORAL_ADDRESS', true);
    // The worker sends the emails (activities); the API only carries the setting.
    if (name === 'worker') target('SMTP_URL', true);
  }
  const worker = envs.get('worker');
  const api = envs.get('api');
  if (worker && api)
    for (const key of SHARED_ENV)
      check(
        worker.get(key) === api.get(key),
        `worker and api disagree on ${key} ("${worker.get(key)}" vs "${api.get(key)}")`,
      );

  // The API must be reachable: listen on all interfaces, on a published container port.
  const published = Object.entries(services).flatMap(([n, s]) => (isObj(s) ? parsePorts(s, n) : []));
  if (api) {
    check(
      ['0.0.0.0', '::'].includes(api.get('HOST') ?? ''),
      'services.api.environment.HOST must be 0.0.0.0 in a container',
    );
    const port = Number(api.get('PORT') ?? 3000);
    check(
      published.some((p) => p.service === 'api' && p.target === port),
      `services.api listens on ${port} but no published port targets it`,
    );
  }

  // The temporal-namespace job registers the namespace the app uses, and the app waits for it.
  const namespaceJob = services['temporal-namespace'];
  if (check(isObj(namespaceJob), 'missing service "temporal-namespace" (registers the namespace the app uses)')) {
    const ns = environmentOf(namespaceJob as Obj, 'temporal-namespace').get('DEFAULT_NAMESPACE') ?? 'default';
    for (const [name, env] of envs) {
      check(
        ns === env.get('TEMPORAL_NAMESPACE'),
        `temporal-namespace registers namespace "${ns}" but ${name} uses "${env.get('TEMPORAL_NAMESPACE')}"`,
      );
      check(
        dependsOn(services[name] as Obj, name).get('temporal-namespace')?.condition ===
          'service_completed_successfully',
        `services.${name} must wait for temporal-namespace (condition: service_completed_successfully)`,
      );
    }
  }
  const temporal = services.temporal;
  if (isObj(temporal)) {
    const tenv = environmentOf(temporal, 'temporal');
    const dyn = tenv.get('DYNAMIC_CONFIG_FILE_PATH');
    if (dyn) {
      const inContainer = path.posix.resolve('/etc/temporal', dyn);
      const mount = bindMounts(temporal, composeDir).find((m) => inContainer.startsWith(`${m.target}/`));
      if (check(mount !== undefined, `temporal: ${inContainer} (DYNAMIC_CONFIG_FILE_PATH) is not on a bind mount`)) {
        const hostFile = path.join(mount!.source, path.posix.relative(mount!.target, inContainer));
        if (check(existsSync(hostFile), `temporal: dynamic config ${hostFile} does not exist`)) {
          const cfg = parseYamlFile(hostFile);
          check(isObj(cfg), `${hostFile}: must be a mapping of setting -> [{ value, constraints }]`);
          if (isObj(cfg))
            for (const [k, v] of Object.entries(cfg))
              check(
                Array.isArray(v) && v.every((e) => isObj(e) && 'value' in e),
                `${hostFile}: ${k} must be a list of { value, constraints }`,
              );
        }
      }
    }
  }

  // Database credentials agree with what the init script creates.
  const pg = services.postgresql;
  if (isObj(pg) && worker?.get('DATABASE_URL')) {
    const penv = environmentOf(pg, 'postgresql');
    const url = new URL(worker.get('DATABASE_URL')!);
    const expect: [string, string][] = [
      ['APP_DB_USER', decodeURIComponent(url.username)],
      ['APP_DB_PASSWORD', decodeURIComponent(url.password)],
      ['APP_DB_NAME', url.pathname.replace(/^\//, '')],
    ];
    for (const [key, value] of expect)
      if (penv.has(key))
        check(penv.get(key) === value, `DATABASE_URL and services.postgresql.environment.${key} disagree`);
  }

  // Published ports: no host port twice (same protocol, overlapping addresses).
  const wildcard = (ip: string) => ['0.0.0.0', '::', ''].includes(ip);
  for (let i = 0; i < published.length; i++)
    for (let j = i + 1; j < published.length; j++) {
      const a = published[i];
      const b = published[j];
      if (a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || wildcard(a.ip) || wildcard(b.ip)))
        check(false, `host port ${a.port}/${a.protocol} is published by both ${a.service} and ${b.service}`);
    }

  checkExposure(raw);

  // Volumes: named ones declared, bind sources present.
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc) || !Array.isArray(svc.volumes)) continue;
    for (const v of svc.volumes) {
      if (!isObj(v) && !String(v).includes(':')) continue; // short syntax, container path only: anonymous volume
      const source = isObj(v) ? String(v.source ?? '') : String(v).split(':')[0];
      const type = isObj(v) ? String(v.type ?? 'volume') : /^[./~]/.test(source) ? 'bind' : 'volume';
      if (!source || type === 'tmpfs' || type === 'npipe') continue;
      if (type === 'bind')
        check(existsSync(path.resolve(composeDir, source)), `services.${name}: bind source ${source} does not exist`);
      else
        check(
          declaredVolumes.has(source),
          `services.${name}: volume "${source}" is not declared under top-level volumes`,
        );
    }
  }

  if (requiredUnset.size)
    notes.push(
      `required at run time, unset here: ${[...requiredUnset].join(', ')} (Compose refuses to start without them)`,
    );
}

const isLoopback = (ip: string) => ip === 'localhost' || ip === '::1' || /^127\.\d+\.\d+\.\d+$/.test(ip);

/**
 * What the network can reach when the stack is opened with BIND_ADDRESS: the API, and nothing else. Temporal's
 * frontend has no authentication in this file, so a reachable gRPC port would let anyone send Updates that no API
 * check guards; the UIs show every member's workflow and every email.
 */
function checkExposure(raw: Obj): void {
  for (const bind of ['0.0.0.0', '192.0.2.10']) {
    const opened = interpolateTree(raw, { ...process.env, BIND_ADDRESS: bind, PROVISIONING_TOKEN: 'x'.repeat(32) }, '');
    const services = isObj(opened) && isObj(opened.services) ? opened.services : {};
    for (const [name, svc] of Object.entries(services)) {
      if (!isObj(svc)) continue;
      check(
        svc.network_mode !== 'host',
        `services.${name} uses the host's network: every port it listens on is reachable; use ports instead`,
      );
      const ports = parsePorts(svc, name);
      if (name === 'api') {
        check(
          ports.length > 0 && ports.every((p) => p.ip === bind),
          `services.api must be published on BIND_ADDRESS (with BIND_ADDRESS=${bind} it binds ${ports.map((p) => p.ip).join(', ') || 'nothing'})`,
        );
        continue;
      }
      for (const p of ports)
        check(
          isLoopback(p.ip),
          `services.${name} publishes host port ${p.port} on ${p.ip} when BIND_ADDRESS=${bind}: only the API may ` +
            `be opened; publish it on 127.0.0.1 or not at all`,
        );
    }
  }
  const token = /\$\{PROVISIONING_TOKEN(:?[-?])?([^}]*)\}/.exec(JSON.stringify(raw));
  check(
    token === null || token[1] !== ':-' || token[2].length >= 32,
    'PROVISIONING_TOKEN has a default shorter than 32 characters: the API refuses to start with it',
  );
}

function bindMounts(svc: Obj, composeDir: string): { source: string; target: string }[] {
  if (!Array.isArray(svc.volumes)) return [];
  return svc.volumes.flatMap((v) => {
    if (isObj(v))
      return v.type === 'bind'
        ? [{ source: path.resolve(composeDir, String(v.source)), target: String(v.target) }]
        : [];
    const [source, target] = String(v).split(':');
    return /^[./~]/.test(source) && target ? [{ source: path.resolve(composeDir, source), target }] : [];
  });
}

try {
  main();
} catch (err) {
  errors.push(err instanceof Error ? err.message : String(err));
}
for (const n of notes) console.log(`note: ${n}`);
for (const w of warnings) console.log(`warning: ${w}`);
for (const e of errors) console.log(`error: ${e}`);
console.log(
  errors.length
    ? `compose check FAILED: ${errors.length} error(s), ${warnings.length} warning(s) in ${checks} checks`
    : `compose check OK: ${checks} checks, ${warnings.length} warning(s)`,
);
process.exit(errors.length ? 1 : 0);
