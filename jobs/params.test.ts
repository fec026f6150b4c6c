import { describe, expect, it } from 'vitest';
import { JobParamsError } from '../src/runtime/job-registry';
import { jobs } from './index';

/** The message a schedule author or `tickflow trigger` user sees for bad params. */
function refusal(job: string, params: unknown): string {
  try {
    jobs.resolve(job, params);
  } catch (error) {
    if (error instanceof JobParamsError) return error.details;
    throw error;
  }
  throw new Error(`params were accepted: ${JSON.stringify(params)}`);
}

describe('job params: bad input is refused naming the field and what it expects', () => {
  it.each([
    ['producer-batch', { fraudRate: 2 }, /fraudRate is a share from 0 to 1.*fraudRate/],
    ['producer-batch', { count: 0 }, /count/],
    ['producer-batch', { colour: 'red' }, /colour/],
    ['producer-batch', { ratePerSecond: 0 }, /ratePerSecond is count ÷ the schedule interval/],
    ['producer-batch', { ratePerSecond: 200_000 }, /ratePerSecond above 100,000/],
    ['consumer-batch', { predictionsTopic: '' }, /predictionsTopic/],
    ['stream-rollup', { windowSize: '1500ms' }, /whole seconds.*windowSize/],
    ['consumer-batch', { batchSize: 1.5 }, /batchSize/],
    ['consumer-batch', { predictor: { type: 'oracle' } }, /predictor/],
    ['consumer-batch', { maxMessageBytes: 0 }, /maxMessageBytes/],
    ['consumer-batch', { predictor: { type: 'http', url: 'not a url' } }, /predictor\.url/],
    ['sleep', { ms: -1 }, /ms/],
  ])('%s %j', (job, params, expected) => {
    expect(refusal(job, params)).toMatch(expected);
  });

  it('names the job types when the type is unknown', () => {
    expect(() => jobs.resolve('nope', {})).toThrow(/unknown job type "nope"; job types: .*producer-batch/);
  });

  it('fills in defaults for what is left out', () => {
    expect(jobs.resolve('consumer-batch', {}).params).toMatchObject({
      batchSize: 100,
      maxWait: 1_000,
      threshold: 0.5,
      maxMessageBytes: 1_000_000,
    });
  });

  it('names each refused field by its path, an unknown nested param included', () => {
    try {
      jobs.resolve('consumer-batch', {
        batchSize: 'many',
        predictor: { type: 'http', url: 'http://127.0.0.1:9/predict', bogus: 1 },
      });
      expect.unreachable('the params should be refused');
    } catch (error) {
      expect((error as JobParamsError).issues.map((issue) => issue.field).sort()).toEqual([
        'batchSize',
        'predictor.bogus',
      ]);
    }
  });
});
