/** A loop started by {@link repeat}. */
export interface Repeating {
  /** Ends the loop after the run in progress, if any, has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `once` after `firstDelayMs`, then again `everyMs` after each run ends, until stopped. A run's
 * rejection goes to `onError`; the loop goes on. Its timers do not keep the process alive.
 */
export function repeat(once: () => Promise<void>, everyMs: number, onError: (e: unknown) => void, firstDelayMs = everyMs): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      running = once()
        .catch(onError)
        .finally(() => {
          if (!stopped) schedule(everyMs);
        });
    }, ms);
    timer.unref();
  };
  schedule(firstDelayMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Loops owned by one object, stopped together when it closes. */
export class Loops {
  readonly #loops = new Set<Repeating>();

  /** Tracks `loop`; its returned handle runs `beforeStop` first and forgets the loop once stopped. */
  add(loop: Repeating, beforeStop: () => void = () => {}): Repeating {
    const handle: Repeating = {
      stop: async () => {
        beforeStop();
        await loop.stop();
        this.#loops.delete(handle);
      },
    };
    this.#loops.add(handle);
    return handle;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#loops].map((l) => l.stop()));
  }
}
