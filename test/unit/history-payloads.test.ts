/**
 * Reading a fetched history through the client's codecs, without a server: every payload in the
 * events is decrypted in place (inputs, results, memos, failure details), failure messages encoded
 * into a payload are put back, search attributes are left alone, and a client without keys says
 * the history is encrypted instead of failing on an unknown encoding.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, DefaultFailureConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { decodeHistoryPayloads } from '../../src/client/history-payloads';
import { CodecError, CodecErrorType, EncryptionCodec, createKeyring } from '../../src/codec';

const codec = new EncryptionCodec(createKeyring([{ id: 'k1', key: randomBytes(32).toString('base64') }]));
const seal = async (value: unknown): Promise<Payload> => (await codec.encode([defaultPayloadConverter.toPayload(value)!]))[0];
const plainSearchAttribute = defaultPayloadConverter.toPayload(['delete_file'])!;

async function encryptedEvents(): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  // What a worker with encodeCommonAttributes writes for a failed activity, then seals.
  const failure = new DefaultFailureConverter({ encodeCommonAttributes: true }).errorToFailure(new Error('upstream said no to /srv/secret'), defaultPayloadConverter);
  failure.encodedAttributes = await codec.encode([failure.encodedAttributes!]).then(([sealed]) => sealed);
  return [
    { workflowExecutionStartedEventAttributes: { input: { payloads: [await seal({ version: 3, agent: 'vault' })] }, searchAttributes: { indexedFields: { AirlockPendingTools: plainSearchAttribute } } } },
    { activityTaskScheduledEventAttributes: { input: { payloads: [await seal({ path: '/srv/secret' })] } } },
    { workflowPropertiesModifiedEventAttributes: { upsertedMemo: { fields: { audit: await seal([{ kind: 'x' }]) } } } },
    { activityTaskFailedEventAttributes: { failure } },
  ];
}

const clientWith = (codecs: EncryptionCodec[]) => new Client({ dataConverter: { payloadCodecs: codecs } });
const read = (payload: Payload | null | undefined) => defaultPayloadConverter.fromPayload(payload!);

test('every payload of the events is decrypted in place, and an encoded failure message is put back', async () => {
  const events = await encryptedEvents();
  expect(events[3].activityTaskFailedEventAttributes!.failure!.message).toBe('Encoded failure');
  await decodeHistoryPayloads(clientWith([codec]), events);
  expect(read(events[0].workflowExecutionStartedEventAttributes!.input!.payloads![0])).toEqual({ version: 3, agent: 'vault' });
  expect(read(events[1].activityTaskScheduledEventAttributes!.input!.payloads![0])).toEqual({ path: '/srv/secret' });
  expect(read(events[2].workflowPropertiesModifiedEventAttributes!.upsertedMemo!.fields!.audit)).toEqual([{ kind: 'x' }]);
  expect(events[3].activityTaskFailedEventAttributes!.failure!.message).toBe('upstream said no to /srv/secret');
  expect(events[0].workflowExecutionStartedEventAttributes!.searchAttributes!.indexedFields!.AirlockPendingTools).toBe(plainSearchAttribute);
});

test('a client without codec keys is told the history is encrypted, and under which key', async () => {
  const failure = await decodeHistoryPayloads(clientWith([]), await encryptedEvents()).catch((err: unknown) => err);
  expect(CodecError.isInstance(failure, CodecErrorType.CodecKeyUnknown)).toBe(true);
  expect((failure as Error).message).toBe("This thread's history is encrypted (key 'k1') and this client has no codec keys: set AIRLOCK_CODEC_KEYS or AIRLOCK_CODEC_KEYS_FILE");
});

test('a history in the clear reads unchanged without keys', async () => {
  const events = [{ activityTaskScheduledEventAttributes: { input: { payloads: [defaultPayloadConverter.toPayload({ path: 'a' })!] } } }];
  await decodeHistoryPayloads(clientWith([]), events);
  expect(read(events[0].activityTaskScheduledEventAttributes.input.payloads[0])).toEqual({ path: 'a' });
});
