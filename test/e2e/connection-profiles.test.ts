/**
 * The programs configured only through a Temporal profile (`TEMPORAL_CONFIG_FILE` +
 * `TEMPORAL_PROFILE`, no address anywhere else): the worker, the CLI and what `npm start` runs
 * reach the run's dev server through it, and a thread is approved through it. Broken profiles stop
 * the programs with one line and exit 2.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AirlockClient, type PendingApproval } from '../../src/client';
import { connectToDevServer, endThreads, tempDir, unique } from '../helpers';
import { airlock, converse, eventually, startBackground } from './cli-process';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;
const SECRET = 'sk-profile-secret-8e1f0c';

let dir: string;
let configFile: string;
let home: string;
let taskQueue: string;
let worker: Awaited<ReturnType<typeof startBackground>>;
const threads: string[] = [];

/**
 * The environment of a user whose only Temporal setting is the profile: every other connection
 * variable empty (unset), no model, and the task queue of this file.
 */
const viaProfile = (profile: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  TEMPORAL_CONFIG_FILE: configFile,
  TEMPORAL_PROFILE: profile,
  TEMPORAL_ADDRESS: '',
  TEMPORAL_NAMESPACE: '',
  TEMPORAL_API_KEY: '',
  TEMPORAL_TLS: '',
  TEMPORAL_TASK_QUEUE: taskQueue,
  AIRLOCK_HOME: home,
  OPENAI_API_KEY: '',
  OPENAI_BASE_URL: '',
  ...extra,
});

beforeAll(async () => {
  dir = tempDir('airlock-profiles-');
  home = tempDir();
  taskQueue = unique('profiles');
  configFile = path.join(dir, 'temporal.toml');
  writeFileSync(
    configFile,
    `# The run's dev server, as a user's profile names it
[profile.airlock-dev]
address = "${address()}"
namespace = "default"

[profile.nowhere]
address = "127.0.0.1:1"
`,
  );
  worker = await startBackground(['worker'], 'Ready.', viaProfile('airlock-dev'));
});
afterAll(async () => {
  if (!worker) return;
  const dev = await connectToDevServer();
  await endThreads(new AirlockClient({ client: dev.client, taskQueue }), threads).finally(() => dev.close());
  await worker.stop();
});

const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

test('the worker and the CLI, configured only by a profile, approve a thread', async () => {
  expect(worker.output()).toContain(`Worker on ${address()} (namespace default, profile airlock-dev), task queue ${taskQueue}`);
  const env = viaProfile('airlock-dev');
  const threadId = unique('profile-thread');
  threads.push(threadId);
  const start = await airlock(['start', '--thread', threadId, 'delete the file notes.txt'], env);
  expect(start.code).toBe(0);
  expect(start.stdout).toContain(`Thread ${threadId} waits for approval:`);
  const pending = await eventually(async () => {
    const listed = await airlock(['pending', '--json'], env);
    return jsonLines<PendingApproval>(listed.stdout).find((approval) => approval.threadId === threadId);
  });
  const approved = await airlock(['approve', threadId, pending.id, '--as', 'alice'], env);
  expect(approved.code).toBe(0);
  expect(approved.stdout).toContain(`Applied: accepted ${pending.id} on ${threadId} by alice`);
  await eventually(async () => (existsSync(path.join(home, 'sandbox/notes.txt')) ? undefined : true));
  const audit = await airlock(['audit', threadId, '--json'], env);
  expect(audit.stdout).toContain('"approver":"alice"');
});

test('a profile that names an address means npm start starts no dev server of its own', async () => {
  const threadId = unique('profile-start');
  threads.push(threadId);
  const session = converse(MAIN, ['--thread', threadId], viaProfile('airlock-dev', { AIRLOCK_APPROVER: 'erin' }));
  await session.waitFor('Type exit to leave.');
  session.type('delete the file draft.md');
  await session.waitFor('Approve?');
  session.type('y');
  await session.waitFor('Agent:');
  session.type('exit');
  session.child.stdin!.end();
  const { code } = await session.exited;
  expect(code).toBe(0);
  expect(session.output()).not.toContain('Starting the local Temporal dev server');
  expect(session.output()).toContain(`Temporal:   ${address()} (namespace default, profile airlock-dev)\n`);
  expect(session.output()).toContain(`- delete_file: Deleted ${path.join(home, 'sandbox', 'draft.md')}`);
}, 120_000);

test('a profile whose server does not answer, an unknown profile, a broken file: one line each, no secret', async () => {
  const unreachable = await airlock(['pending'], viaProfile('nowhere'));
  expect(unreachable.code).toBe(1);
  expect(unreachable.stderr).toContain('Cannot reach Temporal at 127.0.0.1:1 (profile nowhere) (connection refused)');

  const unknown = await airlock(['pending'], viaProfile('staging'));
  expect(unknown.code).toBe(2);
  expect(unknown.stderr.split('\n')[0]).toBe(`airlock pending: No profile 'staging' in ${configFile}`);

  const broken = path.join(dir, 'broken.toml');
  writeFileSync(broken, `[profile.airlock-dev]\napi_key = "${SECRET}\n`);
  const malformed = await airlock(['worker'], viaProfile('airlock-dev', { TEMPORAL_CONFIG_FILE: broken }));
  expect(malformed.code).toBe(2);
  expect(malformed.stderr.split('\n')[0]).toMatch(new RegExp(`^airlock worker: The Temporal config file ${broken} is not valid TOML \\(line 2, column \\d+\\)$`));
  expect(malformed.stderr).not.toContain(SECRET);

  const startMain = converse(MAIN, [], viaProfile('staging'));
  const { code } = await startMain.exited;
  expect(code).toBe(1);
  expect(startMain.output()).toContain(`airlock: No profile 'staging' in ${configFile}`);
  expect(startMain.output()).not.toContain('Starting the local Temporal dev server');
});
