/** The telemetry settings: flags over the environment over defaults; malformed values refused without being repeated. */
import { UsageError } from '../../src/cli/args';
import { readSettings } from '../../src/cli/config';

const read = (env: NodeJS.ProcessEnv, options: Record<string, string> = {}) => readSettings({ options, switches: new Set() }, env).telemetry;

test('nothing configured: no traces, no metrics, no health endpoint, 30 s of grace', () => {
  expect(read({})).toEqual({ tracesEndpoint: undefined, serviceName: 'airlock', metricsAddress: undefined, healthAddress: undefined, shutdownGraceSeconds: 30 });
});

test('the OTLP endpoint gets /v1/traces; the traces endpoint is used as given and wins', () => {
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracesEndpoint).toBe('http://collector:4318/v1/traces');
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/traces' }).tracesEndpoint).toBe('https://b/traces');
  expect(read({ OTEL_SERVICE_NAME: 'airlock-worker' }).serviceName).toBe('airlock-worker');
});

test('flags win over the environment', () => {
  const settings = read(
    { AIRLOCK_METRICS_ADDRESS: '0.0.0.0:9464', AIRLOCK_HEALTH_ADDRESS: '0.0.0.0:8080', AIRLOCK_SHUTDOWN_GRACE: '5' },
    { metrics: '127.0.0.1:9000', health: '[::1]:8081', 'shutdown-grace': '90' },
  );
  expect(settings).toMatchObject({ metricsAddress: '127.0.0.1:9000', healthAddress: '[::1]:8081', shutdownGraceSeconds: 90 });
  expect(read({ AIRLOCK_SHUTDOWN_GRACE: '0' }).shutdownGraceSeconds).toBe(0);
  expect(read({ AIRLOCK_METRICS_ADDRESS: '[::]:9464', AIRLOCK_HEALTH_ADDRESS: 'localhost:8080' })).toMatchObject({ metricsAddress: '[::]:9464', healthAddress: 'localhost:8080' });
});

test.each([
  [{ AIRLOCK_METRICS_ADDRESS: 'no-port' }, 'AIRLOCK_METRICS_ADDRESS'],
  [{ AIRLOCK_HEALTH_ADDRESS: 'host:99999' }, 'AIRLOCK_HEALTH_ADDRESS'],
  // The runtime binds metrics to a socket address: a host name is refused here rather than by the runtime.
  [{ AIRLOCK_METRICS_ADDRESS: 'localhost:9464' }, 'AIRLOCK_METRICS_ADDRESS'],
  [{ AIRLOCK_SHUTDOWN_GRACE: '-1' }, 'AIRLOCK_SHUTDOWN_GRACE'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
])('a malformed variable is named, its value never repeated: %j', (env, name) => {
  const value = Object.values(env)[0]!;
  expect(() => read(env)).toThrow(UsageError);
  expect(() => read(env)).toThrow(name);
  try {
    read(env);
  } catch (err) {
    expect((err as Error).message).not.toContain(value);
  }
});

test.each([
  ['metrics', 'evil\u202e:1'],
  ['health', 'a b:80'],
  ['shutdown-grace', 'soon<script>'],
])('a malformed --%s is refused without repeating it', (flag, value) => {
  expect(() => read({}, { [flag]: value })).toThrow(UsageError);
  try {
    read({}, { [flag]: value });
  } catch (err) {
    expect((err as Error).message).toContain(`--${flag}`);
    expect((err as Error).message).not.toContain(value);
  }
});
