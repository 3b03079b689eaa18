// The tests' Mosquitto helper, loaded on plain Node through the `.js` → `.ts` resolve hook.
import { register } from 'node:module';

register('./tsResolve.mjs', import.meta.url);
export const { startMosquitto, freePort } = await import('../../test/helpers/mosquitto.ts');
