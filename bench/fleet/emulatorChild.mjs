// The emulator in its own process for bench/fleet/shards.mjs (real time), with USERS users in one
// group and the group permission granted. Talks to its parent over IPC.
//
//   argv: DIST_DIR USERS THROTTLE_LIMIT
//   parent -> child: { type: 'holding', pair } | { type: 'close' }
//   child -> parent: { type: 'ready', facts, groupId } | { type: 'holding', count, setPresence, throttled }
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distDir, usersArg, throttleArg] = process.argv.slice(2);
const { startEmulator } = await import(pathToFileURL(join(distDir, 'emulator/index.js')).href);

const emulator = await startEmulator({ port: 0, host: '127.0.0.1', throttleLimit: Number(throttleArg), appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
const members = emulator.addUsers(Array.from({ length: Number(usersArg) }, (_, i) => ({ userPrincipalName: `desk${String(i).padStart(5, '0')}@contoso.example` })));
const group = emulator.addGroup({ displayName: 'All desks', members: members.map((m) => m.id) });
let setPresence = 0;
let throttled = 0;

process.on('message', async (message) => {
  if (message.type === 'holding') {
    // the request log holds 10,000 entries: count and empty it
    for (const e of emulator.requestLog()) {
      if (!e.route.endsWith('/presence/setPresence')) continue;
      setPresence++;
      if (e.status === 429) throttled++;
    }
    emulator.clearRequestLog();
    let count = 0;
    for (const m of members) {
      const p = emulator.presenceOf(m.id);
      if (`${p.availability}/${p.activity}` === message.pair) count++;
    }
    process.send({ type: 'holding', count, setPresence, throttled });
  } else if (message.type === 'close') {
    await emulator.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
const facts = emulator.facts();
process.send({ type: 'ready', facts: { ...facts, users: [] }, groupId: group.id, keys: members.map((m) => m.userPrincipalName.split('@')[0]) });
