/** The worker options of tracing: Temporal's OpenTelemetry interceptors and the workflow spans' sink. */
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { WorkerTracing } from '../telemetry/tracing';

/**
 * The workflow interceptor module every bundle carries: Temporal's OpenTelemetry interceptors
 * behind a gate that keeps each thread as it began, traced or not (src/workflows/tracing-gate.ts).
 * With `tracing`, new threads are traced.
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return [require.resolve(tracing ? '../workflows/tracing-interceptors' : '../workflows/trace-replay-interceptors')];
}

/**
 * Interceptors for activities (a `RunActivity:<name>` span, a child of the workflow's
 * `StartActivity:<name>`) and workflows (when the worker bundles its workflows itself; a pre-built
 * bundle carries them), and the `exporter` sink through which workflow spans leave the sandbox
 * (never called during replay). Without tracing, the sink drops what a thread that began traced
 * elsewhere still sends.
 */
export function tracingWorkerOptions(tracing: WorkerTracing | undefined, prebuiltBundle: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      ...(tracing && { activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })] }),
      ...(!prebuiltBundle && { workflowModules: workflowInterceptorModules(tracing !== undefined) }),
    },
    sinks: { exporter: tracing ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource) : DROPPED_SPANS } as InjectedSinks<never>,
  };
}

const DROPPED_SPANS = { export: { fn: () => undefined } };
