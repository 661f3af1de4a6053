import { AirlockClient } from '../../src/client';
import { AirlockError } from '../../src/core';
import type { ChatMessage } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, quietRuntime, unique, withWorker } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

function setup(interrupts: Parameters<typeof recordingAgent>[0], steps: ConstructorParameters<typeof ScriptedModel>[0]) {
  const taskQueue = unique('approval');
  const fixture = recordingAgent(interrupts);
  const model = new ScriptedModel(steps);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const run = <T>(fn: () => Promise<T>) =>
    withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, fn);
  return { ...fixture, model, airlock, run, threadId: unique('thread') };
}

const toolMessages = (messages: ChatMessage[]) => messages.filter((m): m is Extract<ChatMessage, { role: 'tool' }> => m.role === 'tool');

test('accept runs the tool exactly as shown to the approver', async () => {
  const t = setup({ delete_file: protectedPolicy('File deletion is irreversible') }, [
    callTools(['delete_file', { path: '/tmp/x' }]),
    reply('Deleted it.'),
  ]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete the file /tmp/x');
    expect(first.state.status).toBe('awaiting_approval');
    const interrupt = first.state.currentInterrupt!;
    expect(interrupt).toMatchObject({ toolName: 'delete_file', toolArgs: { path: '/tmp/x' }, policyNote: 'File deletion is irreversible' });
    expect(Date.parse(interrupt.createdAt)).not.toBeNaN();
    expect(t.runs).toHaveLength(0);

    const final = await t.airlock.resumeWithApproval(t.threadId, 'accept', { approver: 'alice' });
    expect(final.content).toBe('Deleted it.');
    expect(final.state.status).toBe('idle');
    expect(final.state.currentInterrupt).toBeUndefined();
    expect(t.ran('delete_file')).toHaveLength(1);
    expect(t.ran('delete_file')[0].args).toEqual(interrupt.toolArgs);
    expect(t.ran('delete_file')[0].context.idempotencyKey).toBe(`${t.threadId}/1/call_1`);
    expect(t.ran('delete_file')[0].context.interruptId).toBe(interrupt.id);
    expect(final.state.interrupts[0].resolution).toMatchObject({ type: 'accepted', approver: 'alice' });
  });
  t.model.assertDone();
});

test('reject skips the tool and the model is told a person rejected it, with the reason', async () => {
  const t = setup({ send_email: protectedPolicy() }, [
    callTools(['send_email', { to: 'a@b.co', subject: 'Hi', body: 'x' }]),
    reply('OK, I will not send it.'),
  ]);
  await t.run(async () => {
    await t.airlock.handleMessage(t.threadId, 'email a@b.co');
    const final = await t.airlock.resumeWithApproval(t.threadId, 'reject', { approver: 'bob', reason: 'wrong recipient' });
    expect(final.content).toBe('OK, I will not send it.');
    expect(t.runs).toHaveLength(0);
    const seenByModel = toolMessages(t.model.requests[1].messages);
    expect(seenByModel).toHaveLength(1);
    expect(seenByModel[0].content).toMatch(/person \(bob\) rejected/);
    expect(seenByModel[0].content).toMatch(/Reason: wrong recipient/);
  });
});

test('allowAuto runs the tool without asking', async () => {
  const t = setup({ lookup: { allowAuto: true, note: 'harmless' } }, [callTools(['lookup', { q: 'weather' }]), reply('Sunny.')]);
  await t.run(async () => {
    const response = await t.airlock.handleMessage(t.threadId, 'weather?');
    expect(response.content).toBe('Sunny.');
    expect(response.state.interrupts).toHaveLength(0);
    expect(t.ran('lookup')).toHaveLength(1);
  });
});

test('two protected tools in two turns each wait for their own decision', async () => {
  const t = setup({ delete_file: protectedPolicy('delete'), send_email: protectedPolicy('email') }, [
    callTools(['delete_file', { path: 'a.txt' }]),
    callTools(['send_email', { to: 'x@y.co', subject: 'Deleted a.txt' }]),
    reply('Both done.'),
  ]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete a.txt then tell x');
    expect(first.state.currentInterrupt?.toolName).toBe('delete_file');
    const second = await t.airlock.resumeWithApproval(t.threadId, 'accept', { approver: 'alice' });
    expect(second.state.currentInterrupt).toMatchObject({ toolName: 'send_email', policyNote: 'email' });
    expect(t.ran('delete_file')).toHaveLength(1);
    expect(t.ran('send_email')).toHaveLength(0);
    const final = await t.airlock.resumeWithApproval(t.threadId, 'accept', { approver: 'carol' });
    expect(final.content).toBe('Both done.');
    // Each tool ran once; the tool gets the shown arguments parsed by its schema (here: the default body).
    expect(t.runs.map((run) => [run.tool, run.args])).toEqual([
      ['delete_file', { path: 'a.txt' }],
      ['send_email', { to: 'x@y.co', subject: 'Deleted a.txt', body: '' }],
    ]);
  });
});

test('several calls in one turn: protected ones wait, unprotected run, results return in the model order', async () => {
  const t = setup({ delete_file: protectedPolicy(), send_email: protectedPolicy() }, [
    callTools(['delete_file', { path: 'a' }, 'c1'], ['lookup', { q: 'q' }, 'c2'], ['send_email', { to: 'm@n.co', subject: 's' }, 'c3'], ['delete_file', { path: 'b' }, 'c4']),
    reply('Done.'),
  ]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'do four things');
    expect(first.state.pendingInterrupts.map((i) => i.toolCallId)).toEqual(['c1', 'c3', 'c4']);
    const [del1, email, del2] = first.state.pendingInterrupts;
    // Decide out of order: the turn continues only when all three are resolved.
    expect(await t.airlock.decide(t.threadId, { interruptId: del2.id, action: 'accept', approver: 'a' })).toMatchObject({ type: 'applied' });
    expect(await t.airlock.decide(t.threadId, { interruptId: email.id, action: 'reject', approver: 'a' })).toMatchObject({ type: 'applied' });
    const waiting = await t.airlock.awaitResponse(t.threadId);
    expect(waiting.state.pendingInterrupts.map((i) => i.id)).toEqual([del1.id]);
    const final = await t.airlock.resumeWithApproval(t.threadId, 'accept', { approver: 'a' });
    expect(final.content).toBe('Done.');
    expect(toolMessages(t.model.requests[1].messages).map((m) => m.toolCallId)).toEqual(['c1', 'c2', 'c3', 'c4']);
    // Each accepted call ran once, the rejected one never, the unprotected one once (in any order: they run at once).
    const ranCalls = t.runs.map((r) => `${r.tool} ${JSON.stringify(r.args)}`).sort();
    expect(ranCalls).toEqual(['delete_file {"path":"a"}', 'delete_file {"path":"b"}', 'lookup {"q":"q"}']);
  });
});

test('invalid arguments go back to the model as a tool error and the thread continues', async () => {
  const t = setup({ delete_file: protectedPolicy() }, [
    callTools(['delete_file', { path: 42 }]),
    callTools(['send_email', '{"to": "not json"']),
    reply('Sorry.'),
  ]);
  await t.run(async () => {
    const response = await t.airlock.handleMessage(t.threadId, 'delete something');
    expect(response.content).toBe('Sorry.');
    expect(response.state.interrupts).toHaveLength(0);
    expect(t.runs).toHaveLength(0);
    const [schemaError] = toolMessages(t.model.requests[1].messages);
    expect(schemaError.content).toMatch(/^Error \(ToolArgumentsInvalid\): Invalid arguments for delete_file/);
    expect(schemaError.content).toMatch(/path/);
    const errors = toolMessages(t.model.requests[2].messages);
    expect(errors[1].content).toMatch(/^Error \(ToolArgumentsInvalid\): Arguments for send_email are not valid JSON/);
  });
});

test('an unknown tool goes back to the model as a tool error', async () => {
  const t = setup({}, [callTools(['drop_table', { name: 'users' }]), reply('I cannot do that.')]);
  await t.run(async () => {
    const response = await t.airlock.handleMessage(t.threadId, 'drop users');
    expect(response.content).toBe('I cannot do that.');
    expect(toolMessages(t.model.requests[1].messages)[0].content).toMatch(/^Error \(ToolNotFound\): Unknown tool 'drop_table'. Available tools: delete_file, send_email, lookup/);
  });
});

test('duplicate and unknown decisions are refused with a reason and recorded; malformed ones are refused before history', async () => {
  const t = setup({ delete_file: protectedPolicy() }, [callTools(['delete_file', { path: 'f' }]), reply('Done.')]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete f');
    const id = first.state.currentInterrupt!.id;

    const unknown = await t.airlock.decide(t.threadId, { interruptId: 'nope', action: 'accept', approver: 'a' });
    expect(unknown).toEqual({ type: 'refused', interruptId: 'nope', errorType: 'InterruptNotFound', reason: 'No interrupt with that id in this thread' });
    const badAction = await t.airlock.decide(t.threadId, { interruptId: id, action: 'maybe' as 'accept', approver: 'a' });
    expect(badAction).toMatchObject({ type: 'refused', errorType: 'DecisionInvalid' });
    await t.airlock.sendDecision(t.threadId, { interruptId: 'nope', action: 'accept', approver: 'mallory' });

    // The signal path: a fire-and-forget accept is applied once.
    await t.airlock.sendDecision(t.threadId, { interruptId: id, action: 'accept', approver: 'alice' });
    const final = await t.airlock.awaitResponse(t.threadId);
    expect(final.content).toBe('Done.');

    const again = await t.airlock.decide(t.threadId, { interruptId: id, action: 'reject', approver: 'bob' });
    expect(again).toMatchObject({ type: 'refused', errorType: 'InterruptAlreadyDecided' });
    expect(again.type === 'refused' && again.reason).toMatch(/already accepted by alice/);
    await t.airlock.sendDecision(t.threadId, { interruptId: id, action: 'reject', approver: 'bob' });

    const state = await t.airlock.getState(t.threadId);
    expect(state.interrupts[0].resolution).toMatchObject({ type: 'accepted', approver: 'alice' });
    expect(t.ran('delete_file')).toHaveLength(1);
    // Well-formed refusals are on record (the update answered them); the malformed one never reached history.
    const history = await t.airlock.handle(t.threadId).fetchHistory();
    const updates = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(updates.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.name)).toEqual(['sendMessage', 'decide', 'awaitResponse', 'decide']);
    const refusals = (await t.airlock.auditTrail(t.threadId)).filter((entry) => entry.decision === 'refused');
    expect(refusals.map((entry) => [entry.via, entry.approver, entry.refusal?.errorType])).toEqual([
      ['update', 'a', 'InterruptNotFound'],
      ['signal', 'mallory', 'InterruptNotFound'],
      ['update', 'bob', 'InterruptAlreadyDecided'],
      ['signal', 'bob', 'InterruptAlreadyDecided'],
    ]);
  });
});

test('a message to an ended thread is refused', async () => {
  const t = setup({}, [reply('Hello.')]);
  await t.run(async () => {
    await t.airlock.handleMessage(t.threadId, 'hi');
    await t.airlock.endThread(t.threadId);
    const summary = await t.airlock.handle(t.threadId).result();
    expect(summary).toMatchObject({ threadId: t.threadId, turns: 1, messages: 2 });
    await expect(t.airlock.handleMessage(t.threadId, 'still there?')).rejects.toMatchObject({ name: 'ThreadEnded' });
    await expect(t.airlock.startThread({ threadId: t.threadId })).rejects.toMatchObject({ name: 'ThreadEnded' });
    const plain = new AirlockClient({ client: server.client });
    await expect(plain.handleMessage(t.threadId, 'hello?')).rejects.toMatchObject({ name: 'ThreadEnded' });
  });
});

test('an empty message is refused by the validator', async () => {
  const t = setup({}, []);
  await t.run(async () => {
    await t.airlock.startThread({ threadId: t.threadId });
    const error = await t.airlock.handleMessage(t.threadId, '   ').catch((e) => e);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ type: 'MessageInvalid', message: 'A message must be non-empty text' });
  });
});

/** Polls the thread's history until it has accepted `count` Updates named `name`. */
async function untilAccepted(airlock: AirlockClient, threadId: string, name: string, count: number): Promise<void> {
  for (let tries = 0; ; tries++) {
    const { events } = await airlock.handle(threadId).fetchHistory();
    const accepted = (events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name);
    if (accepted.length >= count) return;
    if (tries > 200) throw new Error(`the thread did not accept ${count} ${name} Updates`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const lastUserText = (messages: ChatMessage[]) => [...messages].reverse().find((m) => m.role === 'user')!.content;

test('messages sent at once each get their own answer', async () => {
  const echo = (req: { messages: ChatMessage[] }) => reply(`echo: ${lastUserText(req.messages)}`);
  const t = setup({}, [echo, echo, echo]);
  await t.run(async () => {
    await t.airlock.startThread({ threadId: t.threadId });
    const [one, two, three] = await Promise.all(['one', 'two', 'three'].map((text) => t.airlock.handleMessage(t.threadId, text)));
    expect([one.content, two.content, three.content]).toEqual(['echo: one', 'echo: two', 'echo: three']);
  });
});

test("a message sent while an interrupt waits gets its own answer, not the other message's interrupt", async () => {
  const t = setup({ delete_file: protectedPolicy() }, [
    callTools(['delete_file', { path: 'a' }]),
    reply('deleted a'),
    (req) => reply(`echo: ${lastUserText(req.messages)}`),
  ]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete a');
    const second = t.airlock.handleMessage(t.threadId, 'and hello');
    // Decide only once the thread holds the second message (the state does not list queued ones: the history does).
    await untilAccepted(t.airlock, t.threadId, 'sendMessage', 2);
    await t.airlock.decide(t.threadId, { interruptId: first.state.currentInterrupt!.id, action: 'accept', approver: 'alice' });
    expect((await second).content).toBe('echo: and hello');
    expect(t.ran('delete_file')).toHaveLength(1);
  });
});

test('repeated tool-call ids from the model still give each call its own interrupt and idempotency key', async () => {
  const t = setup({ delete_file: protectedPolicy() }, [callTools(['delete_file', { path: 'a' }, 'dup'], ['delete_file', { path: 'b' }, 'dup']), reply('Done.')]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete a and b');
    const ids = first.state.pendingInterrupts.map((i) => i.id);
    // The repeated id gets a fresh one, derived from the turn and the call's place.
    expect(ids).toEqual(['t1-dup', 't1-call_1_2']);
    for (const id of ids) await t.airlock.decide(t.threadId, { interruptId: id, action: 'accept', approver: 'alice' });
    expect((await t.airlock.awaitResponse(t.threadId)).content).toBe('Done.');
    const runs = t.ran('delete_file').map((run) => `${run.context.idempotencyKey} ${JSON.stringify(run.args)}`);
    expect(runs.sort()).toEqual([`${t.threadId}/1/call_1_2 {"path":"b"}`, `${t.threadId}/1/dup {"path":"a"}`]);
  });
});

test("tool-call ids a model chose that no approver could name (blank, overlong, control or format characters) or that collide are replaced: each call can be decided and runs once", async () => {
  const odd = ['call_1_2', '', 'x'.repeat(198), 'a\nb', 'a\u200bb', 'call_1_2'];
  const t = setup({ delete_file: protectedPolicy() }, [callTools(...odd.map((id, index): [string, unknown, string] => ['delete_file', { path: `f${index}` }, id])), reply('Done.')]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete them');
    const ids = first.state.pendingInterrupts.map((i) => i.id);
    // The model's own id is kept where it is usable; a generated one never takes an id another call holds.
    expect(ids).toEqual(['t1-call_1_2', 't1-call_1_2_2', 't1-call_1_3', 't1-call_1_4', 't1-call_1_5', 't1-call_1_6']);
    for (const id of ids) expect(await t.airlock.decide(t.threadId, { interruptId: id, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'applied' });
    expect((await t.airlock.awaitResponse(t.threadId)).content).toBe('Done.');
    expect(t.ran('delete_file').map((run) => (run.args as { path: string }).path).sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    // The model's next turn reads the ids the thread gave, the calls and their results alike.
    const next = t.model.requests[1].messages;
    const called = next.flatMap((m) => (m.role === 'assistant' ? (m.toolCalls ?? []).map((call) => call.id) : []));
    expect(toolMessages(next).map((m) => m.toolCallId)).toEqual(called);
    expect(called).toEqual(ids.map((id) => id.slice(3)));
  });
});

test('a turn runs at most 32 tool calls: the model reads a tool error for each one after, and the thread goes on', async () => {
  const calls = Array.from({ length: 40 }, (_, index): [string, unknown] => ['delete_file', { path: `p${index}` }]);
  const t = setup({}, [callTools(...calls), reply('Done.')]);
  await t.run(async () => {
    expect((await t.airlock.handleMessage(t.threadId, 'delete forty files')).content).toBe('Done.');
    expect(t.ran('delete_file')).toHaveLength(32);
    const results = toolMessages(t.model.requests[1].messages);
    expect(results).toHaveLength(40);
    expect(results.slice(32).every((m) => m.content.includes('Not run: a turn may make at most 32 tool calls'))).toBe(true);
    expect(results.slice(0, 32).some((m) => m.content.includes('Not run'))).toBe(false);
  });
});

test('ending a thread that waits for approval cancels the interrupt: the tool does not run and the thread completes', async () => {
  const t = setup({ delete_file: protectedPolicy() }, [callTools(['delete_file', { path: 'a' }])]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete a');
    await t.airlock.endThread(t.threadId);
    await t.airlock.handle(t.threadId).result();
    const late = await t.airlock.decide(t.threadId, { interruptId: first.state.currentInterrupt!.id, action: 'accept', approver: 'alice' });
    expect(late).toMatchObject({ type: 'refused', errorType: 'ThreadEnded' });
    const [entry] = await t.airlock.auditTrail(t.threadId);
    expect(entry).toMatchObject({ decision: 'cancelled', reason: 'the thread was ended' });
  });
  expect(t.runs).toHaveLength(0);
});
