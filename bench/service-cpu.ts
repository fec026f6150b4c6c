import fs from 'node:fs';

/** CPU time so far (ms) of the services a run shares the machine with. */
export interface ServiceCpu {
  /** Every process of the PostgreSQL server, and the backends that have exited (reaped by the postmaster). */
  postgres: number;
  /** The Kafka broker's JVM. */
  kafka: number;
}

/** Linux reports process times in clock ticks of 1/100 s (CLK_TCK, 100 on every Linux here). */
const MS_PER_TICK = 10;

/**
 * Reads /proc: PostgreSQL's and the broker's CPU, so that a run's figures can show where the
 * machine's two cores went. Undefined where there is no /proc or neither service runs here. Other clients of the same servers
 * count too: it is exact only on an otherwise idle machine.
 */
export function serviceCpu(): ServiceCpu | undefined {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const total: ServiceCpu = { postgres: 0, kafka: 0 };
  let found = false;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const usage = processCpu(pid);
    if (usage?.command === 'postgres') total.postgres += usage.own + usage.reaped;
    else if (usage?.args.includes('kafka.Kafka')) total.kafka += usage.own;
    else continue;
    found = true;
  }
  // Services on another machine (or hidden from this one) would make a bound that means nothing.
  return found ? total : undefined;
}

function processCpu(pid: string) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command sits in parentheses and may hold spaces; the numbered fields follow it.
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (index: number) => Number(fields[index - 3]);
    const args = command === 'java' ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    // Fields 14–17 of proc(5): utime, stime, cutime, cstime.
    return {
      command,
      args,
      own: (ticks(14) + ticks(15)) * MS_PER_TICK,
      reaped: (ticks(16) + ticks(17)) * MS_PER_TICK,
    };
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

/** What each service spent between two readings. */
export function serviceCpuSince(before: ServiceCpu | undefined): ServiceCpu | undefined {
  const now = serviceCpu();
  if (!before || !now) return undefined;
  return { postgres: now.postgres - before.postgres, kafka: now.kafka - before.kafka };
}
