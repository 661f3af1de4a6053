/**
 * The certificates and key of a TLS connection to Temporal, read once at start and checked, so a
 * missing file, a file that is not PEM or a certificate that does not match its key fails at once
 * with a sentence naming the setting and the file (never its contents), not later as a handshake
 * error.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { UsageError } from './args';
import { readSettingFile } from './setting-files';

/** Where one piece of TLS material comes from: a file, or the PEM text itself. */
export type TlsSource = { path: string } | { data: Uint8Array | string };

/** A piece of TLS material and the names of the settings that may give it, for error messages. */
export interface NamedTlsSource {
  source?: TlsSource;
  /** What names it to the user, e.g. `TEMPORAL_TLS_CLIENT_KEY_PATH` or `tls.client_key_path of profile 'prod'`. */
  setting: string;
}

/** The three pieces of a TLS connection's material, each optional. */
export interface TlsSources {
  serverName?: string;
  serverCaCert: NamedTlsSource;
  clientCert: NamedTlsSource;
  clientKey: NamedTlsSource;
}

/**
 * Reads and checks the TLS material: the server CA and client certificate must be PEM
 * certificates, the client key a PEM private key matching the certificate; a certificate needs its
 * key and a key its certificate.
 * @throws UsageError naming the setting and the file (never the contents)
 */
export function readTlsMaterial(given: TlsSources, cwd: string): TLSConfig {
  const sources = { ...given, serverCaCert: resolved(given.serverCaCert, cwd), clientCert: resolved(given.clientCert, cwd), clientKey: resolved(given.clientKey, cwd) };
  const serverCa = readPem(sources.serverCaCert);
  const cert = readPem(sources.clientCert);
  const key = readPem(sources.clientKey);
  if (serverCa) parseCertificate(serverCa, sources.serverCaCert, 'the server CA certificate');
  if (cert && !key) throw new UsageError(`A TLS client certificate (${sources.clientCert.setting}) needs its private key (${sources.clientKey.setting})`);
  if (key && !cert) throw new UsageError(`A TLS client key (${sources.clientKey.setting}) needs its certificate (${sources.clientCert.setting})`);
  if (cert && key) checkPair(cert, key, sources);
  return {
    serverNameOverride: sources.serverName,
    serverRootCACertificate: serverCa,
    clientCertPair: cert && key ? { crt: cert, key } : undefined,
  };
}

/** The source with its path made absolute (relative paths are relative to the working directory). */
function resolved(named: NamedTlsSource, cwd: string): NamedTlsSource {
  return named.source && 'path' in named.source ? { ...named, source: { path: path.resolve(cwd, named.source.path) } } : named;
}

function describe(named: NamedTlsSource): string {
  return named.source && 'path' in named.source ? `${named.source.path} (${named.setting})` : named.setting;
}

function readPem(named: NamedTlsSource): Buffer | undefined {
  const { source } = named;
  if (!source) return undefined;
  if ('data' in source) return Buffer.from(source.data);
  return readSettingFile(source.path, describe(named));
}

function parseCertificate(pem: Buffer, named: NamedTlsSource, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new UsageError(`${describe(named)} is not a PEM certificate (${what})`);
  }
}

function checkPair(cert: Buffer, key: Buffer, sources: TlsSources): void {
  const certificate = parseCertificate(cert, sources.clientCert, 'the client certificate');
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new UsageError(`${describe(sources.clientKey)} is not an unencrypted PEM private key (the client key)`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new UsageError(`The TLS client key (${sources.clientKey.setting}) does not belong to the client certificate (${sources.clientCert.setting})`);
  }
}
