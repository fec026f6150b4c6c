import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdLog } from './id-log';

describe('IdLog', () => {
  it('gives back every id in order, page by page, past its first buffer', () => {
    const ids = Array.from({ length: 2_500 }, () => randomUUID());
    const log = new IdLog();
    for (const id of ids) log.add(id);
    expect(log.size).toBe(2_500);
    const pages = [...log.pages(1_000)];
    expect(pages.map((page) => page.length)).toEqual([1_000, 1_000, 500]);
    expect(pages.flat()).toEqual(ids);
  });
});
