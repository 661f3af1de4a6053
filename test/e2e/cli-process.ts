/** Runs the `airlock` CLI as a user does: a spawned process, its exit code and output. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const AIRLOCK_BIN = path.join(__dirname, '../../bin/airlock.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to its end. */
export function airlock(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AIRLOCK_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-running command (a worker) and waits until it prints `readyText` on stderr. */
export async function startBackground(args: string[], readyText: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; stop: () => Promise<void>; output: () => string }> {
  const child = spawn(process.execPath, [AIRLOCK_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyText)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`airlock ${args[0]} exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls until `check` returns a value (visibility is eventually consistent). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
