/** The example `delete_file` tool stays in its sandbox: real paths, no symlinks, a ledger out of the agent's reach. */
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDeleteFileTool, ToolError, type ToolContext } from '../../src/tools';
import { tempDir, unique } from '../helpers';

/** A sandbox with `inside.txt`, a folder `outside/` next to it holding `secret.txt`, and the tool. */
function setUp() {
  const home = tempDir();
  const sandbox = path.join(home, 'sandbox');
  const outside = path.join(home, 'outside');
  mkdirSync(sandbox);
  mkdirSync(outside);
  writeFileSync(path.join(sandbox, 'inside.txt'), 'mine');
  writeFileSync(path.join(outside, 'secret.txt'), 'not yours');
  return { home, sandbox, outside, secret: path.join(outside, 'secret.txt'), tool: createDeleteFileTool(sandbox) };
}

function contextFor(idempotencyKey = unique('thread/1/call')): ToolContext {
  return { threadId: 'thread', toolCallId: 'call', idempotencyKey, attempt: 1, signal: new AbortController().signal };
}

async function refusal(run: () => unknown): Promise<ToolError> {
  const error = await Promise.resolve().then(run).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

test('a symlinked folder inside the sandbox that points outside is refused, and the file outside survives', async () => {
  const { sandbox, outside, secret, tool } = setUp();
  symlinkSync(outside, path.join(sandbox, 'escape'), 'dir');
  const error = await refusal(() => tool.execute({ path: 'escape/secret.txt' }, contextFor()));
  expect(error.message).toMatch(/outside the sandbox/);
  expect(readFileSync(secret, 'utf8')).toBe('not yours');
});

test('a symlinked file is refused, whether it points outside or inside, and neither the link nor its target is deleted', async () => {
  const { sandbox, secret, tool } = setUp();
  symlinkSync(secret, path.join(sandbox, 'link-out.txt'));
  symlinkSync(path.join(sandbox, 'inside.txt'), path.join(sandbox, 'link-in.txt'));
  for (const link of ['link-out.txt', 'link-in.txt']) {
    const error = await refusal(() => tool.execute({ path: link }, contextFor()));
    expect(error.message).toBe(`"${link}" is a symlink; delete_file only deletes regular files`);
    expect(readdirSync(sandbox)).toContain(link);
  }
  expect(existsSync(secret)).toBe(true);
  expect(existsSync(path.join(sandbox, 'inside.txt'))).toBe(true);
});

test('a ../ escape and an absolute path outside are refused', async () => {
  const { secret, tool } = setUp();
  for (const requested of ['../outside/secret.txt', 'sub/../../outside/secret.txt', secret]) {
    const error = await refusal(() => tool.execute({ path: requested }, contextFor()));
    expect(error.message).toMatch(/outside the sandbox/);
  }
  expect(existsSync(secret)).toBe(true);
});

test('a normal delete works and is recorded in the ledger next to the sandbox, not inside it', async () => {
  const { home, sandbox, tool } = setUp();
  const context = contextFor();
  await expect(tool.execute({ path: 'inside.txt' }, context)).resolves.toBe(`Deleted ${path.join(sandbox, 'inside.txt')}`);
  expect(existsSync(path.join(sandbox, 'inside.txt'))).toBe(false);
  expect(readdirSync(sandbox)).toEqual([]);
  const ledger = readFileSync(path.join(home, 'sandbox.deletions.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  expect(ledger).toEqual([{ idempotencyKey: context.idempotencyKey, path: path.join(sandbox, 'inside.txt'), at: expect.any(String) }]);
});

test('the ledger can be placed elsewhere, but never inside the sandbox', async () => {
  const { home, sandbox } = setUp();
  const ledgerFile = path.join(home, 'records', 'deletions.jsonl');
  await createDeleteFileTool(sandbox, { ledgerFile }).execute({ path: 'inside.txt' }, contextFor());
  expect(readFileSync(ledgerFile, 'utf8')).toContain('inside.txt');
  expect(() => createDeleteFileTool(sandbox, { ledgerFile: path.join(sandbox, 'ledger.jsonl') })).toThrow(/must lie outside the sandbox/);
});

test('a retry with the same idempotency key reports the earlier deletion instead of failing on the missing file', async () => {
  const { sandbox, tool } = setUp();
  const context = contextFor();
  const first = await tool.execute({ path: 'inside.txt' }, context);
  await expect(tool.execute({ path: 'inside.txt' }, { ...context, attempt: 2 })).resolves.toBe(first);
  const other = await refusal(() => tool.execute({ path: 'inside.txt' }, contextFor()));
  expect(other.message).toBe('No such file: "inside.txt"');
  expect(first).toBe(`Deleted ${path.join(sandbox, 'inside.txt')}`);
});

test('folders, the sandbox itself and missing files are refused; an error repeats at most 200 characters of the path, JSON-quoted', async () => {
  const { sandbox, tool } = setUp();
  mkdirSync(path.join(sandbox, 'folder'));
  expect((await refusal(() => tool.execute({ path: 'folder' }, contextFor()))).message).toBe('Not a file: "folder"');
  expect((await refusal(() => tool.execute({ path: '.' }, contextFor()))).message).toBe('Not a file: "."');
  const hostile = `\u001b[31m${'x'.repeat(5_000)}`;
  const error = await refusal(() => tool.execute({ path: hostile }, contextFor()));
  expect(error.message).not.toContain('\u001b');
  expect(error.message.length).toBeLessThan(300);
  expect(error.message).toContain(JSON.stringify(hostile.slice(0, 200)).slice(0, -1));
});
