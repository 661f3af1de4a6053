import fc from 'fast-check';
import type { ChatMessage } from '../../src/core';
import { CARRIED_CONVERSATION_BYTES, carriedConversation, shortenedToFit } from '../../src/workflows/carried-conversation';

const bytes = (messages: ChatMessage[]) => messages.reduce((sum, message) => sum + Buffer.byteLength(JSON.stringify(message)), 0);

/** One exchange: a user message, tool calls with their results, an answer. */
function exchange(n: number, resultChars: number, char = 'x'): ChatMessage[] {
  return [
    { role: 'user', content: `question ${n}` },
    { role: 'assistant', content: '', toolCalls: [{ id: `c${n}`, name: 'lookup', arguments: '{}' }] },
    { role: 'tool', toolCallId: `c${n}`, name: 'lookup', content: char.repeat(resultChars) },
    { role: 'assistant', content: `answer ${n}` },
  ];
}

test('a conversation within the budget is carried whole', () => {
  const messages = [...exchange(1, 1_000), ...exchange(2, 1_000)];
  expect(carriedConversation(messages)).toEqual({ messages, dropped: 0, shortened: false });
});

test('over the budget, the most recent exchanges are carried whole, from a user message on, within the budget in UTF-8 bytes', () => {
  // Ten exchanges of 150,000 three-byte characters: 4.5 MB, 1.5 M characters.
  const messages = Array.from({ length: 10 }, (_, n) => exchange(n, 150_000, '中')).flat();
  const carried = carriedConversation(messages);
  expect(carried.shortened).toBe(false);
  expect(carried.dropped).toBe(32);
  expect(carried.messages).toEqual(messages.slice(32));
  expect(carried.messages[0]).toEqual({ role: 'user', content: 'question 8' });
  expect(bytes(carried.messages)).toBeLessThanOrEqual(CARRIED_CONVERSATION_BYTES);
  expect(bytes(messages.slice(28))).toBeGreaterThan(CARRIED_CONVERSATION_BYTES);
});

test('a last exchange over the budget by itself is carried with its longest texts shortened, saying how much was left out', () => {
  const last: ChatMessage[] = [
    { role: 'user', content: 'read both files' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'read', arguments: '{}' }, { id: 'b', name: 'read', arguments: '{}' }] },
    { role: 'tool', toolCallId: 'a', name: 'read', content: '中'.repeat(200_000) },
    { role: 'tool', toolCallId: 'b', name: 'read', content: 'é'.repeat(200_000) },
    { role: 'assistant', content: 'Both read.' },
  ];
  const messages = [...exchange(1, 10), ...last];
  const carried = carriedConversation(messages);
  expect(carried).toMatchObject({ dropped: 4, shortened: true });
  expect(bytes(carried.messages)).toBeLessThanOrEqual(CARRIED_CONVERSATION_BYTES);
  // Only the largest text had to be shortened; the rest is as it was, and the input is untouched.
  expect(carried.messages[2].content).toBe(`${'中'.repeat(2_000)}\n[198000 more characters were not carried into this run of the thread]`);
  expect(carried.messages.filter((_, index) => index !== 2)).toEqual(last.filter((_, index) => index !== 2));
  expect(messages[6].content).toHaveLength(200_000);
});

test('whatever the conversation, what is carried starts with a user message and never separates a tool result from its call', () => {
  const message = fc.oneof(
    fc.record({ role: fc.constant('user' as const), content: fc.string({ maxLength: 40 }) }),
    fc.record({ role: fc.constant('assistant' as const), content: fc.string({ maxLength: 40 }) }),
  );
  // A thread's conversation starts with a user message.
  const conversation = fc.array(fc.tuple(message, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 400 })), { minLength: 1, maxLength: 30 }).map((parts) =>
    parts.flatMap(([first, calls, size], n): ChatMessage[] => {
      if (n === 0) return [{ role: 'user', content: first.content }];
      if (calls === 0 || first.role === 'user') return [first];
      const ids = Array.from({ length: calls }, (_, k) => `c${n}-${k}`);
      return [{ role: 'assistant', content: '', toolCalls: ids.map((id) => ({ id, name: 't', arguments: '{}' })) }, ...ids.map((id): ChatMessage => ({ role: 'tool', toolCallId: id, name: 't', content: 'r'.repeat(size) }))];
    }),
  );
  fc.assert(
    fc.property(conversation, fc.integer({ min: 200, max: 4_000 }), (messages, budget) => {
      const carried = carriedConversation(messages, budget);
      if (carried.dropped === 0 && !carried.shortened) return expect(carried.messages).toEqual(messages);
      expect(carried.messages[0]?.role ?? 'user').toBe('user');
      const called = new Set(carried.messages.flatMap((m) => (m.role === 'assistant' ? (m.toolCalls ?? []).map((call) => call.id) : [])));
      for (const m of carried.messages) if (m.role === 'tool') expect(called.has(m.toolCallId)).toBe(true);
      if (!carried.shortened) expect(carried.messages).toEqual(messages.slice(carried.dropped));
    }),
    { numRuns: 500 },
  );
});

test('a reply over its size shortens only the texts it may, longest first, and leaves the rest as they were', () => {
  const messages = [...exchange(1, 300_000, 'é'), ...exchange(2, 200_000, '中'), ...exchange(3, 100_000)];
  const fit = shortenedToFit(messages, 1_000_000, (message) => message.role === 'tool', 'left out');
  expect(fit.shortened).toBe(true);
  // 600 KB + 600 KB + 100 KB: shortening the first (longest in characters) is enough.
  expect(fit.messages[2].content).toBe(`${'é'.repeat(2_000)}\n[298000 more characters left out]`);
  expect(fit.messages.filter((_, index) => index !== 2)).toEqual(messages.filter((_, index) => index !== 2));
  expect(bytes(fit.messages)).toBeLessThanOrEqual(1_000_000);
  const small = exchange(4, 10);
  expect(shortenedToFit(small, 1_000_000, () => true, 'x')).toEqual({ messages: small, shortened: false });
  // Nothing it may shorten: as close as it gets, unchanged.
  expect(shortenedToFit(messages, 1_000, (message) => message.role === 'user', 'x')).toEqual({ messages, shortened: false });
});
