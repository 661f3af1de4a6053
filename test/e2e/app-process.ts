/** Runs the `airlock` command a package installed into an app: its `node_modules/.bin/airlock`. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { runProcess, type CliResult } from './cli-process';

const bin = (app: string) => path.join(app, 'node_modules', '.bin', 'airlock');

/** Runs one command in `app` to its end. */
export function runIn(app: string, args: string[]): Promise<CliResult> {
  return runProcess(bin(app), args, { cwd: app });
}

/** Starts a long-running command in `app` and waits until it prints `readyText`. */
export async function spawnIn(app: string, args: string[], readyText: string): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(bin(app), args, { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyText)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`airlock ${args[0]} exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
