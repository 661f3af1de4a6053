/**
 * The package as a user installs it: `npm pack`, installed into a fresh app, an agent of the app's
 * own with its own tool, a worker run from the app (`airlock worker --module`), and a call approved
 * through the installed CLI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, unique } from '../helpers';
import { eventually } from './cli-process';
import { spawnIn, runIn } from './app-process';

const ROOT = path.join(__dirname, '../..');
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;

test('a packed tarball installs into a new app whose own agent gets a call approved', async () => {
  const work = tempDir('airlock-pack-');
  // dist/ is built by the test run; the tarball is what `npm publish` would upload.
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, stdio: 'ignore' });
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))!;
  expect(tarball).toMatch(/^airlock-hitl-\d+\.\d+\.\d+\.tgz$/);

  const app = path.join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, dependencies: { 'airlock-hitl': `file:../${tarball}` } }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, stdio: 'ignore', timeout: 300_000 });
  const installed = JSON.parse(readFileSync(path.join(app, 'node_modules/airlock-hitl/package.json'), 'utf8'));
  expect(installed.name).toBe('airlock-hitl');
  expect(existsSync(path.join(app, 'node_modules/airlock-hitl/dist/src/server/inbox/index.html'))).toBe(true);
  expect(existsSync(path.join(app, 'node_modules/airlock-hitl/src'))).toBe(false);

  writeFileSync(
    path.join(app, 'agents.js'),
    `const { appendFileSync } = require('node:fs');
const { z } = require('zod');
const { defineAgent, defineTool } = require('airlock-hitl');
const archive = defineTool({
  name: 'archive_report',
  description: 'Archive a report',
  parameters: z.object({ name: z.string() }),
  execute: ({ name }) => { appendFileSync(__dirname + '/archived.txt', name + '\\n'); return 'archived ' + name; },
});
exports.agents = [defineAgent({ name: 'archivist', instructions: 'Archive reports.', tools: [archive], interrupts: { archive_report: { allowAuto: false, note: 'Archiving is final' } } })];
`,
  );
  const taskQueue = unique('packed');
  const connection = ['--address', address(), '--task-queue', taskQueue];
  const worker = await spawnIn(app, ['worker', '--module', './agents.js', ...connection], 'Ready.');
  try {
    const threadId = unique('packed-thread');
    const started = await runIn(app, ['start', '--thread', threadId, '--agent', 'archivist', '--json', 'call archive_report with {"name": "q3"}', ...connection]);
    expect(started.code).toBe(0);
    const interrupt = JSON.parse(started.stdout).state.currentInterrupt;
    expect(interrupt).toMatchObject({ toolName: 'archive_report', toolArgs: { name: 'q3' }, policyNote: 'Archiving is final' });
    expect(existsSync(path.join(app, 'archived.txt'))).toBe(false);
    const approved = await runIn(app, ['approve', threadId, interrupt.id, '--as', 'alice', ...connection]);
    expect(approved.code).toBe(0);
    await eventually(async () => (existsSync(path.join(app, 'archived.txt')) ? true : undefined));
    expect(readFileSync(path.join(app, 'archived.txt'), 'utf8')).toBe('q3\n');
    await runIn(app, ['audit', threadId, '--json', ...connection]).then((audit) => expect(audit.stdout).toContain('"decision":"accepted"'));
  } finally {
    await worker.stop();
  }
}, 400_000);
