/**
 * A quick look at the server before a Temporal connection is made: a refused connection, an
 * unknown host or a TLS handshake that fails (an untrusted certificate, a wrong server name, a
 * client certificate the server refuses) is reported at once and in words, where the gRPC channel
 * would keep retrying until its deadline and then say only that it could not connect.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TLSConfig } from '@temporalio/client';

/** What the probe needs to know of the connection. */
export interface ProbeTarget {
  address: string;
  tls: boolean;
  tlsConfig?: TLSConfig;
}

/** The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server answers with its own SETTINGS. */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * Resolves when the server accepts a connection (with TLS: a full handshake, and the server's first
 * HTTP/2 frame, so a refused client certificate shows too); rejects with a short reason otherwise.
 */
export function probeServer(target: ProbeTarget, timeoutMs = 5_000): Promise<void> {
  const hostPort = splitAddress(target.address);
  if (!hostPort) return Promise.resolve();
  return target.tls ? probeTls(hostPort, target.tlsConfig ?? {}, timeoutMs) : probeTcp(hostPort, timeoutMs);
}

function splitAddress(address: string): { host: string; port: number } | undefined {
  const match = /^(.*):(\d+)$/.exec(address);
  return match ? { host: match[1].replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) } : undefined;
}

function probeTcp({ host, port }: { host: string; port: number }, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000}s`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(socketReason(err))));
  });
}

function probeTls({ host, port }: { host: string; port: number }, config: TLSConfig, timeoutMs: number): Promise<void> {
  // The name sent (SNI) and checked against the certificate: the override, else the host (an IP is checked, not sent).
  const servername = config.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      timeout: timeoutMs,
      ALPNProtocols: ['h2'],
      servername,
      ca: config.serverRootCACertificate ? [Buffer.from(config.serverRootCACertificate)] : undefined,
      cert: config.clientCertPair ? Buffer.from(config.clientCertPair.crt) : undefined,
      key: config.clientCertPair ? Buffer.from(config.clientCertPair.key) : undefined,
    });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(reason));
    };
    socket.once('secureConnect', () => socket.write(HTTP2_PREFACE));
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => fail(`no answer within ${timeoutMs / 1000}s`));
    socket.once('end', () => fail('the server closed the TLS connection without answering: it may require a client certificate it trusts'));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(tlsReason(err, servername ?? host)));
  });
}

function socketReason(err: NodeJS.ErrnoException): string {
  return err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message;
}

function tlsReason(err: NodeJS.ErrnoException, name: string): string {
  const code = err.code ?? '';
  if (UNTRUSTED.has(code)) return `the server's certificate is not signed by a trusted CA (${code}): check the server CA certificate`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate is not for '${name}': check the address or the TLS server name`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate is not valid now (${code})`;
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) return `the server refused the TLS connection (${code}): it may require a client certificate it trusts`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') return 'the server does not answer TLS: is TLS meant to be on?';
  if (code === 'ECONNRESET') return 'the server closed the connection during the TLS handshake';
  return socketReason(err);
}
