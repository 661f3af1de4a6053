/** Memory and CPU time of a process, from Linux's /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { round } from './stats';

export interface ProcessMemory {
  /** Resident set size now (VmRSS), MiB. */
  rssMb: number;
  /** Highest resident set size so far (VmHWM), MiB. */
  peakRssMb: number;
}

/** VmRSS and VmHWM of a process. */
export function readMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`No ${field} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return { rssMb: round(kib('VmRSS') / 1024), peakRssMb: round(kib('VmHWM') / 1024) };
}

/**
 * Starts a new peak: Linux resets VmHWM to the current RSS when 5 is written to the process's
 * `clear_refs`, so a later peak belongs to the phase that follows.
 */
export function resetPeakMemory(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticksPerSecond;
}

/** User + system CPU seconds a process has used so far. */
function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / clockTicks();
}

/** The one process whose command line has `argument` as a whole argument. */
export function findPidByArgument(argument: string): number {
  const matches = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(argument);
      } catch {
        return false; // The process ended while we looked.
      }
    });
  if (matches.length !== 1) throw new Error(`Expected one process with argument ${argument}, found ${matches.length}`);
  return Number(matches[0]);
}

/** CPU seconds used by the dev server, the worker process, the bench process itself, and every other process. */
export interface CpuUse {
  server: number;
  worker: number;
  bench: number;
  /** The whole machine's busy time minus the three above: load the bench did not cause. */
  others: number;
}

/** Starts measuring; the returned function gives the CPU seconds used since. */
export function startCpuMeter(pids: { server: number; worker: number }): () => CpuUse {
  const used = startRawCpuMeter(pids);
  return () => roundedCpu(used());
}

/**
 * CPU use summed over separate stretches of time (`during`), rounded only when read, so that many
 * short stretches add up to what they used.
 */
export class CpuAccount {
  private readonly sum: CpuUse = { server: 0, worker: 0, bench: 0, others: 0 };

  constructor(private readonly pids: { server: number; worker: number }) {}

  async during<T>(work: () => Promise<T>): Promise<T> {
    const used = startRawCpuMeter(this.pids);
    try {
      return await work();
    } finally {
      const stretch = used();
      for (const key of Object.keys(this.sum) as (keyof CpuUse)[]) this.sum[key] += stretch[key];
    }
  }

  total(): CpuUse {
    return roundedCpu(this.sum);
  }
}

function startRawCpuMeter(pids: { server: number; worker: number }): () => CpuUse {
  const read = () => ({
    server: readCpuSeconds(pids.server),
    worker: readCpuSeconds(pids.worker),
    bench: benchCpuSeconds(),
    machine: machineBusySeconds(),
  });
  const start = read();
  return () => {
    const end = read();
    const used = (key: keyof typeof end) => end[key] - start[key];
    const others = used('machine') - used('server') - used('worker') - used('bench');
    return { server: used('server'), worker: used('worker'), bench: used('bench'), others: Math.max(0, others) };
  };
}

function roundedCpu(use: CpuUse): CpuUse {
  return { server: round(use.server), worker: round(use.worker), bench: round(use.bench), others: round(use.others) };
}

/** Busy CPU seconds of all cores since boot (/proc/stat: everything but idle and iowait). */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return (user + nice + system + irq + softirq + steal) / clockTicks();
}

function benchCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
