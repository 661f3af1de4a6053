/**
 * Sizes every door enforces, so that no input can grow a payload past Temporal's limits (2 MB per
 * payload) or flood an approver's screen. Characters are UTF-16 code units (JavaScript length).
 */
export const LIMITS = {
  /** A user message. */
  messageChars: 32_000,
  /** A decision's reason. */
  reasonChars: 2_000,
  /** An approver's name. */
  approverChars: 100,
  /** Thread, interrupt and key ids. */
  idChars: 200,
  /** A tool call's arguments, as canonical JSON. */
  toolArgsChars: 64_000,
  /** The text of one model reply. */
  modelTextChars: 200_000,
  /** A tool's result, as the model reads it. */
  toolResultChars: 200_000,
  /** The model activity's whole result, as JSON. */
  modelResultChars: 1_000_000,
  /**
   * The model activity's whole result, as UTF-8 JSON bytes: Temporal refuses a payload over 2 MB,
   * and a thread's pending memo repeats the arguments of the calls that wait.
   */
  modelResultBytes: 1_000_000,
  /**
   * Tool calls one model turn may make; the ones after get a tool error (the model may make them in
   * its next turn). Keeps a turn's activities, and the summaries of the calls that wait, in bounds.
   */
  toolCallsPerTurn: 32,
  /** A tool-call id the thread keeps as the model sent it (others are replaced): it names the call's interrupt. */
  toolCallIdChars: 64,
  /**
   * Refused decisions a run records. Past it, a decision Update that would be refused is refused
   * by its validator, not on record: Temporal accepts at most 2,000 Updates per run, and refusals
   * recorded without end would use them up (and the thread's history) for the approvals to come.
   */
  refusalsOnRecord: 100,
} as const;

/** `64 KB`-style sizes for error messages. */
export function describeSize(chars: number): string {
  return chars >= 1_000_000 ? `${(chars / 1_000_000).toFixed(1)} M characters` : chars >= 1_000 ? `${Math.round(chars / 1_000)} K characters` : `${chars} characters`;
}
