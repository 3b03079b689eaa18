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
const CONFIGURED_NAME = '000000E3-0000-1000-8000-0026BB765291';

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

/** What the test needs of one user's accessory: ids ("aid.iid") to read and write, by the service's Name. */
export interface UserAccessoryIds {
  aid: number;
  switches: Map<string, string>; // switch name -> On
  /** Occupancy of the busy sensor, or undefined when `homekit.sensor` is off. */
  occupancy: string;
  /** Status Fault of the busy sensor, else of the first switch or status sensor. */
  fault: string;
  /** Status sensor name ("Alex Teams In a Call") -> OccupancyDetected. */
  statusSensors: Map<string, string>;
  /** Every service's Name -> its Status Fault. */
  faults: Map<string, string>;
  /** Every service's Name -> its ConfiguredName (what the Home app shows and renames). */
  configuredNames: Map<string, string>;
}

const maybeCharacteristic = (service: HapService, type: string): HapCharacteristic | undefined => service.characteristics.find((c) => longUuid(c.type) === type);

/** Per user key (the accessory's serial number), from hap-controller's getAccessories() list; the bridge's own accessory is left out. */
export function accessoriesByUser(list: readonly object[]): Map<string, UserAccessoryIds> {
  const users = new Map<string, UserAccessoryIds>();
  for (const accessory of list as HapAccessory[]) {
    const info = accessory.services.find((s) => longUuid(s.type) === ACCESSORY_INFORMATION);
    const serial = info ? String(characteristic(info, SERIAL_NUMBER).value) : '';
    const ours = accessory.services.filter((s) => [SWITCH, OCCUPANCY_SENSOR].includes(longUuid(s.type)));
    if (ours.length === 0) continue;
    const id = (c: HapCharacteristic) => `${accessory.aid}.${c.iid}`;
    const ids: UserAccessoryIds = { aid: accessory.aid, switches: new Map(), occupancy: '', fault: '', statusSensors: new Map(), faults: new Map(), configuredNames: new Map() };
    for (const service of ours) {
      const name = String(characteristic(service, NAME).value);
      const fault = maybeCharacteristic(service, STATUS_FAULT);
      if (fault) ids.faults.set(name, id(fault));
      const configured = maybeCharacteristic(service, CONFIGURED_NAME);
      if (configured) ids.configuredNames.set(name, id(configured));
      if (longUuid(service.type) === SWITCH) ids.switches.set(name, id(characteristic(service, ON)));
      else if (name.endsWith(' Busy Sensor')) {
        ids.occupancy = id(characteristic(service, OCCUPANCY_DETECTED));
        if (fault) ids.fault = id(fault);
      } else ids.statusSensors.set(name, id(characteristic(service, OCCUPANCY_DETECTED)));
    }
    if (!ids.fault) ids.fault = [...ids.faults.values()][0] ?? '';
    users.set(serial, ids);
  }
  return users;
}

export async function read(client: HapClient, id: string): Promise<unknown> {
  const result = (await client.getCharacteristics([id])) as { characteristics: { aid: number; iid: number; value: unknown }[] };
  return result.characteristics[0]?.value;
}
