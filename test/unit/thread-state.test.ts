/** The thread's state and the message-numbering rules, without a server. */
import { CARRIED_EXCHANGE_LIMITS, argsDigest, parseThreadInput } from '../../src/core';
import { MessageQueue } from '../../src/workflows/message-queue';
import { AgentThreadState } from '../../src/workflows/thread-state';
import { rejectedText } from '../../src/workflows/model-text';

describe('the message queue', () => {
  test('answers in arrival order and gives each waiting sender its own answer', () => {
    const queue = new MessageQueue();
    const one = queue.receive('one', true);
    const two = queue.receive('two', true);
    const fire = queue.receive('signalled', false);
    expect([one, two, fire]).toEqual([1, 2, 3]);
    expect(queue.start()).toBe('one');
    expect([queue.isAnswering(one), queue.isAnswering(two)]).toEqual([true, false]);
    queue.finish('answer one');
    expect([queue.isAnswered(one), queue.isAnswered(two)]).toEqual([true, false]);
    expect(queue.start()).toBe('two');
    queue.finish('answer two');
    expect(queue.start()).toBe('signalled');
    queue.finish('answer three');
    expect(queue.takeAnswer(two)).toBe('answer two');
    expect(queue.takeAnswer(one)).toBe('answer one');
    // Taken once; a signalled message has no one waiting, so no answer is kept for it.
    expect(queue.takeAnswer(one)).toBe('');
    expect(queue.takeAnswer(fire)).toBe('');
  });

  test('carried messages come first and are numbered before new ones', () => {
    const queue = new MessageQueue(['carried a', 'carried b']);
    expect(queue.receive('new', true)).toBe(3);
    expect([queue.start(), queue.start()]).toEqual(['carried a', 'carried b']);
    expect(queue.waiting()).toEqual(['new']);
  });

  test('starting with nothing queued is a bug, not a silent no-op', () => {
    expect(() => new MessageQueue().start()).toThrow('No message is queued');
  });
});

describe('the thread state', () => {
  const spec = { name: 'a', instructions: '', tools: ['delete_file'], interrupts: { delete_file: { allowAuto: false } } };
  const fresh = () => {
    const thread = new AgentThreadState({ threadId: 't1', agentName: 'a' });
    thread.spec = spec;
    return thread;
  };

  test('a sender can be answered with its own interrupt while its message waits for a person, or with its own answer later', () => {
    const thread = fresh();
    const first = thread.queue.receive('delete x', true);
    const second = thread.queue.receive('hello', true);
    thread.startNextMessage();
    expect(thread.status()).toBe('running');
    expect(thread.canRespondTo(first)).toBe(false);
    const interrupt = thread.book.open({ id: 'c1', name: 'delete_file' }, { path: 'x' }, spec.interrupts.delete_file, 1, 0);
    expect(thread.status()).toBe('awaiting_approval');
    expect([thread.canRespondTo(first), thread.canRespondTo(second)]).toEqual([true, false]);
    expect(thread.snapshot().currentInterrupt?.id).toBe(interrupt.id);

    const { outcome, audit } = thread.decide({ interruptId: interrupt.id, action: 'reject', approver: 'bob', reason: 'no' }, { via: 'update', updateId: 'u1' }, 5);
    expect(outcome).toMatchObject({ type: 'applied', resolution: { type: 'rejected', approver: 'bob', via: 'update' } });
    expect(audit).toMatchObject([{ kind: 'interrupt-resolved', interruptId: interrupt.id }]);
    thread.messages.push({ role: 'tool', toolCallId: 'c1', name: 'delete_file', content: rejectedText('delete_file', 'bob', 'no') });
    thread.messages.push({ role: 'assistant', content: 'Not deleted.' });
    thread.finishMessage();
    expect(thread.canRespondTo(first)).toBe(true);
    expect(thread.responseTo(first).content).toBe('Not deleted.');
    expect(thread.status()).toBe('running'); // 'hello' is still queued
    expect(thread.canRespondTo(second)).toBe(false);
    // A sender answered with its interrupt does not get a later answer twice.
    expect(thread.responseTo(first).content).toBe('');
  });

  test('continue-as-new carries the last exchange: the next run answers awaitResponse the same; one too large to carry is left out', () => {
    const thread = fresh();
    thread.queue.receive('delete x', true);
    thread.startNextMessage();
    thread.turn = 1;
    const interrupt = thread.book.open({ id: 'c1', name: 'delete_file' }, { path: 'x' }, spec.interrupts.delete_file, 1, 0);
    thread.decide({ interruptId: interrupt.id, action: 'accept', approver: 'alice' }, { via: 'update', updateId: 'u1' }, 5);
    thread.messages.push({ role: 'tool', toolCallId: 'c1', name: 'delete_file', content: 'deleted x' });
    thread.messages.push({ role: 'assistant', content: 'Deleted.' });
    thread.turn = 2;
    thread.finishMessage();
    const before = thread.response();
    // What continue-as-new writes, read back as the next run's input.
    const input = JSON.parse(JSON.stringify({ version: 4, agent: 'a', carried: { messages: thread.messages, turn: thread.turn, inbox: [], lastExchange: thread.lastExchangeToCarry() } }));
    const parsed = parseThreadInput(input);
    if (!parsed.ok) throw new Error(parsed.reason);
    const next = new AgentThreadState({ threadId: 't1', agentName: 'a', ...parsed.input.carried });
    next.spec = spec;
    expect(next.response()).toEqual(before);
    expect(before.state.interrupts).toEqual([expect.objectContaining({ id: interrupt.id, resolution: expect.objectContaining({ type: 'accepted', approver: 'alice' }) })]);

    // Arguments past the carried exchange's budget: nothing is carried, and the next run still starts.
    const big = fresh();
    big.queue.receive('delete y', true);
    big.startNextMessage();
    big.turn = 1;
    const large = big.book.open({ id: 'c2', name: 'delete_file' }, { path: 'y'.repeat(CARRIED_EXCHANGE_LIMITS.chars) }, spec.interrupts.delete_file, 1, 0);
    big.decide({ interruptId: large.id, action: 'accept', approver: 'alice' }, { via: 'update', updateId: 'u2' }, 5);
    big.finishMessage();
    expect(big.lastExchangeToCarry()).toBeUndefined();
  });

  test('a refused decision is described without its raw input, and changes nothing', () => {
    const thread = fresh();
    const interrupt = thread.book.open({ id: 'c1', name: 'delete_file' }, { path: 'x' }, spec.interrupts.delete_file, 1, 0);
    const hostile = { interruptId: interrupt.id, action: 'accept', approver: '\u001b[2Jeve', argsDigest: argsDigest({ path: 'x' }) };
    const { outcome, audit } = thread.decide(hostile, { via: 'signal' }, 7);
    expect(outcome).toMatchObject({ type: 'refused', errorType: 'DecisionInvalid' });
    expect(audit).toEqual([{
      kind: 'decision-refused',
      decision: { interruptId: interrupt.id, action: 'accept', argsDigest: argsDigest({ path: 'x' }) },
      errorType: 'DecisionInvalid',
      reason: expect.not.stringContaining('\u001b'),
      at: new Date(7).toISOString(),
      via: 'signal',
    }]);
    expect(interrupt.resolution).toBeUndefined();
  });

  test('ending cancels what waits, refuses new messages, and releases senders whose message never started', () => {
    const thread = fresh();
    thread.queue.receive('first', true);
    thread.startNextMessage();
    thread.book.open({ id: 'c1', name: 'delete_file' }, {}, spec.interrupts.delete_file, 1, 0);
    const queued = thread.queue.receive('second', true);
    const events = thread.end(9);
    expect(events).toEqual([expect.objectContaining({ kind: 'interrupt-resolved', resolution: expect.objectContaining({ type: 'cancelled', reason: 'the thread was ended' }) })]);
    expect(thread.refuseMessage('more')).toMatchObject({ type: 'ThreadEnded' });
    expect(thread.canRespondTo(queued)).toBe(true);
    expect(thread.responseTo(queued).content).toBe('');
  });

  test("a continued run without the agent's settings lets only the granter revoke a carried grant", () => {
    const grant = { id: 'g-t1-c1', toolName: 'delete_file', match: { path: '*' }, interruptId: 't1-c1', grantedBy: 'alice', decision: { interruptId: 't1-c1', action: 'accept' as const, approver: 'alice' }, decidedOnDigest: 'd', createdAt: '2026-01-01T00:00:00.000Z', uses: 0 };
    const thread = new AgentThreadState({ threadId: 't1', agentName: 'a', lean: true, localModelTurns: true, grants: [grant] });
    expect(thread.revokeGrant({ grantId: grant.id, by: 'mallory' }, 1).outcome).toMatchObject({ type: 'refused', errorType: 'DecisionNotAllowed', reason: expect.stringMatching(/only the granter/) });
    expect(thread.revokeGrant({ grantId: grant.id, by: 'alice' }, 2).outcome).toMatchObject({ type: 'revoked' });
    // A run recorded before the rule replays as it ran.
    const older = new AgentThreadState({ threadId: 't1', agentName: 'a', lean: true, localModelTurns: true, grants: [{ ...grant }] });
    expect(older.revokeGrant({ grantId: grant.id, by: 'mallory' }, 1, false).outcome).toMatchObject({ type: 'revoked' });
  });

  test('messages are refused when empty, too long or malformed', () => {
    const thread = fresh();
    expect(thread.refuseMessage('  ')).toMatchObject({ type: 'MessageInvalid' });
    expect(thread.refuseMessage(42)).toMatchObject({ type: 'MessageInvalid' });
    expect(thread.refuseMessage('x'.repeat(40_000))).toMatchObject({ type: 'MessageInvalid', message: expect.stringMatching(/at most/) });
    expect(thread.refuseMessage('hi \udfff')).toMatchObject({ type: 'MessageInvalid', message: expect.stringMatching(/valid Unicode/) });
    expect(thread.refuseMessage('hello')).toBeUndefined();
  });
});
