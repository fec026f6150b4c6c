/** Nairobi is UTC+3 all year (no daylight saving). */
const EAT_OFFSET_HOURS = 3;

/** Hour of day in Nairobi, where the simulated accounts live. */
export function localHour(at: number): number {
  return (new Date(at).getUTCHours() + EAT_OFFSET_HOURS) % 24;
}

/** Midnight to 5 a.m. in Nairobi: when owners sleep, and fraud is likelier. */
export const isNight = (at: number) => localHour(at) < 5;
