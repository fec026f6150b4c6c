import { sleep } from '../scheduler/support';
import type { FaultWorld } from './world';

export interface Trigger {
  seed: number;
  count: number;
  ok: boolean;
  at: number;
  ms: number;
  error?: string;
}

/**
 * Producer runs triggered by hand, one after another, each with its own seed (`tickflow trigger
 * producer --param seed=…`), for as long as the suite runs. A trigger may fail while a service is
 * down (the CLI names it); the next one goes on with the next seed.
 */
export class ProducerLoop {
  readonly triggers: Trigger[] = [];
  private nextSeed = 1;
  private stopped = false;
  private running?: Promise<void>;

  constructor(
    private readonly world: FaultWorld,
    private readonly pauseMs = 500,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops after the trigger under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  async trigger(count?: number, seed = this.nextSeed++): Promise<Trigger> {
    const args = ['trigger', 'producer', '--param', `seed=${seed}`];
    if (count !== undefined) args.push('--param', `count=${count}`);
    const at = Date.now();
    const result = await this.world.cli(args);
    const trigger: Trigger = {
      seed,
      count: count ?? 500,
      ok: result.code === 0,
      at,
      ms: Date.now() - at,
      ...(result.code === 0 ? {} : { error: result.stderr.trim() }),
    };
    this.triggers.push(trigger);
    return trigger;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.trigger();
      await sleep(this.pauseMs);
    }
  }
}
