/** Runs the `airlock` CLI as a user does: a spawned process, its exit code and output. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const AIRLOCK_BIN = path.join(__dirname, '../../bin/airlock.js');

/**
 * Every process a test file starts: whatever a failed test left running (a chat waiting at its
 * prompt, a worker) is killed when the file ends, so one failure cannot keep the run from ending.
 */
const started = new Set<ChildProcess>();
const track = <T extends ChildProcess>(child: T): T => {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
};
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to its end. */
export function airlock(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runProcess(process.execPath, [AIRLOCK_BIN, ...args], { env });
}

/** Runs any program to its end (no input), with `env` over this process's environment. */
export function runProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-running command (a worker) and waits until it prints `readyText` on stderr. */
export function startBackground(args: string[], readyText: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; stop: () => Promise<void>; output: () => string }> {
  return startProgram(process.execPath, [AIRLOCK_BIN, ...args], readyText, { env });
}

/** Starts any long-running program and waits until it prints `readyText` (stdout or stderr). */
export async function startProgram(
  command: string,
  args: string[],
  readyText: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: ChildProcess; stop: () => Promise<void>; output: () => string }> {
  const child = track(spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyText)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${path.basename(command)} ${args.join(' ')} exited (${code}) before it was ready:\n${output}`)));
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

/** A program the test talks to line by line, as a person at a prompt would (stdin is a pipe). */
export interface Conversation {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output: () => string;
  /** Waits until the output (after `from`) contains `text`; returns the offset just after it. */
  waitFor: (text: string | RegExp, from?: number, timeoutMs?: number) => Promise<number>;
  type: (line: string) => void;
  /** Resolves with the exit code (or signal) when the program ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node <script> ...args` with stdin, stdout and stderr piped. */
export function converse(script: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Conversation {
  const child = track(spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], cwd }));
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((listener) => listener());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (text: string | RegExp, from = 0, timeoutMs = 60_000) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const rest = output.slice(from);
        const match = typeof text === 'string' ? { index: rest.indexOf(text), length: text.length } : (() => {
          const found = text.exec(rest);
          return { index: found ? found.index : -1, length: found ? found[0].length : 0 };
        })();
        if (match.index < 0) return false;
        done();
        resolve(from + match.index + match.length);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${String(text)} in time; output:\n${output}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = () => void check();
      if (check()) return;
      listeners.add(listener);
      void exited.then(() => setTimeout(() => {
        if (listeners.has(listener) && !check()) {
          done();
          reject(new Error(`exited before ${String(text)}; output:\n${output}`));
        }
      }, 50));
    });
  return { child, output: () => output, waitFor, type: (line) => child.stdin!.write(`${line}\n`), exited };
}

/** True while a process with this id runs. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
