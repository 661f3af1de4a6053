/**
 * Versioned wire data: samples of what every release wrote (kept as fixtures, bad ones too) are
 * read by today's readers; data from a newer release gives a clear error, not a crash.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readAuditEvent, readPendingMemo } from '../../src/core/wire-schemas';
import { argsDigest, callDigest, type HitlPolicy } from '../../src/core';

const DIR = path.join(__dirname, '../fixtures/wire');
const sample = (name: string): unknown => JSON.parse(readFileSync(path.join(DIR, name), 'utf8'));

test.each(['audit-events-release-1.json', 'audit-events-unversioned-signed.json', 'audit-events-v2.json'])('the audit events in %s are read', (file) => {
  const events = sample(file) as unknown[];
  expect(events.length).toBeGreaterThan(5);
  const read = events.map(readAuditEvent);
  expect(read.map((event) => event.kind)).toContain('interrupt-opened');
  expect(read.map((event) => event.kind)).toContain('decision-refused');
});

test.each(['pending-memo-release-1.json', 'pending-memo-unversioned.json', 'pending-memo-v2.json', 'pending-memo-v3.json'])('the pending memo in %s is read', (file) => {
  const summaries = readPendingMemo(sample(file));
  expect(summaries.length).toBeGreaterThan(0);
  expect(summaries[0]).toMatchObject({ id: expect.any(String), toolName: expect.any(String), createdAt: expect.any(String) });
});

test('the first release kept shortened arguments; this one keeps them in full with their digest', () => {
  expect(readPendingMemo(sample('pending-memo-release-1.json'))[0]).toMatchObject({ argsPreview: expect.any(String) });
  expect(readPendingMemo(sample('pending-memo-v2.json'))[0]).toMatchObject({ args: expect.anything(), argsDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
});

test("the third form (input version 6) holds the policy: the note, flags and digests are worked out from it", () => {
  const [edited, ruled] = readPendingMemo(sample('pending-memo-v3.json'));
  expect(edited).toEqual({
    id: 't1-c2',
    toolName: 'pay',
    args: { amount: 5000, to: 'b' },
    argsDigest: argsDigest({ amount: 5000, to: 'b' }),
    callDigest: callDigest('pay', { amount: 5000, to: 'b' }, { allowAuto: false, note: 'money', conditional: true, approvers: ['finance'] } as HitlPolicy),
    policyNote: 'money',
    approvers: ['finance'],
    createdAt: '2026-12-01T22:48:01.960Z',
    context: { userMessage: 'one' },
    askReason: '5000 is over 1000',
    originalArgs: { amount: 500, to: 'b' },
    editedBy: 'alice',
    grants: true,
  });
  expect(ruled).toMatchObject({ askReason: '600 is over 100', policyNote: 'money' });
  expect(ruled.approvers).toBeUndefined();
  const malformed = { version: 3, interrupts: [{ id: 't1-c1', toolName: 'x', args: {}, createdAt: '2026-12-01T00:00:00.000Z', policy: 'ask someone' }] };
  expect(() => readPendingMemo(malformed)).toThrow(expect.objectContaining({ name: 'WireDataInvalid' }));
});

test('data from a newer release, or data that does not fit, gives a clear error', () => {
  expect(() => readAuditEvent(sample('bad-audit-event-future-version.json'))).toThrow(
    expect.objectContaining({ name: 'WireVersionUnsupported', message: expect.stringMatching(/newer release of Airlock \(wire version 3; this one reads up to 2\): upgrade/) }),
  );
  expect(() => readAuditEvent(sample('bad-audit-event-malformed.json'))).toThrow(expect.objectContaining({ name: 'WireDataInvalid' }));
  expect(() => readPendingMemo(sample('bad-pending-memo-future-version.json'))).toThrow(expect.objectContaining({ name: 'WireVersionUnsupported' }));
  expect(readPendingMemo(undefined)).toEqual([]);
});

test('every sample in the fixtures folder is covered by a test above', () => {
  const covered = [
    'audit-events-release-1.json',
    'audit-events-unversioned-signed.json',
    'audit-events-v2.json',
    'pending-memo-release-1.json',
    'pending-memo-unversioned.json',
    'pending-memo-v2.json',
    'pending-memo-v3.json',
    'bad-audit-event-future-version.json',
    'bad-audit-event-malformed.json',
    'bad-pending-memo-future-version.json',
  ];
  expect(readdirSync(DIR).sort()).toEqual(covered.sort());
});
