// The Graph + sign-in emulator in its own process, so that its CPU is neither the driver's nor
// the system under test's. Started with fork() by bench/compare/lib.mjs; talks over IPC.
//
//   argv: DIST_DIR USERS THROTTLE_LIMIT
//   parent -> child: { type: 'drain' } | { type: 'presence' } | { type: 'close' }
//   child -> parent: { type: 'ready', facts } | { type: 'log', entries, identity } | { type: 'presence', value }
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distDir, usersArg, throttleArg] = process.argv.slice(2);
const { startEmulator } = await import(pathToFileURL(join(distDir, 'emulator/index.js')).href);

const emulator = await startEmulator({ port: 0, host: '127.0.0.1', throttleLimit: Number(throttleArg) });
// The emulator's directory has 3 users. Its `users` array is the directory's own list, so more
// users are added in place (a state file would do the same but is rewritten every 50 ms under load).
const wanted = Number(usersArg);
for (let i = emulator.users.length; i < wanted; i++) {
  emulator.users.push({ id: randomUUID(), userPrincipalName: `bench${i}@bench.example`, displayName: `Bench ${i}` });
}
const last = emulator.users[emulator.users.length - 1];
emulator.presenceOf(last.id); // throws if the directory did not take the new users

const clientId = emulator.apps[0].clientId;
const idToIndex = new Map(emulator.users.map((u, i) => [u.id, i]));

process.on('message', async (message) => {
  if (message.type === 'drain') {
    const log = emulator.requestLog();
    emulator.clearRequestLog();
    const entries = [];
    let identity = 0;
    for (const e of log) {
      if (e.kind === 'identity') {
        identity++;
        continue;
      }
      const m = /^\/users\/([^/]+)\/presence\/(setPresence|clearPresence)$/.exec(e.route);
      const op = m ? m[2] : e.route.startsWith('/communications/getPresencesByUserId') ? 'getPresences' : 'other';
      const user = m ? idToIndex.get(m[1]) ?? -1 : -1;
      const pair = op === 'setPresence' && e.body ? `${e.body.availability}/${e.body.activity}` : undefined;
      entries.push({ op, user, pair, at: e.at, status: e.status });
    }
    process.send({ type: 'log', entries, identity });
  } else if (message.type === 'presence') {
    // Our app's session per user: the state each system under test holds at Graph.
    const value = emulator.users.map((u) => {
      const s = emulator.sessionsOf(u.id).find((x) => x.clientId === clientId);
      return s ? `${s.availability}/${s.activity}` : null;
    });
    process.send({ type: 'presence', value });
  } else if (message.type === 'close') {
    await emulator.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', facts: { ...emulator.facts(), users: emulator.users.map((u) => ({ id: u.id })) } });
