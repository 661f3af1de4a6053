import { appendFile, lstat, mkdir, readFile, realpath, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineTool } from './define-tool';
import { ToolError } from './tool-error';

/** Options of `createDeleteFileTool`. */
export interface DeleteFileToolOptions {
  /**
   * The JSON-lines ledger of deletions, by idempotency key. It must lie outside the sandbox, where
   * the tool can neither delete nor be asked about it.
   * Default: `<dirname(sandbox)>/<basename(sandbox)>.deletions.jsonl`, next to the sandbox.
   */
  ledgerFile?: string;
}

/**
 * `delete_file`: really deletes a regular file inside `sandboxDir`, nowhere else. The sandbox is
 * checked on real paths, not on the path's text: a symlinked folder leading out of it is refused,
 * and so is every symlink as the file to delete (even one pointing inside: the tool deletes files,
 * not links). Each deletion is recorded in the ledger (outside the sandbox) under its idempotency
 * key, so a retry of the same call reports the earlier deletion instead of failing on the missing file.
 * @throws Error at creation when the ledger would lie inside the sandbox
 */
export function createDeleteFileTool(sandboxDir: string, options: DeleteFileToolOptions = {}) {
  const root = path.resolve(sandboxDir);
  const ledger = path.resolve(options.ledgerFile ?? path.join(path.dirname(root), `${path.basename(root)}.deletions.jsonl`));
  if (isInside(root, ledger)) throw new Error(`The deletions ledger ${ledger} must lie outside the sandbox ${root}`);
  return defineTool({
    name: 'delete_file',
    description: `Delete a file. Paths are relative to the sandbox folder ${root} (absolute paths must be inside it).`,
    parameters: z.object({ path: z.string().min(1).describe('The file to delete') }),
    async execute({ path: requested }, { idempotencyKey }) {
      const earlier = (await readLedger(ledger)).find((entry) => entry.idempotencyKey === idempotencyKey);
      if (earlier) return `Deleted ${earlier.path}`;
      const realRoot = await realSandboxRoot(root);
      await ensureLedgerOutside(ledger, realRoot);
      const file = await resolveSandboxFile(root, realRoot, requested);
      await deleteUnchanged(file, realRoot, requested);
      await appendFile(ledger, JSON.stringify({ idempotencyKey, path: file.shown, at: new Date().toISOString() }) + '\n');
      return `Deleted ${file.shown}`;
    },
  });
}

/** A file inside the sandbox: the path as asked (under the sandbox as configured), its real path, and what `lstat` saw. */
interface SandboxFile {
  shown: string;
  real: string;
  info: Stats;
}

/** A requested path for an error message: JSON-quoted and cut at 200 characters, never repeated raw. */
function quotePath(requested: string): string {
  return JSON.stringify(requested.length > 200 ? `${requested.slice(0, 200)}…` : requested);
}

/** True when `candidate` is `dir` itself or lies under it (both absolute). */
function isInside(dir: string, candidate: string): boolean {
  const relative = path.relative(dir, candidate);
  return relative === '' || (relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative));
}

const isMissing = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException)?.code ?? '');

/** What a failed look-up of `requested` tells the model: a ToolError for what a retry cannot mend, else the error as is. */
function lookupFailure(err: unknown, requested: string): Error {
  if (isMissing(err)) return new ToolError(`No such file: ${quotePath(requested)}`);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ELOOP' || code === 'ENAMETOOLONG') return new ToolError(`Cannot resolve ${quotePath(requested)} (${code})`);
  return err as Error;
}

/** The sandbox root's real path. @throws ToolError when it does not exist */
async function realSandboxRoot(root: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (err) {
    if (isMissing(err)) throw new ToolError(`The sandbox folder ${root} does not exist`);
    throw err;
  }
}

/** Refuses to run when the ledger's real folder is inside the sandbox's real folder (e.g. through a symlink). */
async function ensureLedgerOutside(ledger: string, realRoot: string): Promise<void> {
  await mkdir(path.dirname(ledger), { recursive: true });
  const realLedger = path.join(await realpath(path.dirname(ledger)), path.basename(ledger));
  if (isInside(realRoot, realLedger)) throw new ToolError('The deletions ledger lies inside the sandbox; refusing to delete anything');
}

/**
 * Where `requested` really is: its parent folder's real path must lie inside the real sandbox root,
 * and the file itself (seen with `lstat`, so a symlink is not followed) must be a regular file.
 * @throws ToolError for a path outside the sandbox, a missing file, a symlink or anything but a file
 */
async function resolveSandboxFile(root: string, realRoot: string, requested: string): Promise<SandboxFile> {
  if (requested.includes('\0')) throw new ToolError(`Invalid path ${quotePath(requested)}`);
  const shown = path.resolve(root, requested);
  if (!isInside(root, shown) && !isInside(realRoot, shown)) throw new ToolError(`${quotePath(requested)} is outside the sandbox ${root}`);
  if (shown === root || shown === realRoot) throw new ToolError(`Not a file: ${quotePath(requested)}`);
  const realParent = await realpath(path.dirname(shown)).catch((err: unknown) => {
    throw lookupFailure(err, requested);
  });
  if (!isInside(realRoot, realParent)) throw new ToolError(`${quotePath(requested)} leads outside the sandbox ${root} (through a symlink)`);
  const real = path.join(realParent, path.basename(shown));
  const info = await lstat(real).catch((err: unknown) => {
    throw lookupFailure(err, requested);
  });
  if (info.isSymbolicLink()) throw new ToolError(`${quotePath(requested)} is a symlink; delete_file only deletes regular files`);
  if (!info.isFile()) throw new ToolError(`Not a file: ${quotePath(requested)}`);
  return { shown, real, info };
}

/**
 * Deletes the file after checking, right before, that its real path is still the one resolved and
 * still the same file (a folder swapped for a symlink in between is refused). The gap between this
 * check and `unlink` remains; closing it needs `unlinkat` on an open folder, which Node lacks.
 */
async function deleteUnchanged(file: SandboxFile, realRoot: string, requested: string): Promise<void> {
  const [again, now] = await Promise.all([realpath(file.real).catch(() => undefined), lstat(file.real).catch(() => undefined)]);
  const same = now !== undefined && now.ino === file.info.ino && now.dev === file.info.dev && !now.isSymbolicLink();
  if (again !== file.real || !isInside(realRoot, again) || !same) throw new ToolError(`${quotePath(requested)} changed while it was being deleted; nothing was deleted`);
  await unlink(file.real);
}

/**
 * `send_email`: appends the email to `outboxFile` (JSON lines), once per idempotency key: the
 * outbox is its own ledger, so a retried or repeated call never sends twice.
 */
export function createSendEmailTool(outboxFile: string) {
  return defineTool({
    name: 'send_email',
    description: 'Send an email.',
    parameters: z.object({
      to: z.email().describe('Recipient address'),
      subject: z.string().min(1),
      body: z.string(),
    }),
    async execute({ to, subject, body }, { idempotencyKey }) {
      await mkdir(path.dirname(outboxFile), { recursive: true });
      const sent = (await readLedger(outboxFile)).some((entry) => entry.idempotencyKey === idempotencyKey);
      if (!sent) {
        await appendFile(outboxFile, JSON.stringify({ idempotencyKey, to, subject, body, at: new Date().toISOString() }) + '\n');
      }
      return `Email sent to ${to} with subject: ${subject}`;
    },
  });
}

async function readLedger(file: string): Promise<Array<Record<string, string>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

/**
 * `make_payment`: records a payment in `ledgerFile` (JSON lines), once per idempotency key, so a
 * retried or repeated call never pays twice. The example of a tool whose policy looks at the
 * arguments (see the example agent).
 */
export function createMakePaymentTool(ledgerFile: string) {
  return defineTool({
    name: 'make_payment',
    description: 'Pay an amount (in euros) to a payee.',
    parameters: z.object({
      amount: z.number().positive().max(1_000_000).describe('Amount in euros'),
      to: z.string().min(1).max(100).describe('Payee'),
      memo: z.string().max(500).optional(),
    }),
    async execute({ amount, to, memo }, { idempotencyKey }) {
      await mkdir(path.dirname(ledgerFile), { recursive: true });
      const paid = (await readLedger(ledgerFile)).some((entry) => entry.idempotencyKey === idempotencyKey);
      if (!paid) await appendFile(ledgerFile, JSON.stringify({ idempotencyKey, amount, to, ...(memo && { memo }), at: new Date().toISOString() }) + '\n');
      return `Paid ${amount} EUR to ${to}`;
    },
  });
}
