#!/usr/bin/env bash
# Runs the reliability suite (test/reliability/) and writes its results table into RELIABILITY.md.
#   bash bench/run-reliability.sh                      bounded form (as in CI, about a minute)
#   RELIABILITY_LONG=1 bash bench/run-reliability.sh   long form (5 desk days, 100,000 fuzz inputs, 10 kills)
# Needs Node 22, mosquitto and socat; the tests' global setup builds the CLI the kill -9 test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/node22.sh
rm -rf test-output/reliability
npx vitest run test/reliability/
node --input-type=module -e "
import { readFileSync, writeFileSync } from 'node:fs';
import { resultsTable } from './test/reliability/support.ts';
const file = 'RELIABILITY.md';
const doc = readFileSync(file, 'utf8');
const start = '<!-- results:start -->';
const end = '<!-- results:end -->';
const mode = process.env.RELIABILITY_LONG === '1' ? 'long form (RELIABILITY_LONG=1)' : 'bounded form (as in CI)';
const read = (name) => JSON.parse(readFileSync('test-output/reliability/' + name + '.json', 'utf8'));
const day = read('desk day');
const kill = read('kill -9');
const mib = (x) => x.toFixed(1) + ' MiB';
const memory = 'Memory: the desk day\'s heap after a full collection was ' + mib(day.baselineHeapMiB) + ' in the morning and at most ' + mib(Math.max(...day.heapAfterFaultsMiB)) + ' after a fault (' + day.heapAfterFaultsMiB.length + ' readings); the kill -9 child\'s RSS was ' + mib(kill.rssMiB[0]) + ' on its first run and ' + mib(Math.min(...kill.rssMiB.slice(1))) + ' to ' + mib(Math.max(...kill.rssMiB.slice(1))) + ' after each restart.';
const body = [start, '', 'Run ' + new Date().toISOString() + ', ' + mode + ', Node ' + process.version + '.', '', resultsTable(), '', memory, '', end].join('\n');
const i = doc.indexOf(start);
const j = doc.indexOf(end);
if (i < 0 || j < 0) throw new Error('RELIABILITY.md has no results markers');
writeFileSync(file, doc.slice(0, i) + body + doc.slice(j + end.length));
console.log(body);
"
