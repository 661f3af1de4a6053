/** When the bench tool started, per thread, as the worker process reports it. */
export class ToolLog {
  private readonly starts = new Map<string, number[]>();
  private readonly waiters = new Map<string, (at: number) => void>();

  record(threadId: string, at: number): void {
    const seen = this.starts.get(threadId);
    if (seen) seen.push(at);
    else this.starts.set(threadId, [at]);
    this.waiters.get(threadId)?.(at);
    this.waiters.delete(threadId);
  }

  /** How often the tool ran for the thread. */
  runs(threadId: string): number {
    return this.starts.get(threadId)?.length ?? 0;
  }

  /** The threads among `threadIds` whose tool did not run exactly once. */
  notRunOnce(threadIds: readonly string[]): string[] {
    return threadIds.filter((threadId) => this.runs(threadId) !== 1);
  }

  /** Every run, all threads. */
  totalRuns(): number {
    let total = 0;
    for (const seen of this.starts.values()) total += seen.length;
    return total;
  }

  /** When the thread's tool first started; waits (up to `timeoutMs`) for a report still on its way. */
  firstStart(threadId: string, timeoutMs = 10_000): Promise<number> {
    const seen = this.starts.get(threadId);
    if (seen) return Promise.resolve(seen[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(threadId);
        reject(new Error(`No tool run reported for thread ${threadId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(threadId, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}
