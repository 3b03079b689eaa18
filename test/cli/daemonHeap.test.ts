import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_MALLOC_ARENA_MAX, DAEMON_NODE_FLAGS, RELAUNCHED_ENV, daemonRelaunch } from '../../src/cli/daemonHeap.js';
import { builtProduct } from '../helpers/builtProduct.js';

describe('daemonRelaunch: the heap settings `presence-bridge run` relaunches itself with (issue 16, memory)', () => {
  it('adds the daemon flags before the script, caps malloc arenas and marks the new process', () => {
    const plan = daemonRelaunch({ PATH: '/bin' }, ['--enable-source-maps'], '/app/main.js', ['run', '--config', 'c.json']);
    expect(plan?.args).toEqual([...DAEMON_NODE_FLAGS, '--enable-source-maps', '/app/main.js', 'run', '--config', 'c.json']);
    expect(plan?.env).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: DAEMON_MALLOC_ARENA_MAX, [RELAUNCHED_ENV]: '1' });
  });

  it('never relaunches a relaunched process', () => {
    expect(daemonRelaunch({ [RELAUNCHED_ENV]: '1' }, [], '/app/main.js', ['run'])).toBeNull();
  });

  it('leaves heap flags the user chose alone, in NODE_OPTIONS or on the command line, and a MALLOC_ARENA_MAX already set', () => {
    expect(daemonRelaunch({ NODE_OPTIONS: '--max-old-space-size=4096' }, [], '/app/main.js', ['run'])).toBeNull();
    expect(daemonRelaunch({}, ['--max-semi-space-size=16'], '/app/main.js', ['run'])).toBeNull();
    expect(daemonRelaunch({ NODE_OPTIONS: '--enable-source-maps' }, [], '/app/main.js', ['run'])?.args[0]).toBe(DAEMON_NODE_FLAGS[0]);
    expect(daemonRelaunch({ MALLOC_ARENA_MAX: '8' }, [], '/app/main.js', ['run'])?.env.MALLOC_ARENA_MAX).toBe('8');
  });

  it('PRESENCE_BRIDGE_NODE_OPTIONS replaces the flags; empty keeps Node\'s defaults', () => {
    expect(daemonRelaunch({ PRESENCE_BRIDGE_NODE_OPTIONS: ' --max-semi-space-size=4  --max-old-space-size=512 ' }, [], '/app/main.js', ['run'])?.args).toEqual([
      '--max-semi-space-size=4',
      '--max-old-space-size=512',
      '/app/main.js',
      'run',
    ]);
    expect(daemonRelaunch({ PRESENCE_BRIDGE_NODE_OPTIONS: '' }, [], '/app/main.js', ['run'])).toBeNull();
  });
});

describe('presence-bridge run relaunches itself in place with the daemon settings (built CLI)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pb-heap-'));
    // loaded into every image of the process through NODE_OPTIONS; only the last one reaches exit
    await writeFile(
      join(dir, 'report.mjs'),
      `process.on('exit', () => process.stderr.write('REPORT ' + JSON.stringify({ pid: process.pid, execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null }) + '\\n'));\n`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  interface Report {
    readonly pid: number;
    readonly execArgv: string[];
    readonly arenas: string | null;
  }

  /** Runs `presence-bridge run` with a config that does not exist (it exits at once) and reads the report. */
  function runOnce(extraEnv: Record<string, string>): Promise<{ pid: number | undefined; reports: Report[] }> {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'report.mjs')).href}`, ...extraEnv };
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [builtProduct().cli, 'run', '--config', join(dir, 'missing.json'), '--storage', dir], { env }, (_error, _stdout, stderr) => {
        const reports = stderr
          .split('\n')
          .filter((line) => line.startsWith('REPORT '))
          .map((line) => JSON.parse(line.slice('REPORT '.length)) as Report);
        resolve({ pid: child.pid, reports });
      });
    });
  }

  it('runs with the smaller semi-space and capped arenas, in the same process (one pid, one exit)', async () => {
    const { pid, reports } = await runOnce({});
    expect(reports).toHaveLength(1);
    expect(reports[0]?.pid).toBe(pid);
    expect(reports[0]?.execArgv).toEqual(expect.arrayContaining([...DAEMON_NODE_FLAGS]));
    expect(reports[0]?.arenas).toBe(DAEMON_MALLOC_ARENA_MAX);
  });

  it('with PRESENCE_BRIDGE_NODE_OPTIONS empty, runs with Node\'s defaults and no relaunch', async () => {
    const { reports } = await runOnce({ PRESENCE_BRIDGE_NODE_OPTIONS: '' });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.execArgv).not.toEqual(expect.arrayContaining([...DAEMON_NODE_FLAGS]));
    expect(reports[0]?.arenas).toBeNull();
  });
});
