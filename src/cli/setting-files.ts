/** Reading a file that a setting names (a config file, a certificate, a key): small regular files only. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './args';

/** The largest file a setting may name: far above any config file or certificate chain. */
export const MAX_SETTING_FILE_BYTES = 1024 * 1024;

/**
 * Reads the file a setting names. A missing, unreadable or oversized file, a directory or a
 * device (`/dev/zero`) fails with one line naming it as `described` (never its contents).
 * @throws UsageError
 */
export function readSettingFile(file: string, described: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new UsageError(`Cannot read ${described}: a directory`);
    if (!stat.isFile()) throw new UsageError(`Cannot read ${described}: not a regular file`);
    if (stat.size > MAX_SETTING_FILE_BYTES) throw new UsageError(`Cannot read ${described}: larger than ${MAX_SETTING_FILE_BYTES / 1024 / 1024} MiB`);
    const data = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, data, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return data.subarray(0, read);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : 'unreadable';
    throw new UsageError(`Cannot read ${described}: ${why}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
