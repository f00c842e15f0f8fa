/**
 * How every process of the service reaches Temporal: the worker (`NativeConnection`), the API, the CLIs and the
 * tools (`Connection`), all from one set of settings read the way Temporal's own tools read them
 * (`@temporalio/envconfig`): a TOML profile (`TEMPORAL_CONFIG_FILE`, else `~/.config/temporalio/temporal.toml`;
 * profile `TEMPORAL_PROFILE`, else `default`) overridden by the environment (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH`,
 * `TEMPORAL_TLS_CLIENT_KEY_PATH`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`, `TEMPORAL_TLS_SERVER_NAME`, their `…_DATA`
 * twins, `TEMPORAL_GRPC_META_*`). So a Temporal Cloud namespace or an mTLS cluster is configured as for the
 * `temporal` CLI, and one profile file serves both.
 */
import { existsSync } from 'node:fs';
import { Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';

export const DEFAULT_NAMESPACE = 'default';

export interface TemporalSettings {
  /** Unset: nothing given, so `npm start` starts a dev server (and connects to it in plain text). */
  address?: string;
  namespace: string;
  apiKey?: string;
  /** `true`: TLS with the system's roots (an API key alone turns it on, as Temporal Cloud needs). */
  tls?: true | TLSConfig;
  metadata?: Record<string, string>;
  /** For the start-up line: where the settings came from, and how the connection is secured. */
  description: string;
}

/**
 * Reads the settings from `env` and the profile file it names. Paths are read here, so a missing certificate
 * fails at start with its path rather than at the first connection attempt.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const vars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
  // envconfig ignores a config file it cannot find (a default path that is absent is normal); one named
  // explicitly that is absent is a typo worth stopping for.
  if (vars.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(vars.TEMPORAL_CONFIG_FILE)) {
    throw new Error(`TEMPORAL_CONFIG_FILE=${vars.TEMPORAL_CONFIG_FILE} does not exist`);
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    throw new Error(`Temporal client configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
  let connect: ReturnType<typeof toClientOptions>;
  try {
    connect = toClientOptions(profile);
  } catch (err) {
    throw new Error(`Temporal TLS settings: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { tls, apiKey } = connect.connectionOptions;
  const metadata = profile.grpcMeta;
  if (typeof apiKey === 'function') throw new Error('unreachable: envconfig gives API keys as strings');
  const security = describeSecurity(tls, apiKey);
  const source = vars.TEMPORAL_PROFILE
    ? `profile ${vars.TEMPORAL_PROFILE}${vars.TEMPORAL_CONFIG_FILE ? ` of ${vars.TEMPORAL_CONFIG_FILE}` : ''}`
    : undefined;
  return {
    address: profile.address || undefined,
    namespace: profile.namespace || DEFAULT_NAMESPACE,
    apiKey: apiKey || undefined,
    tls: tls === undefined || tls === null || tls === false ? undefined : asBuffers(tls),
    metadata: metadata && Object.keys(metadata).length > 0 ? metadata : undefined,
    description: source ? `${security}, ${source}` : security,
  };
}

/**
 * envconfig reads certificates into plain Uint8Arrays; grpc-js (the client's connection) accepts only Buffers
 * ("rootCerts must be a Buffer"), so they are wrapped, without a copy.
 */
function asBuffers(tls: true | TLSConfig): true | TLSConfig {
  if (tls === true) return tls;
  const buf = (b: Uint8Array | undefined) =>
    b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    ...tls,
    serverRootCACertificate: buf(tls.serverRootCACertificate),
    clientCertPair: tls.clientCertPair && { crt: buf(tls.clientCertPair.crt)!, key: buf(tls.clientCertPair.key)! },
  };
}

function describeSecurity(tls: ConnectionOptions['tls'], apiKey: string | undefined): string {
  if (tls === undefined || tls === null || tls === false) return apiKey ? 'API key without TLS' : 'plain text';
  const mutual = typeof tls === 'object' && tls.clientCertPair !== undefined;
  return [mutual ? 'mTLS' : 'TLS', apiKey ? 'API key' : undefined].filter(Boolean).join(' + ');
}

/** For a dev server started on this machine, which speaks plain text whatever a profile says about the given one. */
export function plainText(settings: TemporalSettings): TemporalSettings {
  return { namespace: settings.namespace, description: 'plain text' };
}

/**
 * The environment for a child process (worker, API) of a dev server started on this machine: its address, and
 * none of the TLS or API-key settings meant for another Temporal (the shell's, or a profile's).
 */
export function plainTextEnv(env: NodeJS.ProcessEnv, address: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (!/^TEMPORAL_(TLS|API_KEY|PROFILE|CONFIG_FILE|GRPC_META_)/.test(k)) out[k] = v;
  }
  return { ...out, TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'false' };
}

/** The options both connection kinds take; `address` overrides the settings' (a server started locally). */
export function connectionOptions(settings: TemporalSettings, address?: string): NativeConnectionOptions {
  const target = address ?? settings.address;
  if (target === undefined) {
    throw new Error('TEMPORAL_ADDRESS (or an address in the TEMPORAL_PROFILE profile) is required here');
  }
  return {
    address: target,
    ...(settings.tls !== undefined && { tls: settings.tls }),
    ...(settings.apiKey !== undefined && { apiKey: settings.apiKey }),
    ...(settings.metadata !== undefined && { metadata: settings.metadata }),
  };
}

/** For the API, the CLIs and the tools (gRPC from JavaScript). */
export function connectClient(settings: TemporalSettings, address?: string): Promise<Connection> {
  return Connection.connect(connectionOptions(settings, address) as ConnectionOptions);
}

/** For the worker (the SDK's Rust core). */
export function connectWorker(settings: TemporalSettings, address?: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(settings, address));
}
