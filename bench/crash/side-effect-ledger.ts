/**
 * The crash matrix's side-effect ledger: a directory that survives every process. The effect of a
 * tool call is a file named for its idempotency key, created with O_EXCL (`wx`): the first run of
 * a key creates it, every later run finds it and does nothing. Separately, every run of the tool
 * appends one line to an attempts log, so retries show even when they changed nothing.
 *
 * "Exactly once" here is Temporal's at-least-once activity execution (a killed attempt is retried
 * with the same idempotency key) combined with this idempotent write; neither alone gives it.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One line of the attempts log. */
export interface AttemptRecord {
  key: string;
  /** Temporal's attempt number of the tool activity. */
  attempt: number;
  pid: number;
  /** `started` when the run began; `applied` / `already-applied` when it reached the effect. */
  stage: 'started' | 'applied' | 'already-applied';
}

/** What the ledger holds, read back after the run. */
export interface LedgerContents {
  /** Idempotency keys whose effect took place (one file each: a key cannot have two), with the process that made it (when its write completed). */
  effects: Map<string, number | undefined>;
  /** Runs of the tool per key (lines `started`). */
  attempts: Map<string, number>;
  /** Runs that found the effect already there (a retry after the effect). */
  alreadyApplied: Map<string, number>;
  /** Lines cut short by a kill in the middle of a write (ignored). */
  tornLines: number;
}

export class SideEffectLedger {
  private readonly effectsDir: string;
  private readonly attemptsLog: string;

  constructor(readonly dir: string) {
    this.effectsDir = path.join(dir, 'effects');
    this.attemptsLog = path.join(dir, 'attempts.jsonl');
    mkdirSync(this.effectsDir, { recursive: true });
  }

  /** Appends one line to the attempts log. */
  recordAttempt(record: AttemptRecord): void {
    appendFileSync(this.attemptsLog, `${JSON.stringify(record)}\n`);
  }

  /**
   * Makes the effect of `key` take place unless it already did (writing `entry` and this process's
   * id): true when this call made it.
   * @throws the file system's error other than "already exists"
   */
  applyOnce(key: string, entry: string): boolean {
    try {
      writeFileSync(path.join(this.effectsDir, encodeURIComponent(key)), JSON.stringify({ entry, pid: process.pid }), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Reads the effects and the attempts log. */
  read(): LedgerContents {
    const effects = new Map(readdirSync(this.effectsDir).map((name) => [decodeURIComponent(name), pidOf(path.join(this.effectsDir, name))]));
    const attempts = new Map<string, number>();
    const alreadyApplied = new Map<string, number>();
    let tornLines = 0;
    let text = '';
    try {
      text = readFileSync(this.attemptsLog, 'utf8');
    } catch {
      // No tool ran at all.
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let record: AttemptRecord;
      try {
        record = JSON.parse(line) as AttemptRecord;
      } catch {
        tornLines++;
        continue;
      }
      const counter = record.stage === 'started' ? attempts : record.stage === 'already-applied' ? alreadyApplied : undefined;
      counter?.set(record.key, (counter.get(record.key) ?? 0) + 1);
    }
    return { effects, attempts, alreadyApplied, tornLines };
  }
}

/** The thread an idempotency key (`<threadId>/<turn>/<toolCallId>`) belongs to (the matrix's thread ids hold no `/`). */
export const threadOfKey = (key: string): string => key.split('/')[0];

/** The process id an effect file names; `undefined` when a kill cut its write short. */
function pidOf(file: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}
