/**
 * A local model turn's marker says nothing twice: a call's arguments that are the message's own,
 * and a policy that is the settings' in the same result, are left out and come back exactly.
 */
import fc from 'fast-check';
import { echoesInFull, echoesOf, withCallsInFull, withoutRepeatedCallParts } from '../../src/core';
import type { CallModelResult, ChatMessage, CheckedToolCall } from '../../src/core';

const settings = {
  name: 'a',
  tools: ['delete_file', 'lookup', 'pay'],
  interrupts: { delete_file: { allowAuto: false, note: 'Deleting needs a person' }, pay: { allowAuto: false } },
};
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value));

function resultOf(calls: Array<{ name: string; text: string; args: unknown; policy: unknown }>, withSpec: boolean): CallModelResult {
  return {
    message: { role: 'assistant', content: '', toolCalls: calls.map((call, index) => ({ id: `c${index}`, name: call.name, arguments: call.text })) },
    toolCalls: calls.map((call, index) => ({ id: `c${index}`, name: call.name, status: 'valid', args: call.args, policy: call.policy }) as CheckedToolCall),
    ...(withSpec && { spec: settings as never }),
  };
}

test("a first turn's calls leave out their arguments and policies, and the list of them, and get all back", () => {
  const result = resultOf([{ name: 'delete_file', text: '{ "path": "x", "force": true }', args: { force: true, path: 'x' }, policy: settings.interrupts.delete_file }, { name: 'lookup', text: '{"q":"a"}', args: { q: 'a' }, policy: null }], true);
  const lean = wire(withoutRepeatedCallParts(result));
  // Each call is then just the message's, valid: the list itself is left out.
  expect(lean).not.toHaveProperty('toolCalls');
  expect(withCallsInFull(lean)).toEqual(result);
});

test('arguments the check changed, a policy a rule chose, and a turn without settings keep theirs', () => {
  const ruled = { allowAuto: true, note: 'small amounts run' };
  const result = resultOf([{ name: 'pay', text: '{"amount":"5"}', args: { amount: 5 }, policy: ruled }, { name: 'delete_file', text: 'not json', args: {}, policy: settings.interrupts.delete_file }], true);
  expect(wire(withoutRepeatedCallParts(result)).toolCalls).toEqual(wire(result.toolCalls.map((call, index) => (index === 1 ? { ...call, policy: undefined } : call))));
  const later = resultOf([{ name: 'delete_file', text: '{"path":"x"}', args: { path: 'x' }, policy: settings.interrupts.delete_file }], false);
  expect(wire(withoutRepeatedCallParts(later)).toolCalls).toEqual([{ id: 'c0', name: 'delete_file', status: 'valid', policy: settings.interrupts.delete_file }]);
  expect(withCallsInFull(wire(withoutRepeatedCallParts(later)))).toEqual(later);
});

test('a reply without calls records no list of them', () => {
  const answer: CallModelResult = { message: { role: 'assistant', content: 'Done.' }, toolCalls: [] };
  expect(withoutRepeatedCallParts(answer)).toEqual({ message: answer.message });
  expect(withCallsInFull(wire(withoutRepeatedCallParts(answer)))).toEqual(answer);
});

test('results recorded whole, and calls that failed their check, pass through unchanged', () => {
  const invalid: CallModelResult = { message: { role: 'assistant', content: '', toolCalls: [{ id: 'c0', name: 'nope', arguments: '{}' }] }, toolCalls: [{ id: 'c0', name: 'nope', status: 'invalid', error: 'unknown tool', errorType: 'ToolNotFound' }] };
  expect(withCallsInFull(invalid)).toBe(invalid);
  expect(withoutRepeatedCallParts(invalid)).toEqual(invalid);
  const whole = resultOf([{ name: 'delete_file', text: '{"path":"x"}', args: { path: 'x' }, policy: null }], false);
  expect(withCallsInFull(whole)).toBe(whole);
});

test('round trip over generated calls', () => {
  const json = fc.jsonValue({ maxDepth: 2 });
  const call = fc.record({
    name: fc.constantFrom('delete_file', 'lookup', 'pay', 'other'),
    args: json,
    same: fc.boolean(),
    policy: fc.option(fc.oneof(fc.constant(settings.interrupts.delete_file), fc.record({ allowAuto: fc.boolean() })), { nil: null }),
  });
  fc.assert(
    fc.property(fc.array(call, { maxLength: 4 }), fc.boolean(), (calls, withSpec) => {
      const result = resultOf(
        calls.map(({ name, args, same, policy }) => ({ name, args, policy, text: same ? JSON.stringify(args) : `${JSON.stringify(args)} x` })),
        withSpec,
      );
      expect(withCallsInFull(wire(withoutRepeatedCallParts(result)))).toEqual(wire(result));
    }),
  );
});

test('a call with options it runs under, or a review, keeps the list', () => {
  const result = resultOf([{ name: 'lookup', text: '{"q":"a"}', args: { q: 'a' }, policy: null }], true);
  expect(withoutRepeatedCallParts({ ...result, toolCalls: [{ ...result.toolCalls[0], runOptions: undefined } as CheckedToolCall] })).not.toHaveProperty('toolCalls');
  const timed = { ...result, toolCalls: [{ ...result.toolCalls[0], runOptions: { timeout: '1m' } } as CheckedToolCall] };
  expect(withCallsInFull(wire(withoutRepeatedCallParts(timed)))).toEqual(timed);
  expect(wire(withoutRepeatedCallParts(timed)).toolCalls).toEqual([{ id: 'c0', name: 'lookup', status: 'valid', runOptions: { timeout: '1m' } }]);
});

describe("a local turn's echo of the conversation", () => {
  /** A conversation: a question, the model's calls, their results (in the model's order or not, under their call's tool name or not). */
  const conversation = fc
    .record({ calls: fc.integer({ min: 1, max: 3 }), order: fc.array(fc.nat(), { maxLength: 3 }), renamed: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), text: fc.constantFrom('', 'on it') })
    .map(({ calls, order, renamed, text }): ChatMessage[] => {
      const ids = Array.from({ length: calls }, (_, index) => `c${index}`);
      const answered = [...new Set([...order.map((n) => ids[n % calls]), ...ids])];
      return [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: text, toolCalls: ids.map((id) => ({ id, name: `tool_${id}`, arguments: '{}' })) },
        ...answered.map((id, index): ChatMessage => ({ role: 'tool', toolCallId: id, name: renamed[index] ? 'another' : `tool_${id}`, content: `result of ${id}` })),
      ];
    });

  test('leaves out recorded tool results and, in version 6, the call each answers in order; both come back exactly', () => {
    fc.assert(
      fc.property(conversation, fc.nat(), fc.boolean(), (messages, cut, bare) => {
        const from = cut % messages.length;
        const recorded = new Set(messages.flatMap((message, index) => (message.role === 'tool' ? [index] : [])));
        const outputs = new Map(messages.flatMap((message) => (message.role === 'tool' ? [[message.toolCallId, message.content] as [string, string]] : [])));
        const echoed = wire(echoesOf(messages, from, recorded, bare));
        expect(JSON.stringify(echoed)).not.toMatch(/result of/);
        expect(echoesInFull(messages.slice(0, from), echoed, outputs)).toEqual(messages.slice(from));
      }),
    );
  });

  test('a tool result that answers the first open call under its tool is echoed as its role alone', () => {
    const messages: ChatMessage[] = [
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'delete_file', arguments: '{}' }, { id: 'c2', name: 'send_email', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c2', name: 'send_email', content: 'sent' },
      { role: 'tool', toolCallId: 'c1', name: 'delete_file', content: 'deleted' },
    ];
    // c2 answers out of order: it names its call; then c1 is the first still open.
    expect(echoesOf(messages, 1, new Set([1, 2]), true)).toEqual([{ role: 'tool', toolCallId: 'c2', name: 'send_email' }, { role: 'tool' }]);
    // Version 4 and 5 threads (and results not recorded elsewhere) keep the call.
    expect(echoesOf(messages, 1, new Set([1, 2]), false)).toEqual([{ role: 'tool', toolCallId: 'c2', name: 'send_email' }, { role: 'tool', toolCallId: 'c1', name: 'delete_file' }]);
    expect(echoesOf(messages, 1, new Set([1]), true)[1]).toEqual(messages[2]);
  });
});
