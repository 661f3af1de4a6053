export { CodecError, CodecErrorType } from './codec-errors';
export { createKeyring, loadCodecKeys, KEY_BYTES, KEY_ID_PATTERN } from './codec-keys';
export type { CodecKey, CodecKeyring, CodecKeySources } from './codec-keys';
export { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, isEncryptedPayload, payloadKeyId } from './encryption-codec';
