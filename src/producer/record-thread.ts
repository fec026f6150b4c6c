/**
 * A thread that makes the producer's records (startThread('src/producer/record-thread')): one piece
 * per request, so the thread never runs more than the requests ahead of the sender.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecordMaker, type RecordOptions } from './records';

export interface RecordThreadData extends RecordOptions {
  /** Records per piece. */
  pieceSize: number;
}

const { pieceSize, ...options } = workerData as RecordThreadData;
const maker = new RecordMaker(options);

parentPort?.on('message', () => {
  if (maker.remaining === 0) return;
  const records = maker.next(pieceSize);
  // The last piece carries the tally: the run's counts are complete with it.
  // The bodies' buffer is moved to the sender's thread, not copied (it is the piece's own).
  parentPort?.postMessage({ piece: records, tally: maker.remaining === 0 ? maker.tally : undefined }, [
    records.bodies.buffer as ArrayBuffer,
    records.ends.buffer as ArrayBuffer,
  ]);
});
