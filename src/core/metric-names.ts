/**
 * The names of Airlock's own metrics, shared by the workflow (decisions, time to decide), the tool
 * activity (tool runs) and the worker process (threads awaiting approval). They go out through the
 * Temporal runtime's meter, so they appear on the worker's Prometheus endpoint beside Temporal's own.
 */
export const METRICS = {
  /** Counter. Interrupts resolved, by `tool` and `outcome` (accepted, edited, rejected, responded, timed-out, cancelled). */
  decisions: 'airlock_decisions',
  /** Histogram (milliseconds). From an interrupt's opening to its resolution, by `tool` and `outcome`. */
  timeToDecide: 'airlock_time_to_decide',
  /** Counter. Tool activity attempts, by `tool` and `result` (`ok` or the error type). */
  toolRuns: 'airlock_tool_runs',
  /** Gauge. Running threads waiting for at least one decision (from visibility). */
  threadsAwaitingApproval: 'airlock_threads_awaiting_approval',
  /** Gauge. Running threads waiting for a decision on `tool` (from visibility). */
  threadsAwaitingToolApproval: 'airlock_threads_awaiting_tool_approval',
} as const;

/** Span names and attributes of Airlock's own spans (beside Temporal's `RunActivity:callModel`, `RunActivity:executeTool`, ...). */
export const SPANS = {
  /** One user message being answered: the model turns and tool calls it led to. */
  message: 'airlock.message',
  /** An interrupt, from its opening to its resolution. */
  approval: 'airlock.approval',
} as const;

export const SPAN_ATTRIBUTES = {
  threadId: 'airlock.thread_id',
  message: 'airlock.message_number',
  turn: 'airlock.turn',
  interruptId: 'airlock.interrupt_id',
  tool: 'airlock.tool',
  outcome: 'airlock.outcome',
  approver: 'airlock.approver',
} as const;
