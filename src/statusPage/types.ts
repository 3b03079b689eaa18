import type { DemoButtons } from './statusRoutes.js';

export interface StatusPageSlice {
  /** Title on the page: the config's `name`. */
  readonly name: string;
}

/** Extras of the demo's page: its sped-up time and its buttons. */
export interface DemoPageOptions {
  readonly name?: string;
  readonly timeScale: number;
  readonly demo: DemoButtons;
}
