/**
 * Certificates for TLS tests, made with the system's `openssl`: a CA, a server certificate it
 * signs (for the names a test connects by), and a client certificate it signs (for mTLS). EC P-256
 * keys, unencrypted PKCS#8 PEM, valid for two days. Any test that needs a TLS server or client
 * (the TLS proxy of the connection tests, a TLS cluster) can share them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OPENSSL = process.env.OPENSSL_PATH ?? '/usr/bin/openssl';

/** A certificate and its key, as files. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** A CA, a server certificate and a client certificate it signed, in one folder. */
export interface TlsCerts {
  dir: string;
  ca: CertFiles;
  server: CertFiles;
  client: CertFiles;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA named `name`, its files `<file>.crt` and `<file>.key` in `dir`. */
export function createCa(dir: string, name = 'Airlock test CA', file = 'ca'): CertFiles {
  const files = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return files;
}

/**
 * A certificate signed by `ca`: a server's (`serverNames`: DNS names and IP addresses it answers
 * to) or a client's (`clientName`, its common name).
 */
export function issueCert(ca: CertFiles, dir: string, file: string, use: { serverNames: string[] } | { clientName: string }): CertFiles {
  const files = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
  const csr = path.join(dir, `${file}.csr`);
  const extensions = path.join(dir, `${file}.ext`);
  const server = 'serverNames' in use;
  const subject = server ? use.serverNames[0] : use.clientName;
  const altNames = server ? use.serverNames.map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',') : `DNS:${use.clientName}`;
  writeFileSync(
    extensions,
    [`subjectAltName=${altNames}`, `extendedKeyUsage=${server ? 'serverAuth' : 'clientAuth'}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'].join('\n') + '\n',
  );
  openssl(['req', '-new', ...EC_KEY, '-keyout', files.key, '-out', csr, '-subj', `/CN=${subject}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', files.cert, '-days', '2', '-extfile', extensions], dir);
  return files;
}

/**
 * A fresh CA with a server certificate for `serverNames` (default `localhost` and `127.0.0.1`)
 * and a client certificate, in a new temporary folder (or `dir`).
 */
export function createTlsCerts(options: { dir?: string; serverNames?: string[]; clientName?: string } = {}): TlsCerts {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'airlock-tls-'));
  const ca = createCa(dir);
  return {
    dir,
    ca,
    server: issueCert(ca, dir, 'server', { serverNames: options.serverNames ?? ['localhost', '127.0.0.1'] }),
    client: issueCert(ca, dir, 'client', { clientName: options.clientName ?? 'airlock-test-client' }),
  };
}
