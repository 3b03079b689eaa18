import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';

type Listener<T> = (payload: T) => void;

/** A listen-only view of a {@link TypedEvents}: subscribe and unsubscribe, never emit. */
export interface EventListeners<Events extends { [K in keyof Events]: unknown }> {
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void;
}

/**
 * A typed event bus. Each listener is guarded: one that throws is logged and the others still
 * run, so a faulty output never breaks the signal path.
 */
export class TypedEvents<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly logger: Logger) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener);
  }

  /** Whether anyone listens to `event`: lets an emitter skip building a payload nobody reads. */
  listens(event: keyof Events): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        this.logger.error(`listener for "${String(event)}" failed: ${errorMessage(error)}`);
      }
    }
  }

  /**
   * What features get: a frozen object with `on` and `off` only. It holds no reference a caller
   * could reach `emit` through, so only the bus's owner can say what happened.
   */
  listenOnly(): EventListeners<Events> {
    return Object.freeze({
      on: <K extends keyof Events>(event: K, listener: Listener<Events[K]>) => this.on(event, listener),
      off: <K extends keyof Events>(event: K, listener: Listener<Events[K]>) => this.off(event, listener),
    });
  }

  removeAll(): void {
    this.listeners.clear();
  }
}
