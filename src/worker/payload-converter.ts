/**
 * The payload converter of Airlock's workers (the workflow bundle and activities alike): the
 * default one, except that a payload it cannot read becomes `undefined` instead of an error.
 * Any Temporal client can send a signal or an Update whose payload has an unknown encoding or
 * broken JSON. The SDK converts a signal's payload outside the handler, so with the default
 * converter the error fails the workflow task, and again at every retry: one malformed signal
 * would stall its thread for good. Read as `undefined`, the value meets the handler's door check,
 * which refuses it like any malformed input. Airlock's own payloads are always readable.
 */
import { defaultPayloadConverter, type Payload, type PayloadConverter } from '@temporalio/common';

class DoorPayloadConverter implements PayloadConverter {
  toPayload<T>(value: T, ...rest: unknown[]): Payload {
    return (defaultPayloadConverter.toPayload as (value: T, ...rest: unknown[]) => Payload)(value, ...rest);
  }

  fromPayload<T>(payload: Payload, ...rest: unknown[]): T {
    try {
      return (defaultPayloadConverter.fromPayload as (payload: Payload, ...rest: unknown[]) => T)(payload, ...rest);
    } catch {
      return undefined as T;
    }
  }
}

export const payloadConverter: PayloadConverter = new DoorPayloadConverter();
