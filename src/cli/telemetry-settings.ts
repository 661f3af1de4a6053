/**
 * The settings of traces, metrics, health endpoints and shutdown: part of the one configuration
 * (`readSettings` in config.ts), kept here so that they read as one concept.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { UsageError } from './args';
import type { SettingDoc } from './config';

/** Default seconds a stopping worker lets its running activities finish. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;
/** The service name spans carry when `OTEL_SERVICE_NAME` is not set. */
export const DEFAULT_SERVICE_NAME = 'airlock';

export const TELEMETRY_SETTINGS: readonly SettingDoc[] = [
  { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: 'none (no traces)', description: 'An OTLP HTTP collector: traces go to `<endpoint>/v1/traces` (worker; see docs/telemetry.md)' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: 'none', description: 'The full OTLP HTTP traces URL (wins over `OTEL_EXPORTER_OTLP_ENDPOINT`)' },
  { env: 'OTEL_SERVICE_NAME', default: `\`${DEFAULT_SERVICE_NAME}\``, description: 'The `service.name` of exported spans' },
  { env: 'AIRLOCK_METRICS_ADDRESS', flag: '--metrics (worker)', default: 'none (no metrics)', description: "`ip:port` of the worker's Prometheus endpoint (`/metrics`)" },
  { env: 'AIRLOCK_HEALTH_ADDRESS', flag: '--health (worker)', default: 'none', description: "`host:port` of the worker's `/healthz` and `/readyz`" },
  { env: 'AIRLOCK_SHUTDOWN_GRACE', flag: '--shutdown-grace (worker)', default: `\`${DEFAULT_SHUTDOWN_GRACE_SECONDS}\` seconds`, description: 'How long a stopping worker lets running tools finish before they are cancelled and retried elsewhere' },
];

/** `host:port`, `[ipv6]:port`; the port from 0 to 65535. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const hostPort = z
  .string()
  .trim()
  .refine((value) => {
    const port = HOST_PORT.exec(value)?.[1];
    return port !== undefined && Number(port) <= 65535;
  });
/** `ip:port` or `[ipv6]:port`: the Temporal runtime binds its metrics endpoint to a socket address, not a host name. */
const ipPort = hostPort.refine((value) => isIP(value.slice(0, value.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1')) !== 0);
const httpUrl = z.url({ protocol: /^https?$/ });
const seconds = z.coerce.number().int().min(0).max(24 * 3600);

export const TelemetryEnvSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).max(200).optional(),
  AIRLOCK_METRICS_ADDRESS: ipPort.optional(),
  AIRLOCK_HEALTH_ADDRESS: hostPort.optional(),
  AIRLOCK_SHUTDOWN_GRACE: seconds.optional(),
});

/** Flags that override these settings, where a command declares them. */
export type TelemetryFlags = 'metrics' | 'health' | 'shutdown-grace';

/** Traces, metrics, health endpoints and shutdown of the long-running processes. */
export interface TelemetrySettings {
  /** Where spans are sent (OTLP over HTTP, JSON); absent: no tracing at all. */
  tracesEndpoint?: string;
  serviceName: string;
  /** `ip:port` of the Prometheus endpoint; absent: no metrics. */
  metricsAddress?: string;
  /** `host:port` of the worker's health endpoints; absent: none. */
  healthAddress?: string;
  /** Seconds a stopping worker lets running activities finish. */
  shutdownGraceSeconds: number;
}

/**
 * The telemetry settings from the checked environment and the flags.
 * @throws UsageError for a malformed flag (naming the flag, never its value)
 */
export function telemetrySettings(env: z.infer<typeof TelemetryEnvSchema>, flag: (name: TelemetryFlags) => string | undefined): TelemetrySettings {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return {
    tracesEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined),
    serviceName: env.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    metricsAddress: checkedFlag(flag('metrics'), '--metrics', ipPort) ?? env.AIRLOCK_METRICS_ADDRESS,
    healthAddress: checkedFlag(flag('health'), '--health', hostPort) ?? env.AIRLOCK_HEALTH_ADDRESS,
    shutdownGraceSeconds: checkedFlag(flag('shutdown-grace'), '--shutdown-grace', seconds) ?? env.AIRLOCK_SHUTDOWN_GRACE ?? DEFAULT_SHUTDOWN_GRACE_SECONDS,
  };
}

const FLAG_FORMS: Record<string, string> = { '--metrics': 'ip:port (e.g. 0.0.0.0:9464)', '--health': 'host:port', '--shutdown-grace': 'a whole number of seconds' };

/** A flag's value checked by `schema`; the error names the flag and what it takes, never the value. */
function checkedFlag<T>(value: string | undefined, name: string, schema: z.ZodType<T>): T | undefined {
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${name} takes ${FLAG_FORMS[name]}`);
  return parsed.data;
}
