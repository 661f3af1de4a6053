/**
 * A TLS-terminating TCP proxy in front of the run's plain dev server: the smallest real TLS gRPC
 * endpoint. It presents a server certificate, can require a client certificate signed by a CA it
 * trusts (mTLS), and counts the clients it let through, so a test can show a connection really
 * went through TLS.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { CertFiles } from '../tls-certs';

export interface TlsProxy {
  /** `127.0.0.1:<port>`. */
  address: string;
  port: number;
  /** Connections that completed the handshake (with a trusted client certificate, under mTLS). */
  accepted: () => number;
  /** Handshakes that failed (an untrusted or missing client certificate, a client that refused ours). */
  refused: () => number;
  close: () => Promise<void>;
}

/**
 * Listens on a free port of 127.0.0.1 with `server`'s certificate and pipes every accepted
 * connection to `target` (`host:port`). With `clientCa`, a client must present a certificate
 * that CA signed.
 */
export async function startTlsProxy(options: { server: CertFiles; clientCa?: string; target: string }): Promise<TlsProxy> {
  const [targetHost, targetPort] = splitHostPort(options.target);
  let accepted = 0;
  let refused = 0;
  const sockets = new Set<net.Socket>();
  const proxy = tls.createServer(
    {
      cert: readFileSync(options.server.cert),
      key: readFileSync(options.server.key),
      ca: options.clientCa ? readFileSync(options.clientCa) : undefined,
      requestCert: options.clientCa !== undefined,
      rejectUnauthorized: options.clientCa !== undefined,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      accepted++;
      const upstream = net.connect({ host: targetHost, port: targetPort });
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    },
  );
  proxy.on('tlsClientError', () => refused++);
  proxy.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    accepted: () => accepted,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

function splitHostPort(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(index + 1))];
}
