/**
 * Certificates for mutual TLS on this machine, made with openssl: a CA, a server certificate for 127.0.0.1 and
 * localhost (also used as the client certificate between Temporal's own services), and one client certificate per
 * name. Made once per folder and reused while they are valid for at least another day, so a restart does not
 * invalidate certificates a running shell has in its environment.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, runChecked } from './procs';

export interface CertificateFiles {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate and key per name (e.g. worker, api, tools). */
  clients: Record<string, { cert: string; key: string }>;
}

/** The name clients verify the server against (in the server certificate with 127.0.0.1). */
export const SERVER_NAME = 'localhost';
const DAYS = 825;

/** Makes whatever is missing or expiring in `dir` and returns the paths. */
export async function ensureCertificates(dir: string, clientNames: string[]): Promise<CertificateFiles> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const files: CertificateFiles = {
    dir,
    caCert: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server-key.pem'),
    clients: Object.fromEntries(
      clientNames.map((n) => [n, { cert: file(`client-${n}.pem`), key: file(`client-${n}-key.pem`) }]),
    ),
  };
  const caKey = file('ca-key.pem');
  // A new CA invalidates everything it signed, so everything is made again with it.
  if (!(await validForADay(files.caCert)) || !existsSync(caKey)) {
    for (const f of [files.serverCert, ...Object.values(files.clients).map((c) => c.cert)]) rmSync(f, { force: true });
    await openssl(['genrsa', '-out', caKey, '2048']);
    await openssl([
      ...['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', String(DAYS)],
      ...['-subj', '/CN=ai-credits local CA', '-out', files.caCert],
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ]);
  }
  if (!(await validForADay(files.serverCert))) {
    // Both usages: Temporal's services also present it to each other as clients (internode TLS).
    await signed(dir, caKey, files.caCert, 'server', files.serverCert, files.serverKey, [
      `subjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1`,
      'extendedKeyUsage=serverAuth,clientAuth',
    ]);
  }
  for (const [name, c] of Object.entries(files.clients)) {
    if (!(await validForADay(c.cert))) {
      await signed(dir, caKey, files.caCert, `ai-credits ${name}`, c.cert, c.key, ['extendedKeyUsage=clientAuth']);
    }
  }
  return files;
}

async function signed(
  dir: string,
  caKey: string,
  caCert: string,
  cn: string,
  cert: string,
  key: string,
  extensions: string[],
): Promise<void> {
  const csr = `${cert}.csr`;
  const ext = `${cert}.ext`;
  writeFileSync(
    ext,
    `${['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', ...extensions].join('\n')}\n`,
  );
  try {
    // PKCS#8 keys ("BEGIN PRIVATE KEY"): what both gRPC stacks of the SDK (Rust core and grpc-js) read.
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr]);
    await openssl([
      ...['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial'],
      ...['-CAserial', path.join(dir, 'ca.srl'), '-days', String(DAYS), '-sha256', '-extfile', ext, '-out', cert],
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

async function validForADay(cert: string): Promise<boolean> {
  if (!existsSync(cert)) return false;
  return (await run('openssl', ['x509', '-checkend', '86400', '-noout', '-in', cert])).code === 0;
}

async function openssl(args: string[]): Promise<void> {
  await runChecked('openssl', args, { what: 'openssl' });
}
