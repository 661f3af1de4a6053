/**
 * Turning tracing on must not break running threads: every recorded history also replays on a
 * bundle with the OpenTelemetry workflow interceptors (`bundleAirlockWorkflows({ tracing: true })`),
 * with the spans' sink in place as a traced worker has it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Worker } from '@temporalio/worker';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bundleAirlockWorkflows } from '../../src/worker';
import { quietRuntime } from '../helpers';

const HISTORIES = path.join(__dirname, 'histories');
const histories = readdirSync(HISTORIES).filter((file) => file.endsWith('.json') && !file.endsWith('.meta.json')).sort();
const readJson = (file: string) => JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));

let bundle: { code: string };
const exported = new InMemorySpanExporter();

beforeAll(async () => {
  quietRuntime();
  const noop = () => undefined;
  bundle = await bundleAirlockWorkflows({ tracing: true, logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error } });
});

test('the tracing bundle carries the OpenTelemetry workflow interceptors', () => {
  expect(bundle.code).toContain('OpenTelemetryInboundInterceptor');
});

test.each(histories)('recorded history %s replays on the tracing bundle', async (file) => {
  const meta = readJson(file.replace(/\.json$/, '.meta.json')) as { workflowId: string };
  const sinks = { exporter: makeWorkflowExporter(new SimpleSpanProcessor(exported), new Resource({ 'service.name': 'replay' })) };
  await Worker.runReplayHistory({ workflowBundle: bundle, sinks }, readJson(file), meta.workflowId);
});
