/**
 * The compact reply of `sendMessage` and `awaitResponse`: what it leaves out comes back exactly,
 * for responses the thread's own state builds (lean and older runs, edits, escalations), and a
 * malformed reply option is refused without being repeated.
 */
import fc from 'fast-check';
import { REPLY_FORM, argsDigest, checkKnown, checkReplyOptions, compactOutcome, compactReply, expandOutcome, expandReply, knowledgeOf, wantsCompactReply } from '../../src/core';
import type { DecisionOutcome } from '../../src/core';
import type { AgentResponse, HitlPolicy, ToolCall } from '../../src/core';
import { completeResponse, withResolution } from '../../src/client/airlock-client';
import { AgentThreadState } from '../../src/workflows/thread-state';

const spec = {
  name: 'a',
  instructions: '',
  tools: ['delete_file', 'send_email'],
  interrupts: { delete_file: { allowAuto: false, note: 'Deleting needs a person' }, send_email: { allowAuto: false } as HitlPolicy },
};

/** A thread that asked for two calls on message 'clean up', as the workflow's loop leaves it. */
function waitingThread(lean: boolean): AgentThreadState {
  const thread = new AgentThreadState({ threadId: 'thread-1', agentName: 'a', lean });
  thread.spec = spec;
  thread.queue.receive('clean up', true);
  thread.startNextMessage();
  thread.turn = 1;
  thread.messages.push({ role: 'user', content: 'clean up' });
  thread.messages.push({
    role: 'assistant',
    content: 'I will delete it and tell Bob.',
    toolCalls: [
      { id: 'c1', name: 'delete_file', arguments: '{"path":"x"}' },
      { id: 'c2', name: 'send_email', arguments: '{ "to": "bob" }' },
    ],
  });
  thread.book.open({ id: 'c1', name: 'delete_file' }, { path: 'x' }, spec.interrupts.delete_file, 1, 0);
  thread.book.open({ id: 'c2', name: 'send_email' }, { to: 'bob' }, spec.interrupts.send_email, 1, 1);
  return thread;
}

/** What the client makes of a reply: the full one as sent, the compact one expanded. */
const roundTrip = (response: AgentResponse, sent?: string) => completeResponse(expandReply(JSON.parse(JSON.stringify(compactReply(response, sent))), 'thread-1', sent));
const asSent = (response: AgentResponse) => completeResponse(JSON.parse(JSON.stringify(response)) as AgentResponse);

describe.each([true, false])('a compact reply (lean run: %s)', (lean) => {
  test('comes back as the full response, with the digests, notes and tool-call ids it left out', () => {
    const thread = waitingThread(lean);
    const response = thread.responseTo(1);
    expect(response.state.pendingInterrupts).toHaveLength(2);
    const compact = compactReply(response, 'clean up');
    expect(compact.sent).toBe(1);
    expect(JSON.stringify(compact)).not.toMatch(/argsDigest|callDigest|thread-1|toolArgs/);
    expect(JSON.stringify(compact).length).toBeLessThan(JSON.stringify(response).length * 0.75);
    expect(roundTrip(response, 'clean up')).toEqual(asSent(response));
  });

  test('an answer that is not the last message, and a sent message that is not the first, are kept', () => {
    const thread = waitingThread(lean);
    const response = { ...thread.responseTo(1), content: 'not the last message' };
    const compact = compactReply(response, 'another message');
    expect(compact.sent).toBeUndefined();
    expect(compact.content).toBe('not the last message');
    expect(roundTrip(response, 'another message')).toEqual(asSent(response));
  });

  test('decided, edited and escalated interrupts come back whole', () => {
    const thread = waitingThread(lean);
    const [first, second] = thread.book.pending();
    thread.decide({ interruptId: first.id, action: 'reject', approver: 'alice', reason: 'keep it' }, { via: 'update', updateId: 'u1' }, 5);
    const check = thread.book.check({ interruptId: second.id, action: 'edit', approver: 'bob', args: { to: 'carol' } });
    if (!check.ok) throw new Error(check.reason);
    const stricter = { allowAuto: false, note: 'Mail to carol needs Dana', approvers: ['dana'] };
    thread.book.applyEdit(check, { interruptId: second.id, action: 'edit', approver: 'bob', args: { to: 'carol' } }, { policy: stricter } as never, { via: 'update' }, 6);
    const response = thread.response();
    expect(response.state.interrupts.length + response.state.pendingInterrupts.length).toBeGreaterThan(0);
    expect(roundTrip(response)).toEqual(asSent(response));
    expect(expandReply(compactReply(response), 'thread-1').state.pendingInterrupts[0]).toMatchObject({ policyNote: 'Mail to carol needs Dana', toolArgs: { to: 'carol' }, originalArgs: { to: 'bob' } });
    // Edited arguments are not the model's: they are sent.
    expect(compactReply(response).state.pendingInterrupts?.[0]).toMatchObject({ toolArgs: { to: 'carol' } });
  });

  test('an answered exchange leaves out its answer, which is its last message', () => {
    const thread = waitingThread(lean);
    for (const interrupt of thread.book.pending()) thread.decide({ interruptId: interrupt.id, action: 'accept', approver: 'alice' }, { via: 'update', updateId: interrupt.id }, 5);
    thread.messages.push({ role: 'assistant', content: 'Done: deleted x, mailed Bob.' });
    thread.turn = 2;
    thread.finishMessage();
    const response = thread.response();
    expect(response.content).toBe('Done: deleted x, mailed Bob.');
    expect(compactReply(response).content).toBeUndefined();
    expect(roundTrip(response)).toEqual(asSent(response));
  });
});

describe.each([true, false])('an awaitResponse that says what the client holds (lean run: %s)', (lean) => {
  /** The thread after its calls were decided and it answered: what `awaitResponse` returns next. */
  function answered(thread: AgentThreadState, edit = false): AgentResponse {
    const [first, second] = thread.book.pending();
    thread.decide({ interruptId: first.id, action: 'accept', approver: 'alice' }, { via: 'update', updateId: 'u1' }, 5);
    if (edit) {
      // An edit that escalates: the call still waits, with other arguments and a stricter policy.
      const decision = { interruptId: second.id, action: 'edit' as const, approver: 'bob', args: { to: 'carol' } };
      const check = thread.book.check(decision);
      if (!check.ok) throw new Error(check.reason);
      thread.book.applyEdit(check, decision, { policy: { allowAuto: false, approvers: ['dana'] } } as never, { via: 'update' }, 6);
      return thread.response();
    }
    thread.decide({ interruptId: second.id, action: 'reject', approver: 'bob', reason: 'not Bob' }, { via: 'update', updateId: 'u2' }, 6);
    thread.messages.push({ role: 'tool', toolCallId: 'c1', name: 'delete_file', content: 'deleted x' }, { role: 'tool', toolCallId: 'c2', name: 'send_email', content: 'rejected' });
    thread.messages.push({ role: 'assistant', content: 'Deleted x; the mail was not sent.' });
    thread.turn = 2;
    thread.finishMessage();
    return thread.response();
  }
  const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value));

  test('gets only what is new, and the client puts back what it held', () => {
    const thread = waitingThread(lean);
    const held = roundTrip(thread.responseTo(1), 'clean up');
    const response = answered(thread);
    const compact = wire(compactReply(response, undefined, knowledgeOf(held)));
    expect(compact.known).toBe(1);
    expect(compact.state.messages.map((message) => message.role)).toEqual(['tool', 'tool', 'assistant']);
    expect(JSON.stringify(compact)).not.toMatch(/clean up|"path"|toolArgs|createdAt|"agent"|messagesFrom/);
    expect(JSON.stringify(compact).length).toBeLessThan(JSON.stringify(compactReply(response)).length * 0.7);
    expect(completeResponse(expandReply(compact, 'thread-1', undefined, held))).toEqual(asSent(response));
  });

  test('an exchange that is not what the client holds comes whole: other messages, an edited call, another exchange, another agent', () => {
    for (const change of ['message', 'edit', 'exchange', 'agent'] as const) {
      const thread = waitingThread(lean);
      const held = roundTrip(thread.responseTo(1), 'clean up');
      if (change === 'message') held.state.messages[1] = { role: 'assistant', content: 'something else' };
      if (change === 'exchange') held.state.messagesFrom = 4;
      if (change === 'agent') held.state.agent = 'another';
      const response = answered(thread, change === 'edit');
      const compact = wire(compactReply(response, undefined, knowledgeOf(held)));
      expect([change, compact.known]).toEqual([change, undefined]);
      if (change === 'edit') expect(JSON.stringify(compact)).toContain('"toolArgs":{"to":"carol"}');
      expect(compact.state.messages[0]).toEqual({ role: 'user', content: 'clean up' });
      expect(completeResponse(expandReply(compact, 'thread-1', undefined, held))).toEqual(asSent(response));
    }
  });

  test("a client that made the decisions holds their resolutions (form 4): the reply leaves them out, and gives each back", () => {
    const thread = waitingThread(lean);
    let held = roundTrip(thread.responseTo(1), 'clean up');
    const response = answered(thread);
    // What the client's decide gets back, and notes in what it holds.
    for (const interrupt of response.state.interrupts) {
      const outcome = { type: 'applied' as const, interruptId: interrupt.id, resolution: interrupt.resolution! };
      const decision = { interruptId: interrupt.id, action: interrupt.resolution!.type === 'accepted' ? ('accept' as const) : ('reject' as const), approver: (interrupt.resolution as { approver: string }).approver };
      const updateId = (interrupt.resolution as { updateId: string }).updateId;
      held = withResolution(held, expandOutcome(wire(compactOutcome(outcome, REPLY_FORM, decision)), interrupt.id, updateId, decision));
    }
    const compact = wire(compactReply(response, undefined, knowledgeOf(held)));
    expect(compact.known).toBe(2);
    expect(JSON.stringify(compact)).not.toMatch(/resolution|alice|"name"|"turn"|interrupts|toolCallId/);
    expect(completeResponse(expandReply(compact, 'thread-1', undefined, held))).toEqual(asSent(response));
    // A client that holds one resolution the thread does not have gets them all.
    const lying = withResolution(held, { type: 'applied', interruptId: response.state.interrupts[0].id, resolution: { type: 'accepted', at: 'then', approver: 'mallory' } } as DecisionOutcome);
    const whole = wire(compactReply(response, undefined, knowledgeOf(lying)));
    expect(whole.known).toBeUndefined();
    expect(completeResponse(expandReply(whole, 'thread-1', undefined, lying))).toEqual(asSent(response));
    // A client of the release before says what it holds without resolutions, and gets them.
    const older = wire(compactReply(response, undefined, knowledgeOf(held, 3), 3));
    expect(older.known).toBe(1);
    expect(JSON.stringify(older)).toMatch(/resolution/);
    expect(completeResponse(expandReply(older, 'thread-1', undefined, held))).toEqual(asSent(response));
  });

  test('a thread still waiting sends no messages again', () => {
    const thread = waitingThread(lean);
    const held = roundTrip(thread.responseTo(1), 'clean up');
    const compact = wire(compactReply(thread.response(), undefined, knowledgeOf(held)));
    expect(compact).toMatchObject({ known: 1, state: { messages: [] } });
    expect(completeResponse(expandReply(compact, 'thread-1', undefined, held))).toEqual(asSent(thread.response()));
  });

  test('a reply that left out what the caller held needs it back', () => {
    const thread = waitingThread(lean);
    const held = roundTrip(thread.responseTo(1), 'clean up');
    const compact = wire(compactReply(answered(thread), undefined, knowledgeOf(held)));
    expect(() => expandReply(compact, 'thread-1')).toThrow(expect.objectContaining({ type: 'WireDataInvalid' }));
    const other = { ...held, state: { ...held.state, interrupts: [], pendingInterrupts: [] } };
    expect(() => expandReply(compact, 'thread-1', undefined, other)).toThrow(expect.objectContaining({ type: 'WireDataInvalid' }));
  });
});

test('a client of the release before (form 2) gets every interrupt with its arguments', () => {
  const response = waitingThread(true).responseTo(1);
  const compact = JSON.parse(JSON.stringify(compactReply(response, 'clean up', undefined, 2)));
  expect(compact.form).toBe(2);
  for (const interrupt of compact.state.pendingInterrupts) expect(interrupt).toHaveProperty('toolArgs');
  expect(completeResponse(expandReply(compact, 'thread-1', 'clean up'))).toEqual(asSent(response));
  expect(compactReply(response, 'clean up', undefined, 7).form).toBe(REPLY_FORM);
});

test('a client of the release before (form 3) gets tool names, turns, empty texts, the start and the status', () => {
  const thread = waitingThread(true);
  const asked = thread.messages.findIndex((message) => message.role === 'assistant');
  thread.messages[asked] = { ...thread.messages[asked], content: '' };
  const response = thread.responseTo(1);
  const form3 = JSON.parse(JSON.stringify(compactReply(response, 'clean up', undefined, 3)));
  expect(form3.form).toBe(3);
  for (const interrupt of form3.state.pendingInterrupts) expect(Object.keys(interrupt)).toEqual(expect.arrayContaining(['toolName', 'turn']));
  expect(form3.state).toMatchObject({ status: 'awaiting_approval', messagesFrom: 0 });
  expect(form3.state.messages.find((message: { role: string }) => message.role === 'assistant')).toHaveProperty('content', '');
  expect(completeResponse(expandReply(form3, 'thread-1', 'clean up'))).toEqual(asSent(response));
  // Form 4 leaves them out, as the rest of the reply gives them.
  const form4 = JSON.parse(JSON.stringify(compactReply(response, 'clean up', undefined, 4)));
  expect(form4.form).toBe(4);
  for (const interrupt of form4.state.pendingInterrupts) expect(Object.keys(interrupt)).not.toEqual(expect.arrayContaining(['toolName']));
  for (const interrupt of form4.state.pendingInterrupts) expect(interrupt).not.toHaveProperty('turn');
  expect(form4.state).not.toHaveProperty('status');
  expect(form4.state).not.toHaveProperty('turn');
  expect(form4.state.pendingInterrupts[0].policy).toEqual({ note: 'Deleting needs a person' });
  expect(form3.state.pendingInterrupts[0].policy).toEqual({ allowAuto: false, note: 'Deleting needs a person' });
  expect(form4.state).not.toHaveProperty('messagesFrom');
  expect(form4.state.messages.find((message: { role: string }) => message.role === 'assistant')).not.toHaveProperty('content');
  expect(completeResponse(expandReply(form4, 'thread-1', 'clean up'))).toEqual(asSent(response));
});

test("an interrupt whose arguments were left out needs the model's call in the messages", () => {
  const compact = JSON.parse(JSON.stringify(compactReply(waitingThread(true).responseTo(1), 'clean up')));
  expect(compact.state.pendingInterrupts[0]).not.toHaveProperty('toolArgs');
  compact.state.messages = [];
  expect(() => expandReply(compact, 'thread-1', 'clean up')).toThrow(expect.objectContaining({ type: 'WireDataInvalid' }));
});

test('a full reply (a worker that does not know the compact form) passes through unchanged', () => {
  const response = waitingThread(true).responseTo(1);
  expect(expandReply(response, 'another id', 'clean up')).toBe(response);
});

test('round trip over generated conversations and interrupts', () => {
  const text = fc.string({ maxLength: 20 });
  const message = fc.oneof(
    fc.record({ role: fc.constant('user' as const), content: text }),
    fc.record({ role: fc.constant('assistant' as const), content: text }),
    fc.record({ role: fc.constant('tool' as const), toolCallId: text, name: text, content: text }),
    // The model's calls, with or without text, and their results under their own tool's name or another.
    fc.record({ role: fc.constant('assistant' as const), content: fc.constantFrom('', 'on it'), toolCalls: fc.constant([{ id: 'c1', name: 'delete_file', arguments: '{"path":"p"}' }] as ToolCall[]) }),
    fc.record({ role: fc.constant('tool' as const), toolCallId: fc.constant('c1'), name: fc.constantFrom('delete_file', 'other'), content: text }),
  );
  fc.assert(
    fc.property(fc.array(message, { maxLength: 5 }), fc.option(text, { nil: undefined }), text, fc.boolean(), fc.constantFrom(2, 3, 4), (messages, sent, content, withNote, form) => {
      const thread = new AgentThreadState({ threadId: 'thread-1', agentName: 'a', lean: true });
      thread.spec = spec;
      thread.messages.push(...messages);
      thread.book.open({ id: 'c1', name: 'delete_file' }, { path: content }, withNote ? spec.interrupts.delete_file : spec.interrupts.send_email, 1, 0);
      const response = { ...thread.response(), content };
      const compact = JSON.parse(JSON.stringify(compactReply(response, sent, undefined, form)));
      expect(compact.form).toBe(form);
      expect(completeResponse(expandReply(compact, 'thread-1', sent))).toEqual(asSent(response));
    }),
  );
});

test('what a client holds is taken only as knowledgeOf gives it; anything else is refused with a fixed sentence', () => {
  expect(checkKnown(undefined)).toBeUndefined();
  expect(checkKnown(knowledgeOf(roundTrip(waitingThread(true).responseTo(1), 'clean up')))).toBeUndefined();
  const hostile = fc.oneof(fc.anything(), fc.constant('0:2:1:0123456789ABCDEF'), fc.constant('0:2:1:0123456789abcde'), fc.constant('-1:2:1:0123456789abcdef'), fc.constant('0:2:1:0123456789abcdef\n'));
  fc.assert(
    fc.property(hostile, (value) => {
      fc.pre(value !== undefined && !(typeof value === 'string' && /^\d{1,9}:\d{1,9}:\d{1,9}:[0-9a-f]{16}$/.test(value)));
      expect(checkKnown(value)).toBe("What the client holds must be as its knowledgeOf gives it ('<from>:<messages>:<turn>:<16 hex digits>')");
    }),
  );
});

describe('reply options', () => {
  test('absent or { form: n } is taken; the newest form a worker knows answers any newer request', () => {
    expect(checkReplyOptions(undefined)).toBeUndefined();
    expect(checkReplyOptions({ form: 1 })).toBeUndefined();
    expect(checkReplyOptions({ form: 7 })).toBeUndefined();
    expect([undefined, { form: 1 }, { form: 2 }, { form: 7 }].map(wantsCompactReply)).toEqual([false, false, true, true]);
  });

  test('anything else is refused with a fixed sentence that never repeats it', () => {
    const hostile = fc.oneof(
      fc.anything().filter((value) => value !== undefined),
      fc.record({ form: fc.oneof(fc.double(), fc.string(), fc.constant(0), fc.constant(-1)) }),
      fc.record({ form: fc.constant(2), extra: fc.string({ minLength: 1 }) }),
    );
    fc.assert(
      fc.property(hostile, (value) => {
        const valid = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && Number.isSafeInteger((value as { form?: unknown }).form) && (value as { form: number }).form >= 1;
        fc.pre(!valid);
        expect(checkReplyOptions(value)).toBe('Reply options must be { form: <a whole number from 1> }');
      }),
    );
  });
});

test("a decision's compact outcome leaves out what the caller sent, and comes back whole", () => {
  const at = '2026-12-01T00:00:00.000Z';
  const outcomes: DecisionOutcome[] = [
    { type: 'applied', interruptId: 't1-c1', resolution: { type: 'accepted', at, approver: 'alice', via: 'update', updateId: 'd-abc' } },
    { type: 'applied', interruptId: 't1-c1', resolution: { type: 'edited', at, approver: 'bob', args: { to: 'carol' }, argsDigest: argsDigest({ to: 'carol' }), decidedOnDigest: argsDigest({ to: 'bob' }), via: 'update', updateId: 'd-abc' } },
    { type: 'applied', interruptId: 't1-c1', resolution: { type: 'rejected', at, approver: 'bob', reason: 'no', via: 'update' } },
    { type: 'refused', interruptId: 't1-c1', reason: 'Already decided', errorType: 'DecisionConflict' },
  ];
  for (const outcome of outcomes) {
    const compact = JSON.parse(JSON.stringify(compactOutcome(outcome)));
    expect(compact).not.toHaveProperty('interruptId');
    expect(JSON.stringify(compact)).not.toMatch(/d-abc|argsDigest/);
    expect(expandOutcome(compact, 't1-c1', 'd-abc')).toEqual(outcome);
  }
  // A full outcome (a worker that does not know the form) passes through.
  expect(expandOutcome(outcomes[0], 'other', 'other')).toBe(outcomes[0]);
  // Form 3 (reply form 4) also leaves out what the decision gives: applied, the resolution's type, the approver.
  const decisions = [
    { interruptId: 't1-c1', action: 'accept', approver: 'alice' },
    { interruptId: 't1-c1', action: 'edit', approver: 'bob', args: { to: 'carol' } },
    { interruptId: 't1-c1', action: 'reject', approver: 'bob', reason: 'no' },
    { interruptId: 't1-c1', action: 'accept', approver: 'alice' },
  ];
  for (const [index, outcome] of outcomes.entries()) {
    const compact = JSON.parse(JSON.stringify(compactOutcome(outcome, REPLY_FORM, decisions[index])));
    expect(compact.form).toBe(3);
    expect(expandOutcome(compact, 't1-c1', 'd-abc', decisions[index] as never)).toEqual(outcome);
    if (outcome.type === 'applied') expect(() => expandOutcome(compact, 't1-c1', 'd-abc')).toThrow(expect.objectContaining({ type: 'WireDataInvalid' }));
  }
  expect(compactOutcome(outcomes[0], REPLY_FORM, decisions[0])).toEqual({ form: 3, resolution: { at } });
  // A decision whose approver is not the resolution's keeps it.
  expect(expandOutcome(JSON.parse(JSON.stringify(compactOutcome(outcomes[0], REPLY_FORM, { ...decisions[0], approver: 'eve' }))), 't1-c1', 'd-abc', { ...decisions[0], approver: 'eve' } as never)).toEqual(outcomes[0]);
});
