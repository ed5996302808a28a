/**
 * Runs an idempotent task for many concurrent callers, with one guarantee each caller needs: the
 * run that answers it started after it called. A run already under way may have started before a
 * caller's own write committed, so it cannot vouch for that write; the caller waits for the next
 * run instead, and everyone who arrives while one is under way shares that next run.
 *
 * Alone, a caller costs one run, as if it ran the task itself. Under load it is one run per run
 * time, however many callers: the group commit of reads that must be fresh (the authorization
 * revision) and of drains that must cover a caller's own entries (the outbox).
 */
export class FreshSharedRun<A, T> {
  /** The run under way, settled either way; null when none is. */
  private running: Promise<void> | null = null;
  /** The run that starts when `running` ends, with the merged argument of everyone waiting for it. */
  private queued: { argument: A; readonly result: Promise<T> } | null = null;

  /**
   * @param task the work; it must be safe to run for several callers at once (idempotent)
   * @param merge combines two callers' arguments into one that serves both (e.g. the higher target)
   * @param onIdle called when the last run ends with no one waiting (lets a keyed owner forget this)
   */
  constructor(
    private readonly task: (argument: A) => Promise<T>,
    private readonly merge: (a: A, b: A) => A = (a) => a,
    private readonly onIdle: () => void = () => undefined,
  ) {}

  run(argument: A): Promise<T> {
    if (this.running === null) return this.start(argument);
    if (this.queued !== null) {
      this.queued.argument = this.merge(this.queued.argument, argument);
      return this.queued.result;
    }
    const queued: { argument: A; result: Promise<T> } = {
      argument,
      result: this.running.then(() => {
        this.queued = null;
        return this.start(queued.argument);
      }),
    };
    this.queued = queued;
    return queued.result;
  }

  private start(argument: A): Promise<T> {
    const result = this.task(argument);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.running = settled;
    // Registered before any waiter's continuation, so it runs first when the run ends.
    void settled.then(() => {
      if (this.running !== settled) return;
      this.running = null;
      if (this.queued === null) this.onIdle();
    });
    return result;
  }
}
