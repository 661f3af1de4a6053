/** The machine a bench run ran on, as its report records it. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { findTemporalBinary } from '../src/devtools/temporal-binaries';
import type { Machine } from './report';
import { round } from './stats';

/** Cores, memory, Node and Temporal versions, and the load average at the run's start and now. */
export function describeMachine(loadAverageAtStart: number[]): Machine {
  const load = (values: number[]) => values.map((value) => round(value, 2));
  return {
    cpus: os.cpus().length,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    temporal: execFileSync(findTemporalBinary('cli'), ['--version'], { encoding: 'utf8' }).trim(),
    loadAverage: { atStart: load(loadAverageAtStart), atEnd: load(os.loadavg()) },
  };
}
