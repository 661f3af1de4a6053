/**
 * The README's `npx airlock …` examples run as written, in order, against the run's dev server with
 * a worker for the example agent (`airlock worker`, as the README starts it). Commands that run
 * until stopped (serve, dev-server, worker, chat) are not run here; the worker is started once.
 * Each example exits 0, or 3 where its comment says it is refused here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AirlockClient } from '../../src/client';
import { connectToDevServer, quietRuntime, tempDir, unique } from '../helpers';
import { AIRLOCK_BIN, runProcess, startBackground, type CliResult } from './cli-process';

const README = path.join(__dirname, '../../README.md');
const LONG_RUNNING = new Set(['serve', 'dev-server', 'worker', 'chat']);

interface Example {
  command: string;
  expectedCode: number;
}

/** Every line of the README's shell code blocks that starts with `npx airlock`, its comment removed. */
function readmeExamples(): Example[] {
  const blocks = [...readFileSync(README, 'utf8').matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.startsWith('npx airlock '))
    .map((line) => {
      const [command, comment = ''] = line.split(/\s+#\s/, 2);
      return { command: command.trim(), expectedCode: /refused here/.test(comment) ? 3 : 0 };
    });
}

/** Runs one example in a shell, as a person pastes it, with `npx airlock` meaning this checkout's CLI. */
function runExample(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const local = command.replace(/^npx airlock /, `"${process.execPath}" "${AIRLOCK_BIN}" `);
  return runProcess('sh', ['-c', local], { cwd, env });
}

test('every `npx airlock` example of the README runs as written', async () => {
  quietRuntime();
  const examples = readmeExamples();
  expect(examples.length).toBeGreaterThanOrEqual(10);
  const runnable = examples.filter((example) => !LONG_RUNNING.has(example.command.split(/\s+/)[2]));
  // The README's thread is t1: the run's dev server is fresh and no other test uses that id.
  const dev = await connectToDevServer();
  const env = { TEMPORAL_ADDRESS: dev.address, TEMPORAL_TASK_QUEUE: unique('readme'), AIRLOCK_HOME: tempDir(), AIRLOCK_APPROVER: 'readme-reader' };
  const cwd = tempDir('airlock-readme-');
  // The README's threads: t1 (approve, sign, send), t2 (edit, respond), t3 (a grant).
  const threads = ['t1', 't2', 't3'].map((id) => dev.client.workflow.getHandle(id));
  const worker = await startBackground(['worker', '--home', env.AIRLOCK_HOME, '--address', env.TEMPORAL_ADDRESS, '--task-queue', env.TEMPORAL_TASK_QUEUE], 'Ready.');
  try {
    const seen: string[] = [];
    for (const example of runnable) {
      const result = await runExample(example.command, cwd, env);
      seen.push(`$ ${example.command}\n${result.stdout}${result.stderr}`);
      if (result.code !== example.expectedCode) {
        throw new Error(`exit ${result.code} (expected ${example.expectedCode}) for: ${example.command}\n\n${seen.join('\n')}`);
      }
    }
    const transcript = seen.join('\n');
    // What the README promises along the way: the approval, the audit, and the email "about it".
    expect(transcript).toMatch(/t1-call_1_1/);
    expect(transcript).not.toMatch(/I am the offline model/);
    const airlock = new AirlockClient({ client: dev.client, taskQueue: env.TEMPORAL_TASK_QUEUE });
    const state = await airlock.getState('t1');
    expect(state.interrupts.find((interrupt) => interrupt.id === 't1-call_1_1')?.resolution).toMatchObject({ type: 'accepted', approver: 'alice' });
    expect(state.currentInterrupt).toMatchObject({ toolName: 'send_email', toolArgs: { to: 'ops@example.com' } });
    expect(JSON.stringify(state.currentInterrupt!.toolArgs)).toContain('delete_file: Deleted');
    // t2: the edited payment ran (50, not 500); finance answered the 5,000 one in its place.
    expect((await airlock.getState('t2')).interrupts.map((interrupt) => [interrupt.toolArgs, interrupt.resolution?.type])).toEqual([
      [{ amount: 50, to: 'acme' }, 'edited'],
      [{ amount: 5000, to: 'acme' }, 'responded'],
    ]);
    expect(readFileSync(path.join(env.AIRLOCK_HOME, 'payments.jsonl'), 'utf8')).toMatch(/^\{[^\n]*"amount":50,[^\n]*\}\n$/);
    // t3: the grant let draft.md through without asking, then was revoked.
    expect(await airlock.grants('t3')).toEqual([expect.objectContaining({ id: 'g-t1-call_1_1', match: { path: '*.md' }, uses: 1, ended: expect.objectContaining({ type: 'revoked', by: 'alice' }) })]);
    expect(transcript).toMatch(/- delete_file: Deleted .*draft\.md/);
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate('the README walk-through is over').catch(() => undefined)));
    await worker.stop();
    await dev.close();
  }
}, 180_000);
