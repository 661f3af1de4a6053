import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTool } from './define-tool';
import { ToolError } from './tool-error';

/**
 * `delete_file`: really deletes a file inside `sandboxDir`, nowhere else. Each deletion is
 * recorded in `<sandboxDir>/.airlock-deletions.jsonl` under its idempotency key, so a retry of the
 * same call reports the earlier deletion instead of failing on the missing file.
 */
export function createDeleteFileTool(sandboxDir: string) {
  const root = path.resolve(sandboxDir);
  const ledger = path.join(root, '.airlock-deletions.jsonl');
  return defineTool({
    name: 'delete_file',
    description: `Delete a file. Paths are relative to the sandbox folder ${root} (absolute paths must be inside it).`,
    parameters: z.object({ path: z.string().min(1).describe('The file to delete') }),
    async execute({ path: requested }, { idempotencyKey }) {
      const earlier = (await readLedger(ledger)).find((entry) => entry.idempotencyKey === idempotencyKey);
      if (earlier) return `Deleted ${earlier.path}`;
      const target = path.resolve(root, requested);
      if (target !== root && !target.startsWith(root + path.sep)) throw new ToolError(`${requested} is outside the sandbox ${root}`);
      const info = await stat(target).catch(() => undefined);
      if (!info) throw new ToolError(`No such file: ${path.relative(root, target) || target}`);
      if (!info.isFile()) throw new ToolError(`Not a file: ${requested}`);
      await rm(target);
      await appendFile(ledger, JSON.stringify({ idempotencyKey, path: target, at: new Date().toISOString() }) + '\n');
      return `Deleted ${target}`;
    },
  });
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
