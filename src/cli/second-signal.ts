/** Stopping gracefully takes time; a person who signals again means now. */

/** After the first stop request, the next SIGINT or SIGTERM exits at once (130 or 143). */
export function exitOnSecondSignal(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}
