/**
 * A local model turn's marker says nothing twice: a call's arguments that are the message's own,
 * and a policy that is the settings' in the same result, are left out and come back exactly.
 */
import fc from 'fast-check';
import { withCallsInFull, withoutRepeatedCallParts } from '../../src/core';
import type { CallModelResult, CheckedToolCall } from '../../src/core';

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
