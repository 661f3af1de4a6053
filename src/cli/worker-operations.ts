/**
 * What `airlock worker` runs beside the worker: the runtime's Prometheus metrics and the
 * awaiting-approval gauges, traces, and the health endpoints; and how it stops (drain first, a
 * second signal exits at once).
 */
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import type { Agent } from '../agents';
import { startAwaitingApprovalGauge } from '../telemetry/awaiting-approval-gauge';
import { startHealthServer } from '../telemetry/health-server';
import { prometheusTelemetry } from '../telemetry/runtime-metrics';
import { startTracing, type Tracing } from '../telemetry/tracing';
import type { TelemetrySettings } from './telemetry-settings';

/**
 * Installs the Temporal runtime once for this process, with Prometheus metrics when configured. Its
 * own signal handlers are off: the command owns the signals.
 */
export function installWorkerRuntime(telemetry: TelemetrySettings): void {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [], ...prometheusTelemetry(telemetry.metricsAddress) });
}

/** Starts tracing when an OTLP endpoint is configured. */
export function tracingFrom(telemetry: TelemetrySettings): Tracing | undefined {
  return telemetry.tracesEndpoint ? startTracing({ endpoint: telemetry.tracesEndpoint, serviceName: telemetry.serviceName }) : undefined;
}

/** The worker's companions, started once it exists; `stop` ends them after the worker stopped. */
export async function startWorkerCompanions(options: {
  telemetry: TelemetrySettings;
  worker: Worker;
  connection: NativeConnection;
  namespace: string;
  agents: Agent[];
  /** False once the worker was asked to stop: `/readyz` answers 503 from then on. */
  accepting: () => boolean;
  log: (line: string) => void;
}): Promise<{ stop: () => Promise<void> }> {
  const { telemetry, worker, log } = options;
  const stops: (() => Promise<void> | void)[] = [];
  if (telemetry.metricsAddress) {
    const client = new Client({ connection: options.connection, namespace: options.namespace });
    const tools = options.agents.flatMap((agent) => Object.keys(agent.interrupts ?? {}));
    const gauge = startAwaitingApprovalGauge({ client, meter: Runtime.instance().metricMeter, tools, log });
    stops.push(gauge.stop);
    log(`Metrics: http://${telemetry.metricsAddress}/metrics`);
  }
  if (telemetry.healthAddress) {
    const health = await startHealthServer(telemetry.healthAddress, () => options.accepting() && worker.getState() === 'RUNNING');
    stops.push(health.close);
    log(`Health: http://${health.address}/healthz, /readyz`);
  }
  return { stop: async () => void (await Promise.all(stops.map((stop) => stop()))) };
}
