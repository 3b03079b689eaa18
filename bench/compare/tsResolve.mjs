// Module resolve hook for the benchmarks: they run on plain Node (22.18+ strips TypeScript types)
// and reuse the tests' helpers, whose imports name `./x.js` for a `./x.ts` file as TypeScript
// expects. When such a `.js` import from a `.ts` file is not found, try the `.ts` file.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}
