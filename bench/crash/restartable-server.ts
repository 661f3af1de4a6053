/**
 * A dev server the crash matrix can crash and start again: `temporal server start-dev` on a SQLite
 * file (WAL), on the same port each time, so clients and workers find it where it was.
 */
import { existsSync } from 'node:fs';
import { freePort, startDevServer, type DevServer } from '../../src/devtools/dev-server';
import { findPidByArgument } from '../proc-stats';

export interface RestartableServerOptions {
  dbFile: string;
  logFile: string;
  sqliteSynchronous: 'NORMAL' | 'FULL';
}

export class RestartableServer {
  private server?: DevServer;
  private port = 0;
  /** How many times the server was SIGKILLed and started again. */
  restarts = 0;

  constructor(private readonly options: RestartableServerOptions) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get namespace(): string {
    return this.server?.namespace ?? 'default';
  }

  /**
   * Starts the server (the same port and state file as before, when it ran already).
   * @throws Error when the store is not in WAL mode
   */
  async start(): Promise<void> {
    this.port ||= await freePort();
    const { dbFile, logFile, sqliteSynchronous } = this.options;
    this.server = await startDevServer({ port: this.port, uiPort: false, dbFilename: dbFile, sqliteSynchronous, logFile, readyTimeoutMs: 120_000 });
    if (!existsSync(`${dbFile}-wal`)) throw new Error(`The dev server's store is not in WAL mode (no ${dbFile}-wal)`);
  }

  /** SIGKILLs the server (no shutdown: what a crash does), then starts it again on the same file. */
  async crashAndRestart(): Promise<void> {
    const pid = findPidByArgument(this.options.dbFile);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    await this.server?.stop();
    this.restarts++;
    await this.start();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
