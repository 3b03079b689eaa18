// Loaded into the bridge with NODE_OPTIONS=--import (bench only): appends process.memoryUsage()
// once a second to $MEM_PROBE_FILE, so a run shows heap, external and RSS over time.
import { appendFileSync } from 'node:fs';

const file = process.env.MEM_PROBE_FILE;
const started = Date.now();
if (file) {
  const mib = (n) => (n / 2 ** 20).toFixed(1);
  setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, `${((Date.now() - started) / 1000).toFixed(0)}s rss ${mib(m.rss)} heapTotal ${mib(m.heapTotal)} heapUsed ${mib(m.heapUsed)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)}\n`);
  }, 1000).unref();
}
