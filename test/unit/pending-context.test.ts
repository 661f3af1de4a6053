/** What the pending summary says about why a call exists: the user's message and the agent's words, cut well-formed. */
import { capText, describeCallContext, CONTEXT_TEXT_CHARS } from '../../src/core/pending-summary';
import { COMPACT_PENDING_VERSION, compactPending, interruptOfPending, isWellFormedText, summarizePending, type ChatMessage, type HitlPolicy } from '../../src/core';
import { AgentThreadState } from '../../src/workflows/thread-state';
import { readPendingMemo } from '../../src/core/wire-schemas';

const call = (id: string) => ({ id, name: 'delete_file', arguments: '{"path":"a.txt"}' });

test('the context of a call is the latest user message before it and the text of the turn that made it', () => {
  const messages: ChatMessage[] = [
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: 'Hi.' },
    { role: 'user', content: 'delete a.txt\nplease' },
    { role: 'assistant', content: '  I will delete it now.  ', toolCalls: [call('c1'), call('c2')] },
  ];
  expect(describeCallContext(messages, 'c2')).toEqual({ userMessage: 'delete a.txt\nplease', agentText: 'I will delete it now.' });
  expect(describeCallContext(messages, 'missing')).toBeUndefined();
});

test('a turn without text has no agentText', () => {
  const messages: ChatMessage[] = [{ role: 'user', content: 'go' }, { role: 'assistant', content: '', toolCalls: [call('c1')] }];
  expect(describeCallContext(messages, 'c1')).toEqual({ userMessage: 'go' });
});

test('long texts are cut at the limit with a marker, never inside a surrogate pair', () => {
  const long = 'x'.repeat(CONTEXT_TEXT_CHARS - 2) + '😀'.repeat(10);
  const cut = capText(long);
  expect(cut.length).toBeLessThanOrEqual(CONTEXT_TEXT_CHARS);
  expect(cut.endsWith('…')).toBe(true);
  expect(isWellFormedText(cut)).toBe(true);
  expect(capText('short')).toBe('short');
});

test('a pending memo with context and confirm reads back; one without them still does', () => {
  const summary = { id: 't1-c1', toolName: 'delete_file', args: { path: 'a' }, createdAt: '2026-11-30T00:00:00.000Z' };
  const read = readPendingMemo({ version: 2, interrupts: [{ ...summary, confirm: true, context: { userMessage: 'delete a' } }] });
  expect(read[0]).toMatchObject({ confirm: true, context: { userMessage: 'delete a' } });
  expect(readPendingMemo({ version: 2, interrupts: [summary] })[0].context).toBeUndefined();
});

test("the pending memo's third form reads back as the second form's summary: plain, timed, ruled, edited and escalated calls", () => {
  const thread = new AgentThreadState({ threadId: 'thread-1', agentName: 'a', lean: true });
  const messages: ChatMessage[] = [
    { role: 'user', content: 'clean up' },
    { role: 'assistant', content: 'On it.', toolCalls: [call('c1'), call('c2'), call('c3')] },
  ];
  thread.book.open({ id: 'c1', name: 'delete_file' }, { path: 'a.txt' }, { allowAuto: false, note: 'irreversible', timeout: '1h', onTimeout: 'reject' }, 1, 0);
  thread.book.open({ id: 'c2', name: 'pay' }, { amount: 50 }, { allowAuto: false, conditional: true, approvers: ['finance'], allowedDecisions: ['accept', 'reject'], requireSignature: true } as HitlPolicy, 1, 0, '50 is over 10');
  thread.book.open({ id: 'c3', name: 'send_email' }, { to: 'bob' }, { allowAuto: false, grants: { allow: true } } as HitlPolicy, 1, 0);
  const decision = { interruptId: 't1-c3', action: 'edit' as const, approver: 'bob', args: { to: 'carol' } };
  const check = thread.book.check(decision);
  if (!check.ok) throw new Error(check.reason);
  thread.book.applyEdit(check, decision, { policy: { allowAuto: false, note: 'Mail to carol needs Dana', approvers: ['dana'], confirm: true } } as never, { via: 'update' }, 6);
  const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value));
  const pending = thread.book.pending();
  expect(pending).toHaveLength(3);
  const written = wire({ version: COMPACT_PENDING_VERSION, interrupts: pending.map((interrupt, index) => compactPending(interrupt, messages, index === 0)) });
  expect(JSON.stringify(written)).not.toMatch(/Digest|approvers":\["dana"\],"requireSignature/);
  expect(readPendingMemo(written)).toEqual(wire(pending.map((interrupt) => summarizePending(interrupt, messages))));
  expect(written.interrupts.map((summary) => summary.opened)).toEqual([1, undefined, undefined]);
  expect(interruptOfPending(written.interrupts[0])).toEqual(wire(pending[0]));
});
