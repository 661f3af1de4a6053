/** The Temporal runtime's telemetry options: Prometheus metrics on `host:port`, or none. */
import type { RuntimeOptions } from '@temporalio/worker';
import { METRICS } from '../core';

/** Time to decide spans seconds to days: buckets in milliseconds from 1 s to 1 day. */
const TIME_TO_DECIDE_BUCKETS_MS = [1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 4 * 3_600_000, 24 * 3_600_000];

/**
 * `telemetryOptions` for `Runtime.install` (once per process, before any connection): the
 * runtime's own metrics (workers, pollers, task latencies, sticky cache) and Airlock's, served at
 * `http://<address>/metrics`. Counters end in `_total`; durations are in milliseconds; `address` is
 * an IP and a port (`0.0.0.0:9464`).
 */
export function prometheusTelemetry(address: string | undefined): Pick<RuntimeOptions, 'telemetryOptions'> {
  if (!address) return {};
  return {
    telemetryOptions: {
      metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true, histogramBucketOverrides: { [METRICS.timeToDecide]: TIME_TO_DECIDE_BUCKETS_MS } } },
    },
  };
}
