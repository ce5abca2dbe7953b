// CPU seconds a process has used so far (user + system, from /proc/<pid>/stat), for the cost side of a run.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in seconds; undefined when the process is gone or /proc is missing. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) in parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/** CPU seconds per named process between `start()` and `stop()`. */
export function cpuMeter(pids: Readonly<Record<string, number | undefined>>) {
  const begin = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  return {
    read(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const [k, pid] of Object.entries(pids)) {
        const now = cpuSecondsOf(pid);
        const was = begin[k];
        if (now !== undefined && was !== undefined) out[k] = Math.round((now - was) * 100) / 100;
      }
      return out;
    },
  };
}

/** Resident set size now and its high-water mark, in bytes, from /proc/<pid>/status. */
export function memoryOf(pid: number | undefined): { rss: number; peak: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb("VmRSS"), peak: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores; idle and iowait excluded). */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, ...values] = line.trim().split(/\s+/);
  const v = values.map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / clockTicks();
}

/** CPU the rest of the machine spent in a window: busy time minus the processes we account for. */
export function otherLoad() {
  const busy = machineBusySeconds();
  const self = process.cpuUsage();
  const started = performance.now();
  return {
    /** `accounted`: CPU seconds of our own processes in the window, besides this one. */
    read(accounted: number): { otherCpuSeconds: number; windowSeconds: number } {
      const mine = process.cpuUsage(self);
      const driver = (mine.user + mine.system) / 1e6;
      return {
        otherCpuSeconds: Math.max(
          0,
          Math.round((machineBusySeconds() - busy - accounted - driver) * 10) / 10,
        ),
        windowSeconds: Math.round((performance.now() - started) / 100) / 10,
      };
    },
  };
}
