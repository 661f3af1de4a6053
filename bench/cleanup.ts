/** Stops what the bench started, last started first, exactly once, whatever failed before. */
export class Cleanup {
  private readonly steps: Array<() => Promise<void>> = [];
  private running?: Promise<void>;

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  /** Runs the cleanup and exits on SIGINT / SIGTERM. */
  onSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: stopping what the bench started\n`);
        void this.run().finally(() => process.exit(130));
      });
    }
  }

  private async runSteps(): Promise<void> {
    for (const step of [...this.steps].reverse()) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`Cleanup step failed: ${String(err)}\n`);
      }
    }
  }
}
