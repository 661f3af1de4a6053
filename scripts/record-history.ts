/**
 * Records histories of the agentThread workflow into test/replay/histories/, for the replay test.
 *
 *   npm run build && node dist/scripts/record-history.js [<scenario>] <name>
 *   npm run build && node dist/scripts/record-history.js all <version>   # every scenario, as <scenario>-<version>
 *   AIRLOCK_RECORD_MODEL_TURNS=activity node dist/scripts/record-history.js all v4-activity   # model turns as activities
 *
 * The scenario defaults to `thread`. Each one runs a scripted thread on its own dev server:
 *   thread             every approval path: signed accept, refused decisions, reject by signal, a
 *                      timeout, auto-approved and unprotected tools, invalid arguments, an unknown
 *                      tool, three messages, ended while waiting
 *   continue-as-new    a server that suggests continue-as-new after 30 events: six messages (tool
 *                      calls, an accepted and a rejected approval) take the thread through three
 *                      or more runs, one file per run
 *   on-timeout-accept  a protected tool run when its 1 s timeout accepts it, a timed one decided in
 *                      time (its timer cancelled), a decision refused after the timeout
 *   failures           a tool that throws on both of its 2 attempts, a model that rejects the request
 *                      (the message gets `lastError`), then a message answered again
 *   message-signal     messages sent by the `userMessage` signal: two queued, one empty (ignored),
 *                      one answered after a decision by signal
 *   decisions          every decision type: a call a conditional rule lets through, an invalid edit
 *                      (refused), an edit that escalates and finance's accept, respond, reject, an
 *                      accept with a grant that expires by its timer, a call the grant lets through,
 *                      an edit that decides, a second grant revoked, and a user message that rejects
 *                      what waits (`reject-pending`)
 *
 * The thread id is `recorded-<name>`. Each run of the thread is written as `<name>.json`, or
 * `<name>.run<N>.json` when the thread continued as new (replay takes one run at a time), beside
 * `<same>.meta.json` with the scenario, the workflow id replay must use (decision signatures cover
 * it), the run id and the run's number. Nothing is overwritten: after a deliberate change of the
 * workflow's commands, record under a new name and add it to the table in test/replay/replay.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { AirlockClient, type AirlockClientOptions } from '../src/client';
import { createSigningKey } from '../src/client/signing-keys';
import { defineAgent } from '../src/agents';
import type { ThreadState } from '../src/core';
import { ModelRequestRejectedError, ScriptedModel, callTools, reply } from '../src/models';
import { defineTool } from '../src/tools';
import { createWorker, type CreateWorkerOptions } from '../src/worker';
import { startDevServer } from '../src/devtools/dev-server';
import { findTemporalBinary } from '../src/devtools/temporal-binaries';

/** npm scripts and the README's commands run in the project's root. */
const PROJECT_ROOT = process.cwd();

const HISTORIES = path.join(PROJECT_ROOT, 'test/replay/histories');
/** The continue-as-new scenario's server suggests continuing after this many events in a run. */
const SUGGEST_CONTINUE_AS_NEW_AT = 30;

/** What a scenario gets: its thread id, clients on the recording's task queue, and a worker to play against. */
interface Recording {
  threadId: string;
  client(options?: Pick<AirlockClientOptions, 'signingKey' | 'defaultAgent'>): AirlockClient;
  /** Runs `play` while a worker hosts the agent with the model, then checks the model's script was used up. */
  withWorker(options: Pick<CreateWorkerOptions, 'agents' | 'approvals'> & { model: ScriptedModel }, play: () => Promise<void>): Promise<void>;
}

interface Scenario {
  /** More `temporal server start-dev` arguments. */
  serverArgs?: string[];
  /** The thread must have continued as new into at least this many runs. Default 1. */
  minRuns?: number;
  play(recording: Recording): Promise<void>;
}

/** A tool that answers `<tool>: <target>`. */
const note = (tool: string) => defineTool({ name: tool, description: tool, parameters: z.object({ target: z.string() }), execute: ({ target }) => `${tool}: ${target}` });

const scenarios: Record<string, Scenario> = {
  thread: {
    async play({ threadId, client, withWorker }) {
      const agent = defineAgent({
        name: 'recorded',
        instructions: 'Replay corpus agent.',
        tools: [note('delete_file'), note('send_email'), note('lookup'), note('restart_service')],
        interrupts: {
          delete_file: { allowAuto: false, note: 'irreversible' },
          send_email: { allowAuto: false, timeout: '2s' },
          restart_service: { allowAuto: true },
        },
      });
      const model = new ScriptedModel([
        callTools(
          ['delete_file', { target: 'a' }, 'c1'],
          ['lookup', { target: 'b' }, 'c2'],
          ['send_email', { target: 'c' }, 'c3'],
          ['restart_service', { target: 'd' }, 'c4'],
          ['delete_file', { target: 42 }, 'c5'],
          ['drop_table', { target: 'e' }, 'c6'],
        ),
        reply('First done.'),
        callTools(['delete_file', { target: 'f' }, 'c1']),
        reply('Second done.'),
        callTools(['delete_file', { target: 'g' }, 'c1']),
      ]);
      const alice = createSigningKey({ keyId: 'alice-1', owner: 'alice', kind: 'approver' });
      const airlock = client({ defaultAgent: 'recorded' });
      const signed = client({ signingKey: alice.signingKey });
      await withWorker({ agents: [agent], model, approvals: { trustedKeys: [alice.trustedKey] } }, async () => {
        const first = await airlock.handleMessage(threadId, 'first');
        const del = first.state.pendingInterrupts.find((interrupt) => interrupt.toolName === 'delete_file')!;
        await airlock.decide(threadId, { interruptId: 'unknown', action: 'accept', approver: 'mallory' });
        await signed.decide(threadId, { interruptId: del.id, action: 'accept', approver: 'alice' });
        await airlock.sendDecision(threadId, { interruptId: del.id, action: 'reject', approver: 'late' });
        await waitUntilIdle(airlock, threadId);
        const second = await airlock.handleMessage(threadId, 'second');
        await airlock.sendDecision(threadId, { interruptId: second.state.currentInterrupt!.id, action: 'reject', approver: 'bob', reason: 'no' });
        await waitUntilIdle(airlock, threadId);
        await airlock.handleMessage(threadId, 'third: ended while waiting');
        await airlock.endThread(threadId);
        await airlock.handle(threadId).result();
      });
    },
  },

  'continue-as-new': {
    serverArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AT}`],
    minRuns: 3,
    async play({ threadId, client, withWorker }) {
      const agent = defineAgent({
        name: 'recorded',
        instructions: 'Replay corpus agent.',
        tools: [note('delete_file'), note('lookup')],
        interrupts: { delete_file: { allowAuto: false, note: 'irreversible' } },
      });
      // Each message: the model calls a tool (a call id unique in the thread) and answers, or just answers.
      const rounds = ['lookup', 'delete_file', 'lookup', 'lookup', 'delete_file', 'answer'] as const;
      const model = new ScriptedModel(
        rounds.flatMap((tool, index) => [...(tool === 'answer' ? [] : [callTools([tool, { target: `t${index}` }, `r${index}`])]), reply(`Round ${index} done.`)]),
      );
      const airlock = client({ defaultAgent: 'recorded' });
      await withWorker({ agents: [agent], model }, async () => {
        for (const [index, tool] of rounds.entries()) {
          let response = await airlock.handleMessage(threadId, `round ${index}`);
          if (tool === 'delete_file') response = await airlock.resumeWithApproval(threadId, index === 1 ? 'accept' : 'reject', { approver: 'alice' });
          if (response.content !== `Round ${index} done.`) throw new Error(`Round ${index} answered '${response.content}'`);
        }
        await airlock.endThread(threadId);
        await airlock.handle(threadId).result();
      });
    },
  },

  'on-timeout-accept': {
    async play({ threadId, client, withWorker }) {
      const agent = defineAgent({
        name: 'recorded',
        instructions: 'Replay corpus agent.',
        tools: [note('deploy'), note('notify')],
        interrupts: {
          deploy: { allowAuto: false, timeout: '1s', onTimeout: 'accept' },
          notify: { allowAuto: false, timeout: '1h', onTimeout: 'accept' },
        },
      });
      const model = new ScriptedModel([callTools(['deploy', { target: 'a' }, 'c1'], ['notify', { target: 'b' }, 'c2']), reply('Deployed and notified.')]);
      const airlock = client({ defaultAgent: 'recorded' });
      await withWorker({ agents: [agent], model }, async () => {
        const first = await airlock.handleMessage(threadId, 'deploy and notify');
        const [deploy, notify] = first.state.pendingInterrupts;
        await airlock.decide(threadId, { interruptId: notify.id, action: 'accept', approver: 'alice' });
        const idle = await waitForState(airlock, threadId, isIdle);
        const resolution = idle.interrupts.find((interrupt) => interrupt.id === deploy.id)?.resolution;
        if (resolution?.type !== 'timed-out' || !idle.messages.some((message) => message.content === 'deploy: a')) {
          throw new Error(`deploy was not run at its timeout: ${JSON.stringify(resolution)}`);
        }
        const late = await airlock.decide(threadId, { interruptId: deploy.id, action: 'reject', approver: 'bob' });
        if (late.type !== 'refused') throw new Error('A decision after the timeout was applied');
        await airlock.endThread(threadId);
        await airlock.handle(threadId).result();
      });
    },
  },

  failures: {
    async play({ threadId, client, withWorker }) {
      const flaky = defineTool({
        name: 'flaky',
        description: 'Always fails',
        parameters: z.object({ target: z.string() }),
        maxAttempts: 2,
        execute: ({ target }) => {
          throw new Error(`flaky: ${target} is unreachable`);
        },
      });
      const agent = defineAgent({ name: 'recorded', instructions: 'Replay corpus agent.', tools: [flaky], interrupts: {} });
      const model = new ScriptedModel([
        callTools(['flaky', { target: 'a' }, 'c1']),
        reply('The tool failed.'),
        () => {
          throw new ModelRequestRejectedError('The provider refused the request', 400);
        },
        reply('Back again.'),
      ]);
      const airlock = client({ defaultAgent: 'recorded' });
      await withWorker({ agents: [agent], model }, async () => {
        const first = await airlock.handleMessage(threadId, 'call the flaky tool');
        if (!first.state.messages.some((message) => message.role === 'tool' && message.content.startsWith('Error ('))) throw new Error('flaky did not fail');
        const second = await airlock.handleMessage(threadId, 'the model rejects this one');
        if (second.state.lastError?.type !== 'ModelRequestRejected') throw new Error(`No lastError: ${JSON.stringify(second.state.lastError)}`);
        const third = await airlock.handleMessage(threadId, 'and answers this one');
        if (third.content !== 'Back again.' || third.state.lastError) throw new Error('The thread did not recover');
        await airlock.endThread(threadId);
        await airlock.handle(threadId).result();
      });
    },
  },

  'message-signal': {
    async play({ threadId, client, withWorker }) {
      const agent = defineAgent({
        name: 'recorded',
        instructions: 'Replay corpus agent.',
        tools: [note('delete_file'), note('lookup')],
        interrupts: { delete_file: { allowAuto: false, note: 'irreversible' } },
      });
      const model = new ScriptedModel([
        callTools(['lookup', { target: 'a' }, 'c1']),
        reply('First answered.'),
        reply('Second answered.'),
        callTools(['delete_file', { target: 'b' }, 'c2']),
        reply('Deleted.'),
      ]);
      const airlock = client({ defaultAgent: 'recorded' });
      const answers = (state: ThreadState) => state.messages.filter((message) => message.role === 'assistant' && message.content !== '').length;
      await withWorker({ agents: [agent], model }, async () => {
        await airlock.startThread({ threadId });
        await airlock.sendMessage(threadId, 'first');
        await airlock.sendMessage(threadId, 'second');
        await airlock.sendMessage(threadId, '   ');
        await waitForState(airlock, threadId, (state) => isIdle(state) && answers(state) === 2);
        await airlock.sendMessage(threadId, 'delete b');
        const waiting = await waitForState(airlock, threadId, (state) => state.status === 'awaiting_approval');
        await airlock.sendDecision(threadId, { interruptId: waiting.currentInterrupt!.id, action: 'accept', approver: 'alice' });
        await waitForState(airlock, threadId, (state) => isIdle(state) && answers(state) === 3);
        await airlock.endThread(threadId);
        await airlock.handle(threadId).result();
      });
    },
  },

  decisions: {
    async play({ threadId, client, withWorker }) {
      const pay = defineTool({
        name: 'pay',
        description: 'Pay',
        parameters: z.object({ amount: z.number().positive(), to: z.string() }),
        execute: ({ amount, to }) => `paid ${amount} to ${to}`,
      });
      const agent = defineAgent({
        name: 'recorded',
        instructions: 'Replay corpus agent.',
        tools: [note('delete_file'), pay],
        interrupts: {
          delete_file: { allowAuto: false, note: 'irreversible' },
          pay: {
            allowAuto: false,
            note: 'money',
            review: ({ amount }: { amount: number }) =>
              amount <= 100 ? { ask: false, reason: `${amount} is small` } : amount <= 1000 ? { ask: true, reason: `${amount} is over 100` } : { ask: true, reason: `${amount} is over 1000`, approvers: ['finance'] },
          },
        },
        onMessageWhileWaiting: 'reject-pending',
      });
      const model = new ScriptedModel([
        callTools(
          ['pay', { amount: 50, to: 'a' }, 'c1'],
          ['pay', { amount: 500, to: 'b' }, 'c2'],
          ['pay', { amount: 600, to: 'c' }, 'c3'],
          ['delete_file', { target: 'scratch/x' }, 'c4'],
          ['delete_file', { target: 'keep' }, 'c5'],
        ),
        reply('One done.'),
        callTools(['delete_file', { target: 'scratch/y' }, 'c1'], ['pay', { amount: 700, to: 'd' }, 'c2']),
        reply('Two done.'),
        callTools(['delete_file', { target: 'scratch/z' }, 'c1']),
        reply('Three done.'),
        callTools(['delete_file', { target: 'other' }, 'c1']),
        reply('Five done.'),
      ]);
      const airlock = client({ defaultAgent: 'recorded' });
      const must = (what: string, ok: boolean) => {
        if (!ok) throw new Error(`decisions scenario: ${what}`);
      };
      await withWorker({ agents: [agent], model }, async () => {
        const one = await airlock.handleMessage(threadId, 'one');
        const [c2, c3, c4, c5] = one.state.pendingInterrupts;
        must('c1 let through by its rule', one.state.pendingInterrupts.length === 4);
        must('invalid edit refused', (await airlock.decide(threadId, { interruptId: c2.id, action: 'edit', approver: 'alice', args: { amount: 'x', to: 'b' } })).type === 'refused');
        const escalated = await airlock.decide(threadId, { interruptId: c2.id, action: 'edit', approver: 'alice', args: { amount: 5000, to: 'b' }, callDigest: c2.callDigest });
        must('edit escalated', escalated.type === 'escalated');
        const callDigest = escalated.type === 'escalated' ? escalated.interrupt.callDigest : undefined;
        must('finance accepts', (await airlock.decide(threadId, { interruptId: c2.id, action: 'accept', approver: 'finance', callDigest })).type === 'applied');
        must('respond', (await airlock.decide(threadId, { interruptId: c3.id, action: 'respond', approver: 'bob', message: 'not now' })).type === 'applied');
        must('grant', (await airlock.decide(threadId, { interruptId: c4.id, action: 'accept', approver: 'alice', grant: { match: { target: 'scratch/**' }, ttl: '3s' } })).type === 'applied');
        must('reject', (await airlock.decide(threadId, { interruptId: c5.id, action: 'reject', approver: 'bob', reason: 'keep it' })).type === 'applied');
        await waitUntilIdle(airlock, threadId);

        const two = await airlock.handleMessage(threadId, 'two');
        must('the grant let scratch/y through', two.state.pendingInterrupts.length === 1 && two.state.pendingInterrupts[0].toolName === 'pay');
        must('edit decides', (await airlock.decide(threadId, { interruptId: two.state.pendingInterrupts[0].id, action: 'edit', approver: 'alice', args: { amount: 300, to: 'd' } })).type === 'applied');
        await waitUntilIdle(airlock, threadId);
        await waitForState(airlock, threadId, (state) => state.grants?.[0]?.ended?.type === 'expired');

        const three = await airlock.handleMessage(threadId, 'three');
        must('expired grant asks', three.state.status === 'awaiting_approval');
        const granted = await airlock.decide(threadId, { interruptId: three.state.currentInterrupt!.id, action: 'accept', approver: 'alice', grant: { match: { target: 'scratch/**' } } });
        must('second grant', granted.type === 'applied' && granted.grant !== undefined);
        await waitUntilIdle(airlock, threadId);
        const grantId = granted.type === 'applied' ? granted.grant!.id : '';
        must('revoked', (await airlock.revokeGrant(threadId, grantId, 'bob', 'done')).type === 'revoked');

        must('four waits', (await airlock.handleMessage(threadId, 'four')).state.status === 'awaiting_approval');
        const five = await airlock.handleMessage(threadId, 'five');
        must('five answered', five.content === 'Five done.');
        await airlock.endThread(threadId);
        await airlock.handle(threadId).result();
      });
    },
  },
};

const isIdle = (state: ThreadState) => state.status === 'idle';

/** Waits out the send_email timeout with the awaitResponse Update (each call is in history, as in thread-v1/v2). */
async function waitUntilIdle(airlock: AirlockClient, threadId: string): Promise<void> {
  while ((await airlock.awaitResponse(threadId)).state.status !== 'idle') await new Promise((resolve) => setTimeout(resolve, 200));
}

/** Polls the thread's state until `ready` holds (30 s at most). */
async function waitForState(airlock: AirlockClient, threadId: string, ready: (state: ThreadState) => boolean): Promise<ThreadState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await airlock.getState(threadId);
    if (ready(state)) return state;
    if (Date.now() > deadline) throw new Error(`Thread ${threadId} did not get there: ${JSON.stringify({ status: state.status, messages: state.messages.length })}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Plays a scenario on its own dev server and writes every run of its thread. */
async function record(scenarioName: string, name: string): Promise<void> {
  const scenario = scenarios[scenarioName];
  const server = await startDevServer({ port: 0, uiPort: false, dbFilename: null, extraArgs: scenario.serverArgs });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  try {
    const threadId = `recorded-${name}`;
    const taskQueue = `record-${Date.now()}`;
    const client = (options: Pick<AirlockClientOptions, 'signingKey' | 'defaultAgent'> = {}) => new AirlockClient({ connection, taskQueue, ...options });
    await scenario.play({
      threadId,
      client,
      async withWorker({ model, ...options }, play) {
        // AIRLOCK_RECORD_MODEL_TURNS=activity records the model turns as activities, the way a slow
        // model's run (ChatModel.turns) in version 4 (the scripted model's own turns are local).
        const turns = process.env.AIRLOCK_RECORD_MODEL_TURNS === 'activity' ? 'activity' : model.turns;
        const worker = await createWorker({ ...options, model: { name: model.name, turns, complete: (request) => model.complete(request) }, taskQueue, connection: nativeConnection });
        await worker.runUntil(play);
        model.assertDone();
      },
    });
    const runs = exportRuns(server.address, threadId, (await client().handle(threadId).describe()).runId);
    if (runs.length < (scenario.minRuns ?? 1)) throw new Error(`The thread ran in ${runs.length} runs; the scenario needs ${scenario.minRuns}`);
    runs.forEach(({ runId, json }, index) => {
      const file = runs.length === 1 ? name : `${name}.run${index + 1}`;
      writeFileSync(path.join(HISTORIES, `${file}.json`), json);
      const meta = { scenario: scenarioName, workflowId: threadId, runId, run: index + 1, runs: runs.length };
      writeFileSync(path.join(HISTORIES, `${file}.meta.json`), `${JSON.stringify(meta, null, 2)}\n`);
      console.log(`Recorded ${JSON.parse(json).events.length} events into test/replay/histories/${file}.json`);
    });
  } finally {
    await connection.close();
    await nativeConnection.close();
    await server.stop();
  }
}

/**
 * Every run of the thread, oldest first, in the proto JSON format that replay reads (the CLI's),
 * found by following each run's start back to the run it continued.
 */
function exportRuns(address: string, workflowId: string, lastRunId: string): Array<{ runId: string; json: string }> {
  const runs: Array<{ runId: string; json: string }> = [];
  for (let runId: string | undefined = lastRunId; runId; ) {
    const json: string = execFileSync(findTemporalBinary('cli'), ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    runs.unshift({ runId, json });
    runId = JSON.parse(json).events[0].workflowExecutionStartedEventAttributes.continuedExecutionRunId;
  }
  return runs;
}

async function main(args: string[]): Promise<void> {
  const [first, second] = args;
  if (args.length > 2 || (second !== undefined && first !== 'all' && !Object.hasOwn(scenarios, first))) {
    throw new Error(`Usage: record-history.js [<scenario>] <name> | all <version>; scenarios: ${Object.keys(scenarios).join(', ')}`);
  }
  const jobs: Array<[scenario: string, name: string]> =
    second === undefined ? [['thread', first ?? 'thread-next']] : first === 'all' ? Object.keys(scenarios).map((scenario) => [scenario, `${scenario}-${second}`]) : [[first, second]];
  // Released histories are kept: refuse before recording anything.
  const existing = readdirSync(HISTORIES);
  for (const [, name] of jobs) {
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(name)) throw new Error(`'${name}': a name is letters, digits and '-' (the files add .run<N> and .meta)`);
    const taken = existing.filter((file) => file.startsWith(`${name}.`));
    if (taken.length) throw new Error(`test/replay/histories/${taken[0]} exists: released histories are kept; record under a new name`);
  }
  for (const [scenario, name] of jobs) await record(scenario, name);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
