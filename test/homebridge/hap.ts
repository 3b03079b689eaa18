import { createRequire } from 'node:module';

// hap-controller is CommonJS; its typings are used through the require'd value.
const require = createRequire(import.meta.url);
export const { HttpClient } = require('hap-controller') as typeof import('hap-controller');
export type HapClient = InstanceType<typeof HttpClient>;

export const PIN = '031-45-154';
const SWITCH = '00000049-0000-1000-8000-0026BB765291';
const OCCUPANCY_SENSOR = '00000086-0000-1000-8000-0026BB765291';
const ACCESSORY_INFORMATION = '0000003E-0000-1000-8000-0026BB765291';
const ON = '00000025-0000-1000-8000-0026BB765291';
const NAME = '00000023-0000-1000-8000-0026BB765291';
const SERIAL_NUMBER = '00000030-0000-1000-8000-0026BB765291';
const OCCUPANCY_DETECTED = '00000071-0000-1000-8000-0026BB765291';
const STATUS_FAULT = '00000077-0000-1000-8000-0026BB765291';

interface HapCharacteristic {
  type: string;
  iid: number;
  value?: unknown;
}
interface HapService {
  type: string;
  iid: number;
  characteristics: HapCharacteristic[];
}
export interface HapAccessory {
  aid: number;
  services: HapService[];
}

/** HAP reports short or long UUID forms; compare on the long form. */
function longUuid(type: string): string {
  return type.length <= 8 ? `${type.padStart(8, '0')}-0000-1000-8000-0026BB765291`.toUpperCase() : type.toUpperCase();
}

function characteristic(service: HapService, type: string): HapCharacteristic {
  const found = service.characteristics.find((c) => longUuid(c.type) === type);
  if (!found) throw new Error(`no characteristic ${type} in service ${service.type}`);
  return found;
}

/** What the test needs of one user's accessory: ids to read and write. */
export interface UserAccessoryIds {
  aid: number;
  switches: Map<string, string>; // switch name -> "aid.iid" of On
  occupancy: string;
  fault: string;
}

/** Per user key (the accessory's serial number), from hap-controller's getAccessories() list. */
export function accessoriesByUser(list: readonly object[]): Map<string, UserAccessoryIds> {
  const users = new Map<string, UserAccessoryIds>();
  for (const accessory of list as HapAccessory[]) {
    const info = accessory.services.find((s) => longUuid(s.type) === ACCESSORY_INFORMATION);
    const serial = info ? String(characteristic(info, SERIAL_NUMBER).value) : '';
    const sensor = accessory.services.find((s) => longUuid(s.type) === OCCUPANCY_SENSOR);
    if (!sensor) continue;
    const switches = new Map<string, string>();
    for (const service of accessory.services.filter((s) => longUuid(s.type) === SWITCH)) {
      switches.set(String(characteristic(service, NAME).value), `${accessory.aid}.${characteristic(service, ON).iid}`);
    }
    users.set(serial, {
      aid: accessory.aid,
      switches,
      occupancy: `${accessory.aid}.${characteristic(sensor, OCCUPANCY_DETECTED).iid}`,
      fault: `${accessory.aid}.${characteristic(sensor, STATUS_FAULT).iid}`,
    });
  }
  return users;
}

export async function read(client: HapClient, id: string): Promise<unknown> {
  const result = (await client.getCharacteristics([id])) as { characteristics: { aid: number; iid: number; value: unknown }[] };
  return result.characteristics[0]?.value;
}
