/**
 * The failure converter of Airlock's workers (activities and the workflow bundle alike): the
 * default one, except that every text it writes into a failure (message, stack trace, error type)
 * is made valid Unicode first. A failure message is a protobuf string: one holding a lone UTF-16
 * surrogate cannot be encoded, and the worker's core would shut the whole worker down over it.
 * Doors already refuse such input; this is the second line.
 */
import { DefaultFailureConverter, type ProtoFailure } from '@temporalio/common';
import { toWellFormedText } from '../core/text-checks';

const MAX_TEXT = 32_000;

function clean(text: string | null | undefined): string | null | undefined {
  return typeof text === 'string' ? toWellFormedText(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text) : text;
}

function cleanFailure(failure: ProtoFailure | null | undefined): void {
  for (let current = failure; current; current = current.cause) {
    current.message = clean(current.message);
    current.stackTrace = clean(current.stackTrace);
    const info = current.applicationFailureInfo;
    if (info) info.type = clean(info.type);
  }
}

/** The default failure converter with every text made safe to encode. */
export class WellFormedFailureConverter extends DefaultFailureConverter {
  override errorToFailure(...args: Parameters<DefaultFailureConverter['errorToFailure']>): ProtoFailure {
    const failure = super.errorToFailure(...args);
    cleanFailure(failure);
    return failure;
  }
}

/** Loaded by the worker (activities) and bundled into the workflow code (`failureConverterPath`). */
export const failureConverter = new WellFormedFailureConverter();
