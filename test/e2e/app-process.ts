/** Runs the `airlock` command a package installed into an app: its `node_modules/.bin/airlock`. */
import path from 'node:path';
import { runProcess, startProgram, type CliResult } from './cli-process';

const bin = (app: string) => path.join(app, 'node_modules', '.bin', 'airlock');

/** Runs one command in `app` to its end. */
export function runIn(app: string, args: string[]): Promise<CliResult> {
  return runProcess(bin(app), args, { cwd: app });
}

/** Starts a long-running command in `app` and waits until it prints `readyText`. */
export function spawnIn(app: string, args: string[], readyText: string): Promise<{ stop: () => Promise<void> }> {
  return startProgram(bin(app), args, readyText, { cwd: app });
}
