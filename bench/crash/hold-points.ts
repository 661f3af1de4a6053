/**
 * Holding a thread at its kill point: the first time a thread reaches its point (in any worker
 * process), the process claims a marker file (O_EXCL) and holds there, so the matrix can kill it
 * with the thread exactly at that point; a later worker finds the marker and goes on.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KillPoint } from './kill-points';

export class HoldPoints {
  private readonly holdsDir: string;

  constructor(dir: string) {
    this.holdsDir = path.join(dir, 'holds');
    mkdirSync(this.holdsDir, { recursive: true });
  }

  /** True the first time (across processes) `threadId` reaches `point`: the caller holds there. */
  claim(point: KillPoint, threadId: string): boolean {
    try {
      writeFileSync(path.join(this.holdsDir, `${point}--${threadId}`), String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** The threads that have reached `point` (claimed its marker). */
  reached(point: KillPoint): Set<string> {
    const prefix = `${point}--`;
    return new Set(readdirSync(this.holdsDir).filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length)));
  }
}
