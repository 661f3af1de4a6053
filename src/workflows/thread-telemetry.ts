/**
 * What a thread tells operators: a span per message answered and per approval waited for, and the
 * decision metrics. Deterministic and replay-safe: spans use workflow time and the workflow's
 * seeded randomness, and are exported (through the OpenTelemetry interceptors' sink) only outside
 * replay; `metricMeter` emits nothing during replay. Neither adds a command to history.
 *
 * Without the tracing interceptors in the bundle, `@opentelemetry/api` answers with its no-op
 * tracer and context manager: the spans cost a few function calls and go nowhere.
 */
import { context, trace, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { metricMeter } from '@temporalio/workflow';
import { METRICS, SPANS, SPAN_ATTRIBUTES } from '../core';
import type { HitlInterrupt, InterruptResolution } from '../core';

const tracer = () => trace.getTracer('airlock');

/** The approver of a resolution, where a person decided. */
function approverOf(resolution: InterruptResolution): string | undefined {
  return 'approver' in resolution ? resolution.approver : undefined;
}

/** A thread's spans and decision metrics. */
export class ThreadTelemetry {
  /** The trace each queued message arrived in (its Update's or signal's span), by message number. */
  private readonly arrivals = new Map<number, Context>();

  // Made per thread run: the workflow's meter tags what it emits with the run's namespace and task queue.
  private readonly decisions = metricMeter.createCounter(METRICS.decisions, 'decisions', 'Interrupts resolved, by tool and outcome');
  private readonly timeToDecide = metricMeter.createHistogram(METRICS.timeToDecide, 'int', 'ms', 'From an interrupt opening to its resolution, by tool and outcome');

  constructor(
    private readonly threadId: string,
    private readonly agentName: string,
  ) {}

  /** Remembers the trace message `n` arrived in: it is answered in that trace. Call from its handler. */
  messageArrived(n: number): void {
    this.arrivals.set(n, context.active());
  }

  /** Runs `answer` inside an `airlock.message` span, a child of the span the message arrived in. */
  async answering<T>(n: number | undefined, answer: () => Promise<T>): Promise<T> {
    const parent = (n !== undefined && this.arrivals.get(n)) || context.active();
    if (n !== undefined) this.arrivals.delete(n);
    const span = tracer().startSpan(SPANS.message, { attributes: { [SPAN_ATTRIBUTES.threadId]: this.threadId, ...(n !== undefined && { [SPAN_ATTRIBUTES.message]: n }) } }, parent);
    try {
      return await context.with(trace.setSpan(parent, span), answer);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  }

  /** Starts the `airlock.approval` span of an interrupt that just opened (in the current message's trace). */
  approvalOpened(interrupt: HitlInterrupt): Span {
    return tracer().startSpan(SPANS.approval, {
      startTime: Date.parse(interrupt.createdAt),
      attributes: { [SPAN_ATTRIBUTES.threadId]: this.threadId, [SPAN_ATTRIBUTES.interruptId]: interrupt.id, [SPAN_ATTRIBUTES.tool]: interrupt.toolName },
    });
  }

  /** Ends the approval's span with its outcome and approver, and counts the decision and its wait. */
  approvalResolved(interrupt: HitlInterrupt, span: Span): void {
    const resolution = interrupt.resolution;
    if (!resolution) return;
    const outcome = resolution.type;
    const approver = approverOf(resolution);
    span.setAttribute(SPAN_ATTRIBUTES.outcome, outcome);
    if (approver !== undefined) span.setAttribute(SPAN_ATTRIBUTES.approver, approver);
    span.end(Date.now());
    const waitedMs = Math.max(0, Date.now() - Date.parse(interrupt.createdAt));
    const tags = { tool: interrupt.toolName, outcome, agent: this.agentName };
    this.decisions.add(1, tags);
    this.timeToDecide.record(Number.isFinite(waitedMs) ? Math.round(waitedMs) : 0, tags);
  }
}
