/**
 * A small health server for a process that has no HTTP server of its own (the worker):
 * `GET /healthz` answers 200 while the process runs; `GET /readyz` 200 while `ready()` says so,
 * 503 otherwise (starting, draining, stopped). Bodies are fixed words: nothing about the process leaks.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started health server. */
export interface HealthServer {
  /** `host:port` it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (`[ipv6]:port` too; port 0 picks a free one).
 * @throws Error when it cannot listen
 */
export async function startHealthServer(address: string, ready: () => boolean): Promise<HealthServer> {
  const match = /^(.*):(\d+)$/.exec(address);
  if (!match) throw new Error('The health address must be host:port');
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'method not allowed');
    if (path === '/healthz') return answer(200, 'ok');
    if (path === '/readyz') return ready() ? answer(200, 'ready') : answer(503, 'not ready');
    answer(404, 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(match[2]), match[1].replace(/^\[(.*)\]$/, '$1'), () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
