// A background worker that runs one step of work now and then: on a timer, at once when nudged
// (new work arrived), and again at once while a step reports there is more. One step runs at a
// time; `stop` waits for the step in progress. A failing step is logged and retried at the next
// tick (its transaction rolled back, nothing half-done).
import type { Logger } from '@usageflow/telemetry';

export interface PollerOptions {
  name: string;
  logger: Logger;
  /** How long to wait between steps when there is nothing new. */
  intervalMs: number;
  /** One step of work; resolves true when there may be more to do right away. */
  step: () => Promise<boolean>;
}

/** A polled worker with `start`, `stop` and `nudge` (see the file comment). */
export class Poller {
  readonly name: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: PollerOptions) {
    this.name = options.name;
    if (!(options.intervalMs > 0)) throw new Error(`${options.name}: intervalMs must be positive`);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs a step as soon as possible (after the one in progress, if any). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.again ? 0 : this.options.intervalMs);
        this.again = false;
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      if (await this.options.step()) this.again = true;
    } catch (err) {
      this.options.logger.error({ err, worker: this.name }, 'worker step failed; retrying at the next tick');
    }
  }
}
