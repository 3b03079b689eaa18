import { isAbsolute, resolve } from 'node:path';
import type { Startable } from '../bridgeTypes.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { ConfigReport, FeatureContext, FeatureDefinition } from '../feature.js';
import { HttpLightOutput } from './httpLightOutput.js';
import { BODY_KEYS, httpOutputSchema, type HttpOutputConfig } from './schema.js';

export { HttpLightOutput } from './httpLightOutput.js';
export { buildRequest, describeTarget } from './request.js';
export { httpOutputSchema, type HttpOutputConfig } from './schema.js';

export type ResolvedHttpOutput = HttpOutputConfig & { readonly user: string };

interface Resolved {
  readonly outputs: ResolvedHttpOutput[];
  readonly problems: { readonly path: string; readonly message: string }[];
}

/**
 * The `http` entries of `outputs`, read from the config as the registry hands it over (the
 * variant is merged into the outputs union by the registry; parsed again here so this feature
 * does not depend on the assembled type). Each gets its user: the one named, or the only one.
 */
function resolveOutputs(config: PresenceBridgeConfig): Resolved {
  const outputs: ResolvedHttpOutput[] = [];
  const problems: { path: string; message: string }[] = [];
  const entries: readonly unknown[] = config.outputs;
  entries.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || (entry as { type?: unknown }).type !== 'http') return;
    const parsed = httpOutputSchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ path: [`outputs[${index}]`, ...issue.path].join('.'), message: issue.message });
      return;
    }
    for (const key of Object.keys(parsed.data.body)) {
      if (!BODY_KEYS.some((k) => k.toLowerCase() === key.toLowerCase())) problems.push({ path: `outputs[${index}].body.${key}`, message: `is not an availability; use ${BODY_KEYS.join(', ')}` });
    }
    const user = parsed.data.user ?? (config.users.length === 1 ? config.users[0]?.key : undefined);
    if (user === undefined) {
      problems.push({ path: `outputs[${index}].user`, message: 'name the user whose presence this output shows (more than one user is configured)' });
      return;
    }
    if (!config.users.some((u) => u.key === user)) {
      problems.push({ path: `outputs[${index}].user`, message: `no user with key "${user}"` });
      return;
    }
    outputs.push({ ...parsed.data, user });
  });
  return { outputs, problems };
}

class HttpOutputs implements Startable {
  constructor(private readonly outputs: readonly HttpLightOutput[]) {}

  async start(): Promise<void> {
    for (const output of this.outputs) await output.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.outputs.map((output) => output.stop()));
  }
}

/** HTTP outputs for lights (issue 18 part 3): WLED, Shelly, ntfy, Hue, webhooks. */
export const httpOutputFeature: FeatureDefinition<readonly ResolvedHttpOutput[]> = {
  name: 'httpOutput',
  outputTypes: [httpOutputSchema],
  check(config: PresenceBridgeConfig, report: ConfigReport): void {
    for (const problem of resolveOutputs(config).problems) report.error(problem.path, problem.message);
  },
  select(config: PresenceBridgeConfig): readonly ResolvedHttpOutput[] | null {
    const { outputs } = resolveOutputs(config);
    return outputs.length > 0 ? outputs : null;
  },
  create(outputs: readonly ResolvedHttpOutput[], context: FeatureContext): Startable {
    return new HttpOutputs(
      outputs.map((output) => {
        const caFile = output.caFile === undefined || isAbsolute(output.caFile) ? output.caFile : resolve(context.storagePath, output.caFile);
        return new HttpLightOutput({ output: caFile === undefined ? output : { ...output, caFile }, context });
      }),
    );
  },
};
