/**
 * Milliseconds on the system's monotonic clock (CLOCK_MONOTONIC). Linux keeps one such clock for
 * every process on the machine, so readings from the bench and from its worker process compare.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
