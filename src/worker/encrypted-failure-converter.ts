/**
 * The failure converter of workers whose history is encrypted: Airlock's (every text made valid
 * Unicode) with the failure's message and stack trace moved into an encoded payload
 * (`encodeCommonAttributes`), so the payload codec encrypts them like any other payload. Failure
 * messages may quote tool output, a model's error or an argument; with this converter history
 * shows only "Encoded failure" and the error's type in the clear.
 */
import { WellFormedFailureConverter } from './failure-converter';

/** Loaded by the worker (activities) and bundled into the workflow code (`failureConverterPath`). */
export const failureConverter = new WellFormedFailureConverter({ encodeCommonAttributes: true });
