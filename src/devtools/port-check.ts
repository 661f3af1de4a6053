/** Whether a TCP port can be had on 127.0.0.1. */
import net from 'node:net';

/** True when nothing listens on `127.0.0.1:<port>` (this process could bind it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
