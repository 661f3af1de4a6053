/**
 * History encryption for the programs: the payload codec the settings' keys make, for the
 * Temporal client, the worker and the approval service's codec endpoint alike, and the origins
 * of the Temporal Web UI that may call that endpoint.
 */
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, loadCodecKeys } from '../codec';
import type { Settings } from './config';
import { UsageError } from './args';
import { readSettingFile } from './setting-files';

/** The settings' keys as a codec, or `undefined` when no key is configured (history in the clear). @throws UsageError for keys that cannot be used */
export function payloadCodecFor(temporal: Pick<Settings['temporal'], 'codecKeys'>): EncryptionCodec | undefined {
  const sources = temporal.codecKeys;
  if (!sources) return undefined;
  let fileText: string | undefined;
  // Small regular files only: a directory, a device or an oversized file is refused in one line.
  if (sources.file) fileText = readSettingFile(sources.file, `the codec keys file ${sources.file}`).toString('utf8');
  try {
    const keys = loadCodecKeys({ list: sources.list, fileText, fileName: sources.file });
    return keys && new EncryptionCodec(keys);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The data converter of a Temporal client with `codec` (from `payloadCodecFor`), if any. */
export function dataConverterFor(codec: EncryptionCodec | undefined): DataConverter {
  return codec ? { payloadCodecs: [codec] } : {};
}

/** The Web UI origins of `--web-ui-origin` (`scheme://host[:port]`, comma-separated). @throws UsageError for anything else */
export function webUiOriginsOption(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((item) => {
    const origin = item.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) throw new UsageError('--web-ui-origin takes origins like http://localhost:8233 (scheme, host and port, no path)');
    return origin;
  });
}
