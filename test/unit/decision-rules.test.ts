/** The pure rules behind decisions, without a server: canonical JSON, digests, signatures, door checks, grants, the interrupt book. */
import { z } from 'zod';
import { defineAgent } from '../../src/agents';
import { defineTool } from '../../src/tools';
import { CARRIED_EXCHANGE_LIMITS, GRANT_LIMITS, argsDigest, callDigest, canonicalJson, checkDecisionSignature, checkGrantShape, checkGrantTtl, grantMatches, grantTtlMs, parseDecision, parseThreadInput, safeDecisionParts, signDecision, signedFieldsOf, toWellFormedText, isWellFormedText } from '../../src/core';
import fc from 'fast-check';
import { createSigningKey } from '../../src/client/signing-keys';
import { InterruptBook } from '../../src/workflows/interrupt-book';

const alice = createSigningKey({ keyId: 'alice-1', owner: 'alice', kind: 'approver' });
const service = createSigningKey({ keyId: 'svc', owner: 'inbox', kind: 'service' });
const keys = [alice.trustedKey, service.trustedKey];

test('canonical JSON and digests ignore key order, not values', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  expect(argsDigest({ to: 'a@b.co', body: 'x' })).toBe(argsDigest({ body: 'x', to: 'a@b.co' }));
  expect(argsDigest({ to: 'a@b.co' })).not.toBe(argsDigest({ to: 'a@b.com' }));
  expect(argsDigest({})).toMatch(/^[0-9a-f]{64}$/);
  // "__proto__" as data is kept as a key, not turned into a prototype.
  expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":1}'))).toBe('{"__proto__":{"x":1},"a":1}');
});

test('a signature holds only for the exact thread, interrupt, action, approver, reason and arguments', () => {
  const fields = { threadId: 't1', interruptId: 't1-c1', action: 'accept', approver: 'alice', argsDigest: argsDigest({ path: 'a' }), reason: 'ok' };
  const signature = signDecision(fields, alice.signingKey);
  expect(checkDecisionSignature(fields, signature, keys)).toMatchObject({ ok: true, key: { keyId: 'alice-1' } });
  for (const change of [{ threadId: 't2' }, { interruptId: 't1-c2' }, { action: 'reject' }, { reason: 'ok!' }, { argsDigest: argsDigest({ path: 'b' }) }]) {
    expect(checkDecisionSignature({ ...fields, ...change }, signature, keys)).toMatchObject({ ok: false });
  }
  // An approver key signs for its owner only; a service key for anyone it authenticated.
  expect(checkDecisionSignature({ ...fields, approver: 'bob' }, signDecision({ ...fields, approver: 'bob' }, alice.signingKey), keys)).toMatchObject({ ok: false, reason: expect.stringMatching(/another approver/) });
  expect(checkDecisionSignature({ ...fields, approver: 'bob' }, signDecision({ ...fields, approver: 'bob' }, service.signingKey), keys)).toMatchObject({ ok: true });
  expect(checkDecisionSignature(fields, { keyId: 'nobody', signature: signature.signature }, keys)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not trust/) });
});

test('decisions are checked field by field, and refusals never repeat the input', () => {
  const good = { interruptId: 't1-c1', action: 'accept', approver: 'alice' };
  expect(parseDecision(good)).toEqual({ ok: true, decision: good });
  const hostile = '\u001b[2J\udfff';
  const cases: unknown[] = [
    null,
    [],
    'accept',
    { ...good, interruptId: hostile },
    { ...good, approver: 'al\u202eice' },
    { ...good, approver: ' ' },
    { ...good, action: 'maybe' },
    { ...good, reason: 'x'.repeat(5_000) },
    { ...good, reason: 'ok\ud800' },
    { ...good, argsDigest: 'abc' },
    { ...good, signature: { keyId: 'k', signature: 'not base64!' } },
    { ...good, [hostile]: 1 },
    JSON.parse('{"interruptId":"t1-c1","action":"accept","approver":"alice","__proto__":{"x":1}}'),
  ];
  for (const value of cases) {
    const parsed = parseDecision(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).not.toContain('\u001b');
      expect(isWellFormedText(parsed.reason)).toBe(true);
    }
  }
  expect(safeDecisionParts({ interruptId: hostile, action: 'accept', approver: 'bob', reason: 'ok\ud800' })).toEqual({ action: 'accept', approver: 'bob' });
  expect(toWellFormedText('a\udfffb\ud83d\ude00')).toBe('a\ufffdb\ud83d\ude00');
});

test('a thread input names an agent; specs, unknown versions and malformed conversations are refused', () => {
  expect(parseThreadInput({ version: 2, agent: 'assistant' })).toEqual({ ok: true, input: { version: 2, agent: 'assistant' } });
  expect(parseThreadInput({ version: 1, agent: 'assistant', carried: { spec: { interrupts: {} }, messages: [], turn: 3, inbox: ['hi'] } })).toEqual({
    ok: true,
    input: { version: 2, agent: 'assistant', carried: { messages: [], turn: 3, inbox: ['hi'] } },
  });
  expect(parseThreadInput({ version: 2, agent: { name: 'assistant', interrupts: {} } })).toMatchObject({ ok: false, reason: expect.stringMatching(/come from the worker/) });
  expect(parseThreadInput({ version: 3, agent: 'assistant' })).toEqual({ ok: true, input: { version: 3, agent: 'assistant' } });
  expect(parseThreadInput({ version: 4, agent: 'assistant' })).toEqual({ ok: true, input: { version: 4, agent: 'assistant' } });
  expect(parseThreadInput({ version: 5, agent: 'assistant' })).toEqual({ ok: true, input: { version: 5, agent: 'assistant' } });
  expect(parseThreadInput({ version: 6, agent: 'assistant' })).toEqual({ ok: true, input: { version: 6, agent: 'assistant' } });
  expect(parseThreadInput({ version: 7, agent: 'assistant' })).toMatchObject({ ok: false, reason: expect.stringMatching(/versions 1 to 6; .* version 7 by a newer release/) });
  // A version that is not a whole number is malformed, not a newer release's (nor one this worker reads).
  for (const version of [5.5, 6.5, 7.5, 1e400, Number.MAX_VALUE]) {
    expect(parseThreadInput({ version, agent: 'assistant' })).toMatchObject({ ok: false, reason: expect.stringMatching(/^The thread input must be \{ version: 6/) });
  }
  expect(parseThreadInput({ version: 2, agent: 'a b' })).toMatchObject({ ok: false });
  expect(parseThreadInput({ version: 2, agent: 'a', carried: { messages: [{ role: 'system', content: 'x' }], turn: 0, inbox: [] } })).toMatchObject({ ok: false });
  expect(parseThreadInput({ version: 2, agent: 'a', carried: { messages: [], turn: 0, inbox: ['\udfff'] } })).toMatchObject({ ok: false });
});

test('a carried last exchange is kept when well formed and refused when not', () => {
  const messages = [{ role: 'user', content: 'delete a' }, { role: 'assistant', content: 'done' }];
  const decided = { id: 't1-c1', toolName: 'delete_file', toolCallId: 'c1', turn: 1, toolArgs: { path: 'a' }, resolution: { type: 'accepted', approver: 'alice', at: '2026-12-01T00:00:00.000Z' } };
  const carried = (lastExchange: unknown) => ({ version: 4, agent: 'a', carried: { messages, turn: 2, inbox: [], lastExchange } });
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: [decided] }))).toEqual({
    ok: true,
    input: { version: 4, agent: 'a', carried: { messages, turn: 2, inbox: [], lastExchange: { start: 0, turn: 0, interrupts: [decided] } } },
  });
  const refused = { ok: false, reason: 'The carried exchange is not well formed' };
  expect(parseThreadInput(carried({ start: 3, turn: 0, interrupts: [] }))).toEqual(refused); // past the conversation
  expect(parseThreadInput(carried({ start: 0, turn: 3, interrupts: [] }))).toEqual(refused); // later than the carried turn
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: [{ ...decided, resolution: undefined }] }))).toEqual(refused); // not decided
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: [{ ...decided, toolName: 'x\udfff' }] }))).toEqual(refused);
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: Array(257).fill(decided) }))).toEqual(refused);
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: [], spec: {} }))).toEqual(refused);
  expect(parseThreadInput(carried('0'))).toEqual(refused);
  // Arguments as deep as a tool call may have (64) still pass inside an edit's record; past the size budget, not.
  let deep: unknown = 'x';
  for (let i = 0; i < 63; i++) deep = { d: deep };
  const edited = { ...decided, toolArgs: deep, originalArgs: deep, edits: [{ by: 'bob', at: decided.resolution.at, args: deep }] };
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: [edited] }))).toMatchObject({ ok: true });
  expect(parseThreadInput(carried({ start: 0, turn: 0, interrupts: [{ ...decided, toolArgs: { text: 'x'.repeat(CARRIED_EXCHANGE_LIMITS.chars) } }] }))).toEqual(refused);
});

describe('the interrupt book', () => {
  const policy = { allowAuto: false, approvers: ['alice', 'bob'], timeout: '1h', requireSignature: true };
  const open = () => {
    const book = new InterruptBook('t1', () => keys);
    const interrupt = book.open({ id: 'c1', name: 'delete_file' }, { path: 'a' }, policy, 1, Date.parse('2026-01-01T00:00:00Z'));
    return { book, interrupt };
  };
  const signed = (decision: { interruptId: string; action: string; approver: string; reason?: string }, args: unknown = { path: 'a' }) => {
    const digest = argsDigest(args);
    return { ...decision, action: decision.action as 'accept', argsDigest: digest, signature: signDecision({ ...decision, threadId: 't1', argsDigest: digest }, alice.signingKey) };
  };

  test('opens with a deterministic id, digest and deadline', () => {
    const { interrupt } = open();
    expect(interrupt).toMatchObject({ id: 't1-c1', argsDigest: argsDigest({ path: 'a' }), deadline: '2026-01-01T01:00:00.000Z' });
  });

  test('refuses what does not fit, in order, and applies a signed decision once', () => {
    const { book, interrupt } = open();
    expect(book.check({ interruptId: 'nope', action: 'accept', approver: 'alice' })).toMatchObject({ ok: false, errorType: 'InterruptNotFound' });
    expect(book.check({ interruptId: interrupt.id, action: 'accept', approver: 'carol' })).toMatchObject({ ok: false, errorType: 'DecisionNotAllowed' });
    expect(book.check({ interruptId: interrupt.id, action: 'accept', approver: 'alice' })).toMatchObject({ ok: false, errorType: 'DecisionSignatureRequired' });
    expect(book.check(signed({ interruptId: interrupt.id, action: 'accept', approver: 'alice' }, { path: 'b' }))).toMatchObject({ ok: false, errorType: 'DecisionArgumentsChanged' });
    const decision = signed({ interruptId: interrupt.id, action: 'accept', approver: 'alice' });
    expect(book.check({ ...decision, reason: 'edited' })).toMatchObject({ ok: false, errorType: 'DecisionSignatureInvalid' });
    const check = book.check(decision);
    expect(check).toMatchObject({ ok: true, signedBy: { keyId: 'alice-1', owner: 'alice' } });
    if (check.ok) book.apply(check, decision, { via: 'update', updateId: 'u1' }, Date.parse('2026-01-01T00:10:00Z'));
    expect(interrupt.resolution).toMatchObject({ type: 'accepted', approver: 'alice', via: 'update', updateId: 'u1', signature: decision.signature });
    expect(book.check(decision)).toMatchObject({ ok: false, errorType: 'InterruptAlreadyDecided' });
  });

  test('a timeout is dated by the deadline, whenever it is noticed', () => {
    const { book, interrupt } = open();
    book.expire(interrupt, Date.parse('2026-01-03T00:00:00Z'));
    expect(interrupt.resolution).toEqual({ type: 'timed-out', outcome: 'reject', at: '2026-01-01T01:00:00.000Z' });
    expect(book.check({ interruptId: interrupt.id, action: 'accept', approver: 'alice' })).toMatchObject({
      ok: false,
      errorType: 'InterruptTimedOut',
      reason: "Interrupt 't1-c1' timed out at 2026-01-01T01:00:00.000Z and was resolved as 'reject'",
    });
  });
});

describe('richer decisions at the door', () => {
  const base = { interruptId: 't1-c1', approver: 'alice' };
  test('edit needs args, respond needs a message, a grant goes with accept or edit only', () => {
    expect(parseDecision({ ...base, action: 'edit' })).toMatchObject({ ok: false, reason: expect.stringMatching(/args go with action 'edit'/) });
    expect(parseDecision({ ...base, action: 'accept', args: { a: 1 } })).toMatchObject({ ok: false });
    expect(parseDecision({ ...base, action: 'respond' })).toMatchObject({ ok: false, reason: expect.stringMatching(/message goes with action 'respond'/) });
    expect(parseDecision({ ...base, action: 'respond', message: '   ' })).toMatchObject({ ok: false });
    expect(parseDecision({ ...base, action: 'reject', grant: { match: { path: 'a/*' } } })).toMatchObject({ ok: false, reason: expect.stringMatching(/grant goes with/) });
    expect(parseDecision({ ...base, action: 'edit', args: [1] })).toMatchObject({ ok: false });
    expect(parseDecision({ ...base, action: 'edit', args: { path: 'x' }, grant: { match: { path: 'x/**' }, ttl: '30m' } })).toMatchObject({ ok: true });
    expect(parseDecision({ ...base, action: 'respond', message: 'use /tmp/archive' })).toMatchObject({ ok: true });
  });

  test('grant patterns: at least one, never only wildcards, no control characters', () => {
    expect(checkGrantShape({ match: {} })).toMatch(/1-16 patterns/);
    expect(checkGrantShape({ match: { path: '**' } })).toMatch(/more than wildcards/);
    expect(checkGrantShape({ match: { path: 'a\u0007' } })).toMatch(/control characters/);
    expect(checkGrantShape({ match: { 'a b': 'x' } })).toMatch(/argument names/);
    expect(checkGrantShape({ match: { path: 'x' }, ttl: 'soon' })).toMatch(/duration/);
    expect(checkGrantShape({ match: { path: 'scratch/**' }, ttl: '30m' })).toBeUndefined();
  });

  test("a grant's time to live is a positive duration (a zero one is malformed) of at most 3650 days", () => {
    const grant = (ttl: unknown) => ({ match: { path: 'x' }, ttl });
    for (const ttl of ['0s', '0ms', '000d', 0, -1, Number.NaN, Infinity, '', '1.5h', '1h30m']) expect([ttl, checkGrantShape(grant(ttl))]).toEqual([ttl, expect.stringMatching(/duration/)]);
    expect(grantTtlMs('15m')).toBe(900_000);
    expect(grantTtlMs(undefined)).toBeUndefined();
    expect(checkGrantTtl(grant('3650d'))).toBeUndefined();
    expect(checkGrantTtl(grant(GRANT_LIMITS.maxTtlMs))).toBeUndefined();
    for (const ttl of ['3651d', '87601h', '99999999999d', `${'9'.repeat(400)}d`, GRANT_LIMITS.maxTtlMs + 1, 1e300]) {
      expect([ttl, checkGrantShape(grant(ttl)), checkGrantTtl(grant(ttl))]).toEqual([ttl, undefined, expect.stringMatching(/at most 3650d/)]);
    }
    // A policy's cap is held to the same limit, since a grant without a time to live gets it.
    const tool = defineTool({ name: 'delete_file', description: 'Deletes', parameters: z.object({ path: z.string() }), execute: () => 'ok' });
    const agentWithCap = (maxTtl: string) => defineAgent({ name: 'a', instructions: 'x', tools: [tool], interrupts: { delete_file: { allowAuto: false, grants: { maxTtl } } } });
    expect(() => agentWithCap('3651d')).toThrow("Policy for 'delete_file': grants.maxTtl may be at most 3650d");
    expect(() => agentWithCap('99999999999d')).toThrow(/at most 3650d/);
    expect(agentWithCap('3650d').name).toBe('a');
    // The decide Update's own parse takes such a grant's shape (the limit is the thread's own rule, see agent-thread.ts).
    expect(parseDecision({ interruptId: 'i', action: 'accept', approver: 'a', grant: grant('0s') })).toMatchObject({ ok: false });
    expect(parseDecision({ interruptId: 'i', action: 'accept', approver: 'a', grant: grant('3651d') })).toMatchObject({ ok: true });
  });

  test('a grant matches string arguments only, `*` within a segment, `**` across, never a `..` segment', () => {
    expect(grantMatches({ match: { path: 'scratch/*' } }, { path: 'scratch/a.txt' })).toBe(true);
    expect(grantMatches({ match: { path: 'scratch/*' } }, { path: 'scratch/sub/a.txt' })).toBe(false);
    expect(grantMatches({ match: { path: 'scratch/**' } }, { path: 'scratch/sub/a.txt' })).toBe(true);
    expect(grantMatches({ match: { path: 'scratch/**' } }, { path: 'scratch/../etc/passwd' })).toBe(false);
    expect(grantMatches({ match: { path: 'scratch/**' } }, { path: 'scratch/./a' })).toBe(false);
    expect(grantMatches({ match: { to: '*@example.com' } }, { to: 'ops@example.com' })).toBe(true);
    expect(grantMatches({ match: { to: '*@example.com' } }, { to: 'ops@example.com.evil.org' })).toBe(false);
    expect(grantMatches({ match: { to: '*@example.com' } }, { to: ['ops@example.com'] })).toBe(false);
    expect(grantMatches({ match: { to: '*@example.com', cc: 'x' } }, { to: 'a@example.com' })).toBe(false);
    expect(grantMatches({ match: { n: '1.0' } }, { n: '1x0' })).toBe(false);
  });

  test('patterns match as the glob they read as: `*` any run without `/`, `**` any run, the rest literal', () => {
    // The oracle: the same language as a regular expression (backtracking, so small inputs only).
    const oracle = (pattern: string, value: string) => {
      const source = pattern.replace(/\*\*|\*|[\\^$.|?+()[\]{}]/g, (part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : `\\${part}`));
      return new RegExp(`^${source}$`, 's').test(value);
    };
    const chars = (alphabet: string[], maxLength: number) => fc.array(fc.constantFrom(...alphabet), { maxLength }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(chars(['a', 'b', '*', '/', '.', '\\', '\n', 'é'], 40), chars(['a', 'b', '/', '\\', '\n', 'é', 'x'], 60), (pattern, value) => {
        expect(grantMatches({ match: { p: pattern } }, { p: value })).toBe(oracle(pattern, value));
      }),
      { numRuns: 3000 },
    );
  });

  test('a pattern with many wildcards against a long value is answered, not backtracked for ever', () => {
    // Such a pattern and value take a backtracking regular expression minutes (`*a` 8 times, 60 characters: 40 s).
    const pattern = `${'*a'.repeat(16)}*b`;
    expect(grantMatches({ match: { p: pattern } }, { p: 'a'.repeat(64_000) })).toBe(false);
    expect(grantMatches({ match: { p: pattern } }, { p: `${'a'.repeat(64_000)}b` })).toBe(true);
    expect(grantMatches({ match: { p: pattern } }, { p: `${'a'.repeat(30_000)}/${'a'.repeat(30_000)}b` })).toBe(false);
    expect(grantMatches({ match: { p: `**${'*a'.repeat(16)}*b` } }, { p: `${'a'.repeat(30_000)}/${'a'.repeat(30_000)}b` })).toBe(true);
  });

  test('many distinct patterns each match as written', () => {
    const patterns = Array.from({ length: 600 }, (_, i) => `dir${i}/*`);
    for (const [i, pattern] of patterns.entries()) {
      expect(grantMatches({ match: { path: pattern } }, { path: `dir${i}/a.txt` })).toBe(true);
      expect(grantMatches({ match: { path: pattern } }, { path: `dir${i + 1}/a.txt` })).toBe(false);
    }
    expect(grantMatches({ match: { path: patterns[0] } }, { path: 'dir0/b.txt' })).toBe(true);
    expect(grantMatches({ match: { path: patterns[0] } }, { path: 'dir0/sub/b.txt' })).toBe(false);
    expect(grantMatches({ match: { path: patterns[599] } }, { path: 'dir599/b.txt' })).toBe(true);
  });

  test('the call digest changes with the arguments and with the policy, not with key order', () => {
    const policy = { allowAuto: false, note: 'n' };
    expect(callDigest('pay', { a: 1, b: 2 }, policy)).toBe(callDigest('pay', { b: 2, a: 1 }, { note: 'n', allowAuto: false }));
    expect(callDigest('pay', { a: 1, b: 3 }, policy)).not.toBe(callDigest('pay', { a: 1, b: 2 }, policy));
    expect(callDigest('pay', { a: 1, b: 2 }, { ...policy, approvers: ['finance'] })).not.toBe(callDigest('pay', { a: 1, b: 2 }, policy));
  });

  test("a signature covers an edit's arguments, a response's text and a grant; a plain accept signs as before", () => {
    const fields = { threadId: 't', interruptId: 'i', action: 'accept', approver: 'a', argsDigest: argsDigest({ x: 1 }) };
    expect(signedFieldsOf({ interruptId: 'i', action: 'accept', approver: 'a' }, 't', argsDigest({ x: 1 }))).toEqual(fields);
    const edit = signedFieldsOf({ interruptId: 'i', action: 'edit', approver: 'a', args: { x: 2 } }, 't', argsDigest({ x: 1 }));
    expect(edit.editedArgsDigest).toBe(argsDigest({ x: 2 }));
    expect(signedFieldsOf({ interruptId: 'i', action: 'accept', approver: 'a', grant: { match: { p: 'a/*' } } }, 't', 'd').grant).toEqual({ match: { p: 'a/*' } });
  });
});
