/**
 * What a server bench started and must stop, and a watchdog that stops all of it and ends the
 * process when the run overruns its budget (benches are bounded in time).
 *
 * @example
 * ```ts
 * const budget = new RunBudget('load', 120_000);
 * const server = await startServer();
 * budget.add(() => server.stop());
 * await budget.finish(); // stops what was added, newest first, and disarms the watchdog
 * ```
 */
export class RunBudget {
  readonly #stops: Array<() => Promise<void>> = [];
  readonly #watchdog: ReturnType<typeof setTimeout>;

  /**
   * @param name - the bench, for the message when it overruns
   * @param budgetMs - how long the run may take
   */
  constructor(name: string, budgetMs: number) {
    this.#watchdog = setTimeout(() => {
      console.error(`${name}: the run exceeded ${budgetMs / 1000} s; stopping`);
      void this.stopAll().finally(() => process.exit(1));
    }, budgetMs);
  }

  /** Registers something to stop; stops run newest first. */
  add(stop: () => Promise<void>): void {
    this.#stops.push(stop);
  }

  /** Stops everything added so far (a failing stop does not keep the others from running). */
  async stopAll(): Promise<void> {
    for (const stop of this.#stops.splice(0).reverse()) await stop().catch(() => {});
  }

  /** Stops everything and disarms the watchdog: the run is over. */
  async finish(): Promise<void> {
    await this.stopAll();
    clearTimeout(this.#watchdog);
  }
}
