import { z } from 'zod';
import { inputFields } from '../config/schema.js';

/** The serial feature's slice of the config: inputs and outputs of type `serial`. */

export const serialInputSchema = z
  .object({
    type: z.literal('serial').meta({ title: 'Type', description: 'mqtt: values arrive as messages on a topic; serial: values arrive as lines on a serial port.' }),
    name: inputFields.name,
    user: inputFields.user,
    path: z.string().min(1).meta({ title: 'Port', description: 'Serial device path; prefer a stable /dev/serial/by-id/… path.' }),
    baudRate: z.number().int().positive().default(9600).meta({ title: 'Baud rate', description: 'Serial speed in bits per second.' }),
    delimiter: z.string().min(1).default('\n').meta({ title: 'Line delimiter', description: 'What ends a line; a trailing \\r is tolerated with the default newline.' }),
    encoding: z
      .enum(['utf8', 'ascii', 'latin1'])
      .default('utf8')
      .meta({ title: 'Encoding', description: 'Text encoding of the lines the device sends.' }),
    onDisconnect: z
      .enum(['clear', 'keep'])
      .default('clear')
      .meta({ title: 'When the device disconnects', description: 'clear: drop this input\'s presence when the device vanishes (a dead sensor must not hold anyone busy); keep: hold it.' }),
    queryOnOpen: z
      .string()
      .min(1)
      .optional()
      .meta({
        title: 'Ask for the state on open',
        description:
          'Text written to the device each time its port opens (at start and after a replug), for devices that answer with their current state, e.g. "STATE?\\n". Include the line ending. Leave empty for devices that cannot be asked.',
      }),
    field: inputFields.field,
    values: inputFields.values,
    map: inputFields.map,
    toggle: inputFields.toggle,
  })
  .strict();

const templateLine = (availability: string): z.ZodOptional<z.ZodString> =>
  z.string().optional().meta({ title: `Line for ${availability}`, description: `Written when the presence turns ${availability}; end it with \\n (a backslash and n), e.g. RED\\n.` });

/** One fixed field per availability, so the form can edit the lines (keys match case-insensitively). */
const templateLines = {
  Available: templateLine('Available'),
  AvailableIdle: templateLine('AvailableIdle'),
  Busy: templateLine('Busy'),
  BusyIdle: templateLine('BusyIdle'),
  DoNotDisturb: templateLine('DoNotDisturb'),
  BeRightBack: templateLine('BeRightBack'),
  Away: templateLine('Away'),
  Offline: templateLine('Offline'),
  PresenceUnknown: templateLine('PresenceUnknown'),
  default: z.string().optional().meta({ title: 'Line for any other', description: 'Written for an availability without a line of its own (default).' }),
};

export const serialOutputSchema = z
  .object({
    type: z.literal('serial').meta({ title: 'Type', description: 'serial: a busy light on a serial port, written one line per change.' }),
    name: z.string().min(1).meta({ title: 'Name', description: 'A unique name for this output.' }),
    user: z.string().optional().meta({ title: 'User', description: 'Key of the user whose presence this light shows. May be left out when exactly one user is configured.' }),
    path: z.string().min(1).meta({ title: 'Port', description: 'Serial device path of the busy light.' }),
    baudRate: z.number().int().positive().default(9600).meta({ title: 'Baud rate', description: 'Serial speed in bits per second.' }),
    templates: z
      .object(templateLines)
      .catchall(z.string())
      .meta({
        title: 'Line per availability',
        description:
          'Text written on every change, one line per availability; "default" (Any other) covers those left empty, and AvailableIdle/BusyIdle fall back to Available/Busy. Include the line ending: RED\\n (a backslash and n, as typed in the form).',
      }),
  })
  .strict();


export type SerialInputConfig = z.output<typeof serialInputSchema>;
export type SerialOutputConfig = z.output<typeof serialOutputSchema>;

declare module '../config/schema.js' {
  interface FeatureInputTypes {
    serial: SerialInputConfig;
  }
  interface FeatureOutputTypes {
    serial: SerialOutputConfig;
  }
}
