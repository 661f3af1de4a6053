/** The Temporal runtime's telemetry options: Prometheus metrics on `host:port`, or none. */
import type { RuntimeOptions } from '@temporalio/worker';

/**
 * `telemetryOptions` for `Runtime.install` (once per process, before any connection): the
 * runtime's own metrics (workers, pollers, task latencies, sticky cache) and Airlock's, served at
 * `http://<address>/metrics`. Counters end in `_total`; durations are in milliseconds.
 */
export function prometheusTelemetry(address: string | undefined): Pick<RuntimeOptions, 'telemetryOptions'> {
  if (!address) return {};
  return { telemetryOptions: { metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true } } } };
}
