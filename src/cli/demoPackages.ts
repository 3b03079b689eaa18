/**
 * Packages only the demo and the emulator use. They are devDependencies: a Homebridge user who
 * installs the plugin does not download an MQTT broker and a certificate generator the bridge
 * never runs. A clone (`npm install`) has them, so `npm start` and the emulator work there.
 */
export const DEMO_PACKAGES = ['aedes', 'selfsigned', '@peculiar/x509'] as const;

/** Thrown when the demo or the emulator is asked for in an install without its packages. */
export class DemoPackagesMissing extends Error {
  constructor(what: string, missing: string) {
    super(
      `${what} needs the packages ${DEMO_PACKAGES.join(', ')} (${missing} is missing). They are not installed ` +
        'with the plugin, since only the demo and the emulator use them. From a clone of the project, ' +
        '`npm install` brings them; in an installed copy, run `npm install ' +
        `${DEMO_PACKAGES.join(' ')}\` in its folder.`,
    );
    this.name = 'DemoPackagesMissing';
  }
}

function missingPackage(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return undefined;
  return DEMO_PACKAGES.find((name) => e.message.includes(`'${name}'`) || e.message.includes(`"${name}"`) || e.message.includes(`${name}/`));
}

/** Imports a module that needs the demo packages, turning their absence into one clear error. */
export async function loadWithDemoPackages<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = missingPackage(error);
    if (missing !== undefined) throw new DemoPackagesMissing(what, missing);
    throw error;
  }
}
