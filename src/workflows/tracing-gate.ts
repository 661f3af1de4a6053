/**
 * Temporal's OpenTelemetry workflow interceptors, for the threads that began traced only.
 *
 * Why a gate: those interceptors wrap handlers and activity calls in promises of their own, which
 * moves the order of a workflow task's commands. A thread recorded without them fails to replay
 * with them, and one recorded with them fails to replay without them (nondeterminism either way).
 * So whether a run is traced is decided once, when it begins, and recorded in its first workflow
 * task by the SDK flag the interceptors themselves consult
 * (`OpenTelemetryInterceptorsInstrumentsAllMethods`): asked outside replay, the flag is set and
 * recorded; asked in replay, it is true only where it was recorded. Every bundle carries the gate
 * (`trace-replay-interceptors.ts` when the worker does not trace, `tracing-interceptors.ts` when it
 * does), so tracing can be turned on and off under running threads.
 *
 * Untraced runs pass every call straight through (no promise added, no module of OpenTelemetry
 * loaded); the interceptors are loaded on the first traced run.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowInternalsInterceptor, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';
import { SdkFlags } from '@temporalio/workflow/lib/flags';
import { getActivator } from '@temporalio/workflow/lib/global-attributes';

type Intercept = (input: unknown, next: (input: unknown) => unknown) => unknown;
type OtelWorkflowModule = typeof import('@temporalio/interceptors-opentelemetry/lib/workflow');

const INBOUND = ['execute', 'handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'];
const OUTBOUND = ['scheduleActivity', 'scheduleLocalActivity', 'startNexusOperation', 'startChildWorkflowExecution', 'continueAsNew', 'signalWorkflow', 'getLogAttributes', 'getMetricTags'];
const INTERNALS = ['dispose'];

/** Loaded on first use: the module patches the sandbox's globals (`performance`) for OpenTelemetry. */
const otel = (): OtelWorkflowModule => require('@temporalio/interceptors-opentelemetry/lib/workflow') as OtelWorkflowModule;

/** An interceptor whose `methods` go to `make()`'s when `traced()`, straight to `next` otherwise. */
function gated<T>(traced: () => boolean, make: () => object, methods: string[]): T {
  let real: Record<string, Intercept | undefined> | undefined;
  const gate: Record<string, Intercept> = {};
  for (const method of methods) {
    gate[method] = (input, next) => {
      if (!traced()) return next(input);
      real ??= make() as Record<string, Intercept | undefined>;
      const intercept = real[method];
      return intercept ? intercept.call(real, input, next) : next(input);
    };
  }
  return gate as T;
}

/**
 * Each run's gate, by the run's activator. (A workflow module is loaded once per run, but one
 * preloaded into the shared context would serve every run: keyed, the gate stays the run's own.)
 */
const gates = new WeakMap<object, () => boolean>();

/** Whether this run is traced: false in a bundle without the gate. */
export function isTracedRun(): boolean {
  return gates.get(getActivator())?.() ?? false;
}

/**
 * The gated interceptors. `traceNewThreads`: whether a run that begins on this worker is traced
 * (the worker exports spans); runs that began elsewhere keep what they began with.
 */
export function gatedTracingInterceptors(traceNewThreads: boolean): WorkflowInterceptors {
  let began: boolean | undefined;
  // Decided at the first interception (the first activation's flags are known by then), then fixed for the run.
  const traced = () =>
    (began ??= workflowInfo().unsafe.isReplaying || traceNewThreads ? getActivator().hasFlag(SdkFlags.OpenTelemetryInterceptorsInstrumentsAllMethods) : false);
  gates.set(getActivator(), traced);
  return {
    inbound: [gated<WorkflowInboundCallsInterceptor>(traced, () => new (otel().OpenTelemetryInboundInterceptor)(), INBOUND)],
    outbound: [gated<WorkflowOutboundCallsInterceptor>(traced, () => new (otel().OpenTelemetryOutboundInterceptor)(), OUTBOUND)],
    internals: [gated<WorkflowInternalsInterceptor>(traced, () => new (otel().OpenTelemetryInternalsInterceptor)(), INTERNALS)],
  };
}
