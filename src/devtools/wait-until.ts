/** Polling with a deadline: every wait of the local cluster ends, and says which log explains why. */

export interface WaitOptions {
  /** How long to wait in all. */
  timeoutMs: number;
  /** Between two checks. Default 250 ms. */
  intervalMs?: number;
  /** What was awaited, for the error: "the history service to answer at 127.0.0.1:7234". */
  what: string;
  /** The log file that explains a failure, named in the error. */
  logFile?: string;
  /** Checked before each try: a reason to give up at once (e.g. "exited with code 1"). */
  failed?: () => string | undefined;
}

/**
 * Calls `check` until it returns true.
 * @throws Error "Timed out after N s waiting for <what>; see <log>" or "<failed reason> while waiting for <what>; see <log>"
 */
export async function waitUntil(check: () => Promise<boolean> | boolean, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const see = options.logFile ? `; see ${options.logFile}` : '';
  for (;;) {
    const failure = options.failed?.();
    if (failure) throw new Error(`${failure} while waiting for ${options.what}${see}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}${see}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
