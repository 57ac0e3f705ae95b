// Resource use of a process from /proc: CPU seconds (utime+stime of the process and its waited-for
// children) and peak resident set size (VmHWM).
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcSample {
  cpuSeconds: number;
  /** Peak RSS so far, in MiB. */
  peakRssMiB: number;
  /** Current RSS, in MiB. */
  rssMiB: number;
}

/** Reads the CPU time and memory of `pid`; undefined when the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" of the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** Cumulative CPU time of the whole machine from /proc/stat, in seconds summed over all CPUs. */
export interface MachineCpu {
  /** every state */
  total: number;
  /** idle + iowait */
  idle: number;
  /** niced user time: other work at low priority (e.g. builds) */
  nice: number;
}

/** Reads the machine's CPU counters (first line of /proc/stat). */
export function sampleMachine(): MachineCpu {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest fields are already in user/nice)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total: total / TICKS_PER_SECOND, idle: (f[3]! + f[4]!) / TICKS_PER_SECOND, nice: f[1]! / TICKS_PER_SECOND };
}
