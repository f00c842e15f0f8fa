import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { connectionOptions, plainTextEnv, temporalSettings } from '../../src/temporal/connection';
import { ensureCertificates, SERVER_NAME, type CertificateFiles } from '../../tools/certs';

let dir: string;
let certs: CertificateFiles;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ai-credits-tls-'));
  certs = await ensureCertificates(path.join(dir, 'certs'), ['worker']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mtlsEnv = (): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  TEMPORAL_NAMESPACE: 'credits',
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clients.worker.cert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clients.worker.key,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
});

describe('Temporal connection settings (envconfig)', () => {
  it('with nothing given: no address (npm start starts a dev server), namespace default, plain text', () => {
    const s = temporalSettings({});
    expect(s).toMatchObject({ address: undefined, namespace: 'default', tls: undefined, apiKey: undefined });
    expect(s.description).toBe('plain text');
    expect(() => connectionOptions(s)).toThrow(/TEMPORAL_ADDRESS/);
    expect(connectionOptions(s, '127.0.0.1:9999')).toEqual({ address: '127.0.0.1:9999' });
  });

  it('builds mutual TLS from TEMPORAL_TLS_* paths: client pair, CA and server name, read from the files', () => {
    const s = temporalSettings(mtlsEnv());
    expect(s.address).toBe('127.0.0.1:7233');
    expect(s.namespace).toBe('credits');
    expect(s.description).toBe('mTLS');
    const tls = connectionOptions(s).tls;
    if (typeof tls !== 'object' || tls === null) throw new Error(`expected a TLS object, got ${String(tls)}`);
    expect(tls.serverNameOverride).toBe(SERVER_NAME);
    expect(tls.serverRootCACertificate?.toString()).toBe(readFileSync(certs.caCert, 'utf8'));
    expect(tls.clientCertPair?.crt.toString()).toBe(readFileSync(certs.clients.worker.cert, 'utf8'));
    expect(tls.clientCertPair?.key.toString()).toMatch(/BEGIN PRIVATE KEY/);
    // grpc-js (the API's connection) refuses anything but a Buffer; envconfig reads plain Uint8Arrays.
    for (const b of [tls.serverRootCACertificate, tls.clientCertPair?.crt, tls.clientCertPair?.key]) {
      expect(Buffer.isBuffer(b)).toBe(true);
    }
  });

  it('reads a TOML profile, with the environment taking precedence over it', () => {
    const file = path.join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.cluster]',
        'address = "127.0.0.1:7999"',
        'namespace = "billing"',
        '[profile.cluster.tls]',
        `client_cert_path = "${certs.clients.worker.cert}"`,
        `client_key_path = "${certs.clients.worker.key}"`,
        `server_ca_cert_path = "${certs.caCert}"`,
        `server_name = "${SERVER_NAME}"`,
        '[profile.cloud]',
        'address = "ns.acct.tmprl.cloud:7233"',
        'namespace = "ns.acct"',
        'api_key = "secret-key"',
        '',
      ].join('\n'),
    );
    const cluster = temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cluster' });
    expect(cluster).toMatchObject({ address: '127.0.0.1:7999', namespace: 'billing' });
    expect(cluster.description).toBe(`mTLS, profile cluster of ${file}`);
    const overridden = temporalSettings({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cluster',
      TEMPORAL_ADDRESS: 'elsewhere:7233',
    });
    expect(overridden.address).toBe('elsewhere:7233');
    // An API key alone means TLS with the system's roots, as Temporal Cloud needs.
    const cloud = temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'secret-key', tls: true });
    expect(cloud.description).toMatch(/^TLS \+ API key/);
    // TEMPORAL_TLS=false turns it off whatever the profile says.
    expect(
      temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cluster', TEMPORAL_TLS: 'false' }).tls,
    ).toBeUndefined();
    // loadConfig takes address and namespace from the same place.
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cluster' });
    expect(config).toMatchObject({ temporalAddress: '127.0.0.1:7999', temporalNamespace: 'billing' });
  });

  it('stops at start on a missing file, profile or certificate, naming it', () => {
    expect(() => temporalSettings({ TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') })).toThrow(/nope\.toml/);
    const file = path.join(dir, 'empty.toml');
    writeFileSync(file, '');
    expect(() => temporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toThrow(/prod/);
    const missing = path.join(dir, 'missing-key.pem');
    expect(() => temporalSettings({ ...mtlsEnv(), TEMPORAL_TLS_CLIENT_KEY_PATH: missing })).toThrow(/missing-key/);
  });

  it('gives the children of a local dev server its address and none of the TLS settings of another Temporal', () => {
    const env = plainTextEnv({ ...mtlsEnv(), TEMPORAL_API_KEY: 'k', TEMPORAL_PROFILE: 'cluster', PATH: '/bin' }, 'x:1');
    expect(env).toEqual({
      TEMPORAL_ADDRESS: 'x:1',
      TEMPORAL_NAMESPACE: 'credits',
      TEMPORAL_TLS: 'false',
      PATH: '/bin',
    });
    expect(temporalSettings(env).tls).toBeUndefined();
  });
});
