import { base, en, Faker } from '@faker-js/faker';
import { describe, expect, it } from 'vitest';
import { Random } from './random';

describe('Random.faker (the English-only build)', () => {
  it('draws what faker loaded from the package root with [en, base] draws for the same seed', () => {
    const draws = (faker: Faker) => [
      faker.person.fullName(),
      faker.company.name(),
      faker.location.city(),
      faker.string.uuid(),
      faker.number.int({ min: 0, max: 1_000_000 }),
    ];
    for (const seed of [1, 42, 2024]) {
      const root = new Faker({ locale: [en, base] });
      root.seed(seed);
      // A Random seeds its own stream with faker's first four words.
      for (let i = 0; i < 4; i++) root.number.int({ min: 0, max: 0xffffffff });
      expect(draws(new Random(seed).faker)).toEqual(draws(root));
    }
  });
});
