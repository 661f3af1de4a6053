/** What the pending summary says about why a call exists: the user's message and the agent's words, cut well-formed. */
import { capText, describeCallContext, CONTEXT_TEXT_CHARS } from '../../src/core/pending-summary';
import { isWellFormedText, type ChatMessage } from '../../src/core';
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
