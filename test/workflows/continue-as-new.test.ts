/**
 * A long thread continues as new and stays the same thread: its own dev server suggests
 * continue-as-new after a few dozen history events, so a handful of messages cross several runs.
 */
import type { Client } from '@temporalio/client';
import { PassThrough } from 'node:stream';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { defineAgent } from '../../src/agents';
import { defineTool } from '../../src/tools';
import { AirlockClient } from '../../src/client';
import { runTerminalChat } from '../../src/cli/terminal-chat';
import type { ChatMessage } from '../../src/core';
import { ScriptedModel, callTools, reply, type ScriptedStep } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { quietRuntime, unique, withWorker, startContinueAsNewServer } from '../helpers';

let server: Awaited<ReturnType<typeof startContinueAsNewServer>>;
let client: Client;
let nativeConnection: NativeConnection;

beforeAll(async () => {
  quietRuntime();
  server = await startContinueAsNewServer('test-continue-as-new-server');
  ({ client, nativeConnection } = server);
}, 120_000);

afterAll(() => server?.close());

/** One user message and how the (scripted) model handles it. */
type Round =
  | { kind: 'plain'; text: string; answer: string }
  | { kind: 'lookup'; text: string; q: string; answer: string }
  | { kind: 'delete'; text: string; path: string; decision: 'accept' | 'reject'; answer: string };

const rounds: Round[] = [
  { kind: 'lookup', text: 'What is the weather?', q: 'weather', answer: 'Sunny.' },
  { kind: 'delete', text: 'Delete old.log', path: 'old.log', decision: 'accept', answer: 'Deleted old.log.' },
  { kind: 'plain', text: 'Thanks!', answer: 'You are welcome.' },
  { kind: 'lookup', text: 'And tomorrow?', q: 'weather tomorrow', answer: 'Rain.' },
  { kind: 'delete', text: 'Delete keep.db', path: 'keep.db', decision: 'reject', answer: 'I left keep.db alone.' },
  { kind: 'lookup', text: 'Any news?', q: 'news', answer: 'Nothing new.' },
  { kind: 'plain', text: 'OK.', answer: 'Anything else?' },
  { kind: 'lookup', text: 'Time in Tokyo?', q: 'time tokyo', answer: 'It is late there.' },
  { kind: 'delete', text: 'Delete tmp.txt', path: 'tmp.txt', decision: 'accept', answer: 'Deleted tmp.txt.' },
  { kind: 'lookup', text: 'Stock price?', q: 'stock', answer: 'Up 2%.' },
];
/** Decided after the thread has continued as new at least twice. */
const finalRound: Round = { kind: 'delete', text: 'Delete final.bin', path: 'final.bin', decision: 'accept', answer: 'Deleted final.bin.' };

/** The model's turns for a round: a tool call (with a call id unique in the thread) then the answer. */
function stepsFor(round: Round, index: number): ScriptedStep[] {
  const id = `call_r${index}`;
  if (round.kind === 'lookup') return [callTools(['lookup', { q: round.q }, id]), reply(round.answer)];
  if (round.kind === 'delete') return [callTools(['delete_file', { path: round.path }, id]), reply(round.answer)];
  return [reply(round.answer)];
}

/** The conversation a round should leave in the thread. */
function messagesFor(round: Round, index: number): ChatMessage[] {
  const id = `call_r${index}`;
  const user: ChatMessage = { role: 'user', content: round.text };
  const answer: ChatMessage = { role: 'assistant', content: round.answer };
  if (round.kind === 'plain') return [user, answer];
  const [name, args] = round.kind === 'lookup' ? ['lookup', { q: round.q }] : ['delete_file', { path: round.path }];
  const result =
    round.kind === 'delete' && round.decision === 'reject'
      ? expect.stringMatching(/^A person \(bob\) rejected this delete_file call; it was not run\./)
      : `${name} done: ${JSON.stringify(args)}`;
  return [
    user,
    { role: 'assistant', content: '', toolCalls: [{ id, name, arguments: JSON.stringify(args) }] },
    { role: 'tool', toolCallId: id, name, content: result },
    answer,
  ];
}

/** The run ids of a workflow, oldest first, following each run's continued-as-new event. */
async function runChain(workflowId: string, firstRunId: string): Promise<string[]> {
  const chain = [firstRunId];
  for (;;) {
    const events = (await client.workflow.getHandle(workflowId, chain[chain.length - 1]).fetchHistory()).events ?? [];
    const next = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return chain;
    chain.push(next);
  }
}

test('a thread keeps its conversation, turn count and decisions across continue-as-new', async () => {
  const taskQueue = unique('continue-as-new');
  const threadId = unique('thread');
  const fixture = recordingAgent({ lookup: { allowAuto: true, note: 'harmless' }, delete_file: protectedPolicy('Deleting is irreversible') });
  const allRounds = [...rounds, finalRound];
  const model = new ScriptedModel(allRounds.flatMap(stepsFor));
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: fixture.agent.name });
  const expected: ChatMessage[] = [];
  let turns = 0;

  /** Sends a round's message, decides its interrupt if it has one, and checks the answer. */
  const play = async (round: Round, index: number) => {
    const first = await airlock.handleMessage(threadId, round.text);
    let response = first;
    if (round.kind === 'delete') {
      expect(first.state.status).toBe('awaiting_approval');
      expect(first.state.currentInterrupt).toMatchObject({ toolName: 'delete_file', toolArgs: { path: round.path }, toolCallId: `call_r${index}` });
      response = await airlock.resumeWithApproval(threadId, round.decision, {
        approver: round.decision === 'accept' ? 'alice' : 'bob',
        reason: round.decision === 'reject' ? 'keep it' : undefined,
      });
    }
    turns += round.kind === 'plain' ? 1 : 2;
    expected.push(...messagesFor(round, index));
    expect(response.content).toBe(round.answer);
    expect(response.state.status).toBe('idle');
    expect(response.state.turn).toBe(turns);
    return response;
  };

  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: nativeConnection }, async () => {
    await play(rounds[0], 0);
    const firstRunId = (await airlock.handle(threadId).describe()).runId;

    for (let index = 1; index < rounds.length; index++) await play(rounds[index], index);

    // The thread moved on to new runs at least twice, and it is still one running thread.
    const afterRounds = await airlock.handle(threadId).describe();
    expect(afterRounds.runId).not.toBe(firstRunId);
    expect(afterRounds.status.name).toBe('RUNNING');
    const chain = await runChain(threadId, firstRunId);
    expect(chain.length).toBeGreaterThanOrEqual(3);
    expect(chain[chain.length - 1]).toBe(afterRounds.runId);
    expect(new Set(chain).size).toBe(chain.length);

    // The whole conversation and the turn count survived every run.
    const state = await airlock.getState(threadId);
    expect(state.messages).toEqual(expected);
    expect(state.turn).toBe(turns);
    expect(state.status).toBe('idle');

    // A decision after continue-as-new: the interrupt waits in the new run and the accept runs the tool.
    const deletesBefore = fixture.ran('delete_file').length;
    const final = await play(finalRound, rounds.length);
    const interrupt = final.state.interrupts.find((i) => i.toolCallId === `call_r${rounds.length}`);
    expect(interrupt).toMatchObject({ toolName: 'delete_file', turn: turns - 1, resolution: { type: 'accepted', approver: 'alice' } });
    const ran = fixture.ran('delete_file');
    expect(ran).toHaveLength(deletesBefore + 1);
    expect(ran[ran.length - 1]).toMatchObject({
      args: { path: 'final.bin' },
      context: { interruptId: interrupt!.id, idempotencyKey: `${threadId}/${turns - 1}/call_r${rounds.length}` },
    });
    expect((await airlock.getState(threadId)).messages).toEqual(expected);
  });

  // The model saw one continuous conversation: turns numbered on across runs, each request with all that came before.
  model.assertDone();
  expect(model.requests.map((request) => request.turn)).toEqual(Array.from({ length: turns }, (_, i) => i + 1));
  const lastRequest = model.requests[model.requests.length - 1];
  expect(lastRequest.messages).toEqual(expected.slice(0, -1));
  // Tools ran as decided: every lookup, accepted deletes only.
  expect(fixture.ran('lookup').map((run) => run.args)).toEqual(
    allRounds.flatMap((round) => (round.kind === 'lookup' ? [{ q: round.q }] : [])),
  );
  expect(fixture.ran('delete_file').map((run) => run.args)).toEqual([{ path: 'old.log' }, { path: 'tmp.txt' }, { path: 'final.bin' }]);
});

test('a conversation too large to carry whole (Temporal refuses a continue-as-new input over 2 MB) carries its most recent exchanges, and the thread goes on', async () => {
  const taskQueue = unique('continue-as-new-large');
  const threadId = unique('thread');
  // Each result is 190,000 three-byte characters (570 KB); two per message.
  const read = defineTool({ name: 'read', description: 'Reads a file', parameters: z.object({ file: z.string() }), execute: () => '中'.repeat(190_000) });
  const agent = defineAgent({ name: 'reader', instructions: 'Read files.', tools: [read], interrupts: {} });
  const messageCount = 6;
  const model = new ScriptedModel(
    Array.from({ length: messageCount }, (_, n): ScriptedStep[] => [callTools(['read', { file: `a${n}` }, `a${n}`], ['read', { file: `b${n}` }, `b${n}`]), reply(`read ${n}`)]).flat(),
  );
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: 'reader' });
  await withWorker({ agents: [agent], model, taskQueue, connection: nativeConnection }, async () => {
    const firstRunId = (await airlock.handleMessage(threadId, 'read a0 and b0').then(() => airlock.handle(threadId).describe())).runId;
    for (let n = 1; n < messageCount; n++) expect((await airlock.handleMessage(threadId, `read a${n} and b${n}`)).content).toBe(`read ${n}`);
    const description = await airlock.handle(threadId).describe();
    expect(description.status.name).toBe('RUNNING');
    // Each run's history is megabytes: read one event at a time (a page of them would be over gRPC's 4 MB).
    const event = async (runId: string, close: boolean) =>
      (
        await client.workflowService.getWorkflowExecutionHistory({
          namespace: 'default',
          execution: { workflowId: threadId, runId },
          maximumPageSize: 1,
          historyEventFilterType: close ? temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT : undefined,
        })
      ).history!.events![0];
    const chain = [firstRunId];
    for (let next; (next = (await event(chain[chain.length - 1], true))?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId); ) chain.push(next);
    expect(chain.length).toBeGreaterThanOrEqual(2);
    expect(chain[chain.length - 1]).toBe(description.runId);
    // Every run after the first started from a part of the conversation that begins with a user message.
    for (const runId of chain.slice(1)) {
      const input = (await event(runId, false)).workflowExecutionStartedEventAttributes!.input!.payloads![0].data!;
      expect(input.length).toBeLessThan(1_200_000);
      const carried = (JSON.parse(Buffer.from(input).toString('utf8')) as { carried: { messages: ChatMessage[] } }).carried.messages;
      expect(carried[0].role).toBe('user');
    }
    // The thread answers on, its turns numbered on.
    const state = await airlock.getState(threadId);
    expect(state.turn).toBe(messageCount * 2);
    expect(state.messages[state.messages.length - 1]).toEqual({ role: 'assistant', content: `read ${messageCount - 1}` });
  });
  model.assertDone();
  expect(model.requests.map((request) => request.turn)).toEqual(Array.from({ length: messageCount * 2 }, (_, i) => i + 1));
}, 120_000);

test("the terminal chat shows every tool result and answer when the thread moves to a run that carries only its recent conversation", async () => {
  const taskQueue = unique('continue-as-new-chat');
  const threadId = unique('thread');
  // 570 KB per result: two exchanges fill the 1 MB a run carries.
  const read = defineTool({ name: 'read', description: 'Reads a file', parameters: z.object({ file: z.string() }), execute: ({ file }) => `contents of ${file}: ${'中'.repeat(190_000)}` });
  const agent = defineAgent({ name: 'assistant', instructions: 'Read files.', tools: [read], interrupts: {} });
  const messageCount = 8;
  const model = new ScriptedModel(Array.from({ length: messageCount }, (_, n): ScriptedStep[] => [callTools(['read', { file: `f${n}` }, `r${n}`]), reply(`answer ${n}`)]).flat());
  const airlock = new AirlockClient({ client, taskQueue });
  const input = new PassThrough();
  const output = new PassThrough();
  let transcript = '';
  output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
  input.end(Array.from({ length: messageCount }, (_, n) => `read f${n}\n`).join(''));
  await withWorker({ agents: [agent], model, taskQueue, connection: nativeConnection }, async () => {
    const firstRunId = await airlock.startThread({ threadId, agent: 'assistant' }).then(async () => (await airlock.handle(threadId).describe()).runId);
    await runTerminalChat({ client: airlock, threadId, approver: 'alice', agent: 'assistant', io: { input, output } });
    expect((await airlock.handle(threadId).describe()).runId).not.toBe(firstRunId);
  });
  model.assertDone();
  for (let n = 0; n < messageCount; n++) {
    expect([n, transcript.split(`  [read] contents of f${n}: `).length - 1]).toEqual([n, 1]);
    expect([n, transcript.split(`Agent: answer ${n}\n`).length - 1]).toEqual([n, 1]);
  }
}, 120_000);
