/**
 * The errors of history encryption, with stable names. None of their messages carries key
 * material or payload contents: at most a key's id (ids are labels, not secrets) or its position.
 */

/** Names of the codec's errors, as `error.name`. */
export const CodecErrorType = {
  /** The configured keys cannot be used (malformed, wrong length, duplicate ids, none at all). */
  CodecKeysInvalid: 'CodecKeysInvalid',
  /** A payload was encrypted under a key id this process does not hold. */
  CodecKeyUnknown: 'CodecKeyUnknown',
  /** A payload marked encrypted does not decrypt: wrong key material under that id, or altered bytes. */
  PayloadDecryptionFailed: 'PayloadDecryptionFailed',
} as const;

export type CodecErrorType = (typeof CodecErrorType)[keyof typeof CodecErrorType];

/** An error of the payload codec; `type` (and `name`) say which. */
export class CodecError extends Error {
  constructor(
    readonly type: CodecErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }

  /** True for a `CodecError`, of `type` when given (by name, not `instanceof`). */
  static isInstance(error: unknown, type?: CodecErrorType): error is CodecError {
    if (!(error instanceof Error) || !(Object.values(CodecErrorType) as string[]).includes(error.name)) return false;
    return type === undefined || error.name === type;
  }
}
