// Loaded with `node --import` into a benchmarked child process: when it
// exits, writes its peak RSS (KB) and CPU time (µs) as JSON to the file named
// by TSDBT_BENCH_USAGE.
import { writeFileSync } from 'node:fs';

const file = process.env.TSDBT_BENCH_USAGE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRSS: u.maxRSS, user: u.userCPUTime, system: u.systemCPUTime }));
  });
}
