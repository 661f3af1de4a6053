/**
 * A fetched history read through the client's payload codecs. `fetchHistory` hands back events as
 * the server stores them; with history encryption on, their payloads (inputs, results, memos,
 * failure details) are ciphertext until the client's codecs open them. Search attributes are
 * never encoded and are left as they are. (Collecting the payloads costs a walk over the events,
 * done even without codecs so that an encrypted history read without keys fails with a clear error.)
 */
import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { CodecError, CodecErrorType, KEY_ID_PATTERN, isEncryptedPayload, payloadKeyId } from '../codec';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A place in an event that holds one payload. */
interface PayloadSlot {
  holder: Record<string, unknown>;
  key: string;
}

/**
 * Decodes, in place, every payload of `events` with the client's codecs (the last one first, as
 * Temporal applies them), and puts back the message and stack trace of failures whose text was
 * encoded into a payload (`encodeCommonAttributes`). Without codecs it changes nothing.
 * @throws whatever a codec throws (e.g. a payload under a key this process lacks)
 */
export async function decodeHistoryPayloads(client: Client, events: HistoryEvent[]): Promise<void> {
  const { payloadCodecs, payloadConverter } = client.workflow.options.loadedDataConverter;
  const slots: PayloadSlot[] = [];
  for (const event of events) collectPayloads(event, slots);
  if (payloadCodecs.length === 0) return refuseEncrypted(slots);
  let payloads = slots.map(({ holder, key }) => holder[key] as Payload);
  for (const codec of [...payloadCodecs].reverse()) payloads = await decodeWith(codec, payloads);
  slots.forEach(({ holder, key }, index) => (holder[key] = payloads[index]));
  for (const event of events) restoreEncodedFailures(event, (payload) => payloadConverter.fromPayload(payload));
}

/** Without codecs, an encrypted history cannot be read: say so, instead of failing on an unknown encoding. */
function refuseEncrypted(slots: PayloadSlot[]): void {
  const sealed = slots.map(({ holder, key }) => holder[key] as Payload).find(isEncryptedPayload);
  if (!sealed) return;
  const keyId = payloadKeyId(sealed);
  const named = keyId && KEY_ID_PATTERN.test(keyId) ? ` (key '${keyId}')` : '';
  throw new CodecError(CodecErrorType.CodecKeyUnknown, `This thread's history is encrypted${named} and this client has no codec keys: set AIRLOCK_CODEC_KEYS or AIRLOCK_CODEC_KEYS_FILE`);
}

async function decodeWith(codec: PayloadCodec, payloads: Payload[]): Promise<Payload[]> {
  return payloads.length === 0 ? payloads : codec.decode(payloads);
}

/** A protobuf `Payload`: a metadata map of bytes naming its encoding. */
function isPayload(value: unknown): value is Payload {
  const metadata = (value as { metadata?: unknown } | null)?.metadata;
  return typeof metadata === 'object' && metadata !== null && (metadata as Record<string, unknown>).encoding instanceof Uint8Array;
}

function collectPayloads(node: unknown, slots: PayloadSlot[]): void {
  if (typeof node !== 'object' || node === null || node instanceof Uint8Array) return;
  const holder = node as Record<string, unknown>;
  for (const key of Object.keys(holder)) {
    if (key === 'searchAttributes' || key === 'indexedFields') continue;
    const value = holder[key];
    if (isPayload(value)) slots.push({ holder, key });
    else collectPayloads(value, slots);
  }
}

function restoreEncodedFailures(node: unknown, fromPayload: (payload: Payload) => unknown): void {
  if (typeof node !== 'object' || node === null || node instanceof Uint8Array) return;
  const holder = node as Record<string, unknown>;
  if (isPayload(holder.encodedAttributes)) {
    const attributes = fromPayload(holder.encodedAttributes) as { message?: unknown; stack_trace?: unknown } | null;
    if (typeof attributes?.message === 'string') holder.message = attributes.message;
    if (typeof attributes?.stack_trace === 'string') holder.stackTrace = attributes.stack_trace;
  }
  for (const key of Object.keys(holder)) if (key !== 'encodedAttributes') restoreEncodedFailures(holder[key], fromPayload);
}
