import { malformed } from '../domain/malformed';
import { populationForRate } from '../domain/population';
import { Random } from '../domain/random';
import { Simulation } from '../domain/simulator';
import { BodyWriter, type RecordPiece } from './record-piece';

/** What to simulate: plain data, so it can be posted to a thread. Times are epoch milliseconds. */
export interface RecordOptions {
  count: number;
  fraudRate: number;
  seed: number;
  window: { from: number; to: number };
  ratePerSecond: number;
  /** Share of deliberately broken bodies, for the dead-letter path. */
  malformedRate: number;
}

export interface RecordTally {
  fraud: number;
  malformed: number;
  /** UTF-8 bytes of the bodies. */
  bytes: number;
  /** The population's size. */
  accounts: number;
}

/**
 * The producer's records, made piece by piece: simulated transactions (fraud at `fraudRate`), some
 * broken on purpose at `malformedRate`, serialised. Same options, same records, wherever it runs.
 */
export class RecordMaker {
  private readonly simulation: Simulation;
  private readonly breakage: Random;
  private readonly tallied: RecordTally;

  constructor(private readonly options: RecordOptions) {
    const population = populationForRate(options.ratePerSecond);
    this.simulation = new Simulation({
      count: options.count,
      fraudRate: options.fraudRate,
      seed: options.seed,
      window: { from: new Date(options.window.from), to: new Date(options.window.to) },
      population,
    });
    this.breakage = new Random(options.seed ^ 0x5bd1e995);
    this.tallied = { fraud: 0, malformed: 0, bytes: 0, accounts: population.size };
  }

  get remaining(): number {
    return this.simulation.remaining;
  }

  get tally(): RecordTally {
    return { ...this.tallied };
  }

  /** The next `max` records (fewer at the end). */
  next(max: number): RecordPiece {
    const transactions = this.simulation.take(max);
    const keys: string[] = [];
    const ends = new Uint32Array(transactions.length);
    const bodies = new BodyWriter(transactions.length);
    const rate = this.options.malformedRate;
    for (const [i, transaction] of transactions.entries()) {
      const broken = rate > 0 && this.breakage.chance(rate);
      if (broken) this.tallied.malformed++;
      else if (transaction.label?.fraud) this.tallied.fraud++;
      keys.push(transaction.accountId);
      ends[i] = bodies.write(broken ? malformed(transaction, this.breakage) : JSON.stringify(transaction));
    }
    this.tallied.bytes += bodies.length;
    return { keys, bodies: bodies.written(), ends };
  }
}
