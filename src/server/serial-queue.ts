/** Caps of a {@link SerialQueue}. */
export interface SerialQueueLimits {
  /** Most tasks waiting or running. */
  maxTasks: number;
  /** Most bytes (as declared by `push`) waiting or running. */
  maxBytes: number;
}

/**
 * Runs tasks one at a time in the order they were pushed, async ones included, so that one
 * socket's frames are answered in order even while a token is being verified. Bounded, so that a
 * client cannot pile up frames behind a slow verification.
 */
export class SerialQueue {
  readonly #limits: SerialQueueLimits;
  readonly #onError: (error: unknown) => void;
  #tail: Promise<void> = Promise.resolve();
  #tasks = 0;
  #bytes = 0;

  /**
   * @param limits - caps on waiting work
   * @param onError - receives whatever a task throws or rejects with; the queue goes on
   */
  constructor(limits: SerialQueueLimits, onError: (error: unknown) => void) {
    this.#limits = limits;
    this.#onError = onError;
  }

  /**
   * Appends a task.
   *
   * @param bytes - the size it holds in memory until it ran
   * @param task - the work
   * @returns `false`, without queueing, when the task would exceed the limits
   */
  push(bytes: number, task: () => void | Promise<void>): boolean {
    if (this.#tasks >= this.#limits.maxTasks || this.#bytes + bytes > this.#limits.maxBytes) return false;
    this.#tasks++;
    this.#bytes += bytes;
    this.#tail = this.#tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#tasks--;
        this.#bytes -= bytes;
      }
    });
    return true;
  }
}
