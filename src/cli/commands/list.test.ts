import { describe, expect, it } from 'vitest';
import { watermarkText } from './list';

describe('`tickflow list` watermark column', () => {
  const now = new Date('2025-01-31T12:05:01.000Z');
  it('shows the time (UTC; with its date when not today) and how far behind, or none yet; nothing for other jobs', () => {
    expect(watermarkText({ watermark: { at: '2025-01-31T12:04:58.120Z', lagSeconds: 2.88 } }, now)).toBe(
      '12:04:58 (3s behind)',
    );
    expect(watermarkText({ watermark: { at: '2025-01-31T10:59:01.000Z', lagSeconds: 3_960 } }, now)).toBe(
      '10:59:01 (1h 6m behind)',
    );
    expect(watermarkText({ watermark: { at: '2025-01-29T12:05:01.000Z', lagSeconds: 172_800 } }, now)).toBe(
      '2025-01-29 12:05:01 (2d 0h behind)',
    );
    expect(watermarkText({ watermark: { at: '2025-01-31T12:05:05.000Z', lagSeconds: -4 } }, now)).toBe(
      '12:05:05 (4s ahead)',
    );
    expect(watermarkText({ watermark: { at: null, lagSeconds: null } }, now)).toBe('none yet');
    expect(watermarkText({ watermark: null }, now)).toBe('');
  });
});
