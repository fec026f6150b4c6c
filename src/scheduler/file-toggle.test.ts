import { describe, expect, it } from 'vitest';
import { fileToggle } from './file-toggle';

describe('fileToggle: when the file `enabled:` moves the switch', () => {
  it.each([
    [true, undefined, 'resume'],
    [false, undefined, 'pause'],
    [true, false, 'resume'],
    [false, true, 'pause'],
    [true, true, undefined],
    [false, false, undefined],
  ] as const)('file %s, remembered %s → %s', (file, remembered, expected) => {
    expect(fileToggle(file, remembered)).toBe(expected);
  });
});
