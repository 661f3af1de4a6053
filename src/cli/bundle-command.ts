/** `airlock bundle`: the workflow bundle, built once (at image build time) instead of by every worker at start. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleAirlockWorkflows } from '../worker';
import { UsageError } from './args';
import { CliError, EXIT, positionals } from './context';
import type { Command } from './command';

export const bundleCommand: Command = {
  name: 'bundle',
  usage:
    'airlock bundle <out.js> [--tracing] [--encrypted-failures] [--stack-traces]\n' +
    '  Writes the workflow bundle; start workers with --workflow-bundle <out.js> (or createWorker({ workflowBundle: { codePath } })).\n' +
    '  --tracing: for workers that export traces (OTEL_EXPORTER_OTLP_ENDPOINT): the threads they start are traced\n' +
    '  --encrypted-failures: for workers with codec keys (AIRLOCK_CODEC_KEYS): failure messages go into encrypted payloads\n' +
    '  --stack-traces: keep stack traces in workflow code (the Web UI\'s Stack Trace tab), at about a sixth more worker CPU per thread',
  summary: 'Build the workflow bundle once, for workers that should start without bundling',
  spec: { switches: ['tracing', 'encrypted-failures', 'stack-traces'] },
  async run(args) {
    const [out] = positionals(args, ['out.js']);
    if (!out.endsWith('.js')) throw new UsageError('The bundle is a .js file');
    const noop = () => undefined;
    const bundle = await bundleAirlockWorkflows({ tracing: args.switches.has('tracing'), encryptedFailures: args.switches.has('encrypted-failures'), stackTraces: args.switches.has('stack-traces'), logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop } });
    try {
      writeFileSync(path.resolve(out), bundle.code);
    } catch (err) {
      throw new CliError(`Cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    process.stderr.write(`Wrote ${out} (${Math.round(bundle.code.length / 1024)} KiB${args.switches.has('tracing') ? ', tracing' : ''}${args.switches.has('encrypted-failures') ? ', encrypted failures' : ''}${args.switches.has('stack-traces') ? ', stack traces' : ''}).\n`);
    return EXIT.ok;
  },
};
