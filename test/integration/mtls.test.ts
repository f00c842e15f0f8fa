/**
 * The secured path, cheaply: the dev server speaks plain text only (`temporal server start-dev` has no TLS
 * options), so a TLS terminator that requires a client certificate from our CA stands in front of it, as the
 * frontend of `npm run cluster` does. The worker's connection (Rust core) and the API's (grpc-js) reach Temporal
 * through it with settings read from TEMPORAL_TLS_* exactly as in production; without a client certificate, or
 * with one from another CA, the handshake fails.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { connectClient, connectWorker, temporalSettings } from '../../src/temporal/connection';
import { ensureCertificates, SERVER_NAME, type CertificateFiles } from '../../tools/certs';
import { env, quiet } from '../support/harness';

let dir: string;
let certs: CertificateFiles;
let strangers: CertificateFiles;
let terminator: tls.Server;
let address: string;
const handshakes = { authorized: 0, refused: 0 };

beforeAll(async () => {
  quiet();
  dir = mkdtempSync(path.join(os.tmpdir(), 'ai-credits-mtls-'));
  [certs, strangers] = await Promise.all([
    ensureCertificates(path.join(dir, 'ours'), ['worker', 'api']),
    ensureCertificates(path.join(dir, 'theirs'), ['worker']),
  ]);
  const [upstreamHost, upstreamPort] = env('TEMPORAL_ADDRESS').split(':');
  terminator = tls.createServer(
    {
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: readFileSync(certs.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      handshakes.authorized++;
      const upstream = net.connect(Number(upstreamPort), upstreamHost);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    },
  );
  terminator.on('tlsClientError', () => handshakes.refused++);
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(terminator.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => terminator?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const tlsEnv = (c: CertificateFiles, client: string): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: address,
  TEMPORAL_TLS_CLIENT_CERT_PATH: c.clients[client].cert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: c.clients[client].key,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
});

test('the worker and the API connect with client certificates; nobody connects without one of ours', async () => {
  const worker = await connectWorker(temporalSettings(tlsEnv(certs, 'worker')));
  const api = await connectClient(temporalSettings(tlsEnv(certs, 'api')));
  try {
    const [fromWorker, fromApi] = await Promise.all([
      worker.workflowService.describeNamespace({ namespace: 'default' }),
      api.workflowService.describeNamespace({ namespace: 'default' }),
    ]);
    expect(fromWorker.namespaceInfo?.name).toBe('default');
    expect(fromApi.namespaceInfo?.name).toBe('default');
  } finally {
    await worker.close();
    await api.close();
  }
  expect(handshakes.authorized).toBeGreaterThanOrEqual(2);

  const refusedBefore = handshakes.refused;
  const attempts: [string, NodeJS.ProcessEnv][] = [
    ['no client certificate', { TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert }],
    ['a certificate of another CA', tlsEnv(strangers, 'worker')],
  ];
  const outcomes: string[] = [];
  for (const [what, e] of attempts) {
    const settings = temporalSettings({ ...e, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
    const options = { address, tls: settings.tls, connectTimeout: 3000 };
    const attempt = (connect: Promise<{ close(): Promise<void> }>) =>
      connect.then(
        (c) => c.close().then(() => 'connected'),
        () => 'refused',
      );
    outcomes.push(`${what}, client: ${await attempt(Connection.connect(options))}`);
    outcomes.push(`${what}, worker: ${await attempt(connectWorker(settings))}`);
  }
  expect(outcomes).toEqual(attempts.flatMap(([what]) => [`${what}, client: refused`, `${what}, worker: refused`]));
  expect(handshakes.refused).toBeGreaterThan(refusedBefore);
});
