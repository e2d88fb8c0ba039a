import type { Clock } from '../shared/clock.js';

/** Lines the host keeps for `inspect()` and the devtools panel. */
export const HOST_LOG_LINES = 200;
/** Closes and refresh rounds the host keeps for `inspect()`. */
export const HOST_HISTORY_ENTRIES = 20;

/** Appends `item` to `list`, dropping the oldest entries beyond `max`. */
export function keepLast<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** One line of the host's log. */
export interface HostLogLine {
  /** Epoch ms (host clock). */
  at: number;
  line: string;
}

/**
 * The host's log: connects, closes with code and reason, refreshes, failovers, handovers. Keeps
 * the last {@link HOST_LOG_LINES} lines and forwards each to the tabs (their `debug` option prints
 * them). Never holds a token.
 */
export class HostLog {
  readonly #clock: Clock;
  readonly #forward: (line: string, at: number) => void;
  readonly #lines: HostLogLine[] = [];

  /**
   * @param clock - time source
   * @param forward - called with every line (the host broadcasts it to tabs)
   */
  constructor(clock: Clock, forward: (line: string, at: number) => void) {
    this.#clock = clock;
    this.#forward = forward;
  }

  /** Appends a line. */
  write(line: string): void {
    const at = this.#clock.now();
    keepLast(this.#lines, { at, line }, HOST_LOG_LINES);
    this.#forward(line, at);
  }

  /** The kept lines, oldest first. */
  recent(): HostLogLine[] {
    return [...this.#lines];
  }
}
