/** The crash matrix's table on stdout, and its figures as JSON in bench/out/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Machine } from '../report';
import { KILL_POINT_TEXT, KILL_POINTS } from './kill-points';
import type { CrashMatrixResult } from './crash-tally';

export interface CrashReport {
  date: string;
  machine: Machine;
  settings: { threads: number; rounds: number; threadsPerPoint: number; restartServerEvery: number; sqliteSynchronous: 'NORMAL' | 'FULL' };
  result: CrashMatrixResult;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The table: threads, kill points × kills, decisions, effects, retries, recovery. */
export function formatCrashReport({ result, settings }: CrashReport): string {
  const { decisions, effects, retries } = result;
  const errors = Object.entries(decisions.senderErrors).map(([kind, count]) => `${count} ${kind}`).join(', ') || 'none';
  const sorted = [...result.recoveryMs].sort((a, b) => a - b);
  const rows: Array<[string, string]> = [
    ['threads (finished)', `${result.threads} (${result.finished})`],
    ['rounds: worker SIGKILLs', String(result.kills)],
    ['dev server SIGKILL + restart', `${result.serverRestarts} (SQLite WAL, synchronous=${settings.sqliteSynchronous})`],
    ['kill points × kills', `${KILL_POINTS.length} × ${result.kills} (${settings.threadsPerPoint} threads per point per kill)`],
    ['decisions sent / kept / lost', `${decisions.sent} / ${decisions.kept} / ${decisions.lost} (${decisions.bySignal} by signal while no worker ran)`],
    ['decision sends (senders saw)', `${decisions.sends} (${errors}; ${decisions.answeredAlreadyDecided} answered "already decided")`],
    ['approved effects expected / actual', `${effects.expected} / ${effects.actual} (${effects.missing} missing)`],
    ['duplicated effects', String(effects.duplicated)],
    ['rejected calls with an effect', String(effects.rejectedWithEffect)],
    ['tool runs / retries', `${retries.toolRuns} / ${retries.toolRetries} (${retries.foundAlreadyApplied} found their effect already written)`],
    ['activity retries in history', `model ${retries.inHistory.callModel}, tool ${retries.inHistory.executeTool}`],
    ['client steps retried', String(retries.clientSteps)],
    ['recovery: kill → round all ended', `median ${secs(sorted[Math.floor(sorted.length / 2)] ?? NaN)}, max ${secs(sorted[sorted.length - 1] ?? NaN)}`],
    ['whole run', secs(result.durationMs)],
  ];
  const perPoint = KILL_POINTS.map((point) => {
    const { threads, kills, toolRuns, foundAlreadyApplied, slowestRecoveryMs } = result.points[point];
    return `  ${point.padEnd(18)}${String(threads).padStart(8)}${String(kills).padStart(7)}${String(toolRuns).padStart(11)}${String(foundAlreadyApplied).padStart(15)}${secs(slowestRecoveryMs).padStart(15)}   ${KILL_POINT_TEXT[point]}`;
  });
  return [
    'Crash matrix',
    ...rows.map(([label, value]) => `  ${label.padEnd(36)}${value}`),
    ...Object.entries(decisions.senderErrorSamples).map(([kind, message]) => `  a sender saw ${kind}: ${message}`),
    '',
    `  ${'kill point'.padEnd(18)}${'threads'.padStart(8)}${'kills'.padStart(7)}${'tool runs'.padStart(11)}${'found written'.padStart(15)}${'slowest end'.padStart(15)}`,
    ...perPoint,
    '',
    result.problems.length ? `PROBLEMS (${result.problems.length}):\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}` : 'No problems: every thread finished, no decision lost, each approved call took effect once, no rejected call did.',
  ].join('\n');
}

/** Writes the report as JSON to bench/out/crash-<date>.json; returns the file. */
export function writeCrashReport(report: CrashReport): string {
  const dir = path.resolve('bench', 'out');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `crash-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
