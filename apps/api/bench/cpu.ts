/**
 * CPU time of the processes a bench runs on (Linux /proc): so that it can say which part of the
 * platform the machine's cores went to, and how much of them went to anything else.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second of /proc's times (USER_HZ, 100 on every Linux the project runs on). */
const TICKS = 100;

interface Stat {
  pid: number;
  ppid: number;
  /** own user + system time, and that of its children it has waited for (exited ones), in seconds */
  own: number;
  reaped: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { pid, ppid: n(4), own: (n(14) + n(15)) / TICKS, reaped: (n(16) + n(17)) / TICKS };
}

function processes(): Stat[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
  return pids.map(readStat).filter((s): s is Stat => s !== null);
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

/** CPU seconds so far of the processes whose command line `matches` and all their descendants (those exited included). */
export function treeCpuSeconds(matches: (cmdline: string, pid: number) => boolean): number {
  const all = processes();
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const visit = (s: Stat) => {
    total += s.own + s.reaped;
    for (const child of children.get(s.pid) ?? []) visit(child);
  };
  for (const s of all) if (matches(cmdline(s.pid), s.pid)) visit(s);
  return total;
}

/** CPU seconds so far of a process, all its threads (not its children). */
export function processCpuSeconds(pid: number): number | null {
  return readStat(pid)?.own ?? null;
}

/** CPU seconds so far of one thread of a process (the main thread's id is the process id); null where /proc has none. */
export function threadCpuSeconds(pid: number, tid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/** Seconds of CPU the whole machine has spent (all cores, all processes), from /proc/stat. */
export function machineCpuSeconds(): number | null {
  try {
    const [line] = readFileSync('/proc/stat', 'utf8').split('\n');
    const [, user, nice, system, , , irq, softirq, steal] = line!.trim().split(/\s+/).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
  } catch {
    return null;
  }
}
