/** Number formatting and the figure-vs-reference line every streaming bench prints. */

export const rate = (count: number, ms: number): number => count / (ms / 1000);

export const fmt = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });

export const megabytes = (bytes: number): string => `${fmt(bytes / 1024 / 1024)} MB`;

/** `label  value | reference  value | ratio× (goal ≥ 0.5×)`: a figure always next to what bounds it. */
export function againstReference(
  label: string,
  value: string,
  reference: { label: string; value: string },
  ratio: number,
  note: string,
): string {
  return `${label.padEnd(28)}${value} | ${reference.label} ${reference.value} | ${ratio.toFixed(2)}× (${note})`;
}

/** A bench's `--name=value` option from the command line (`npm run bench -- schedules --sizes=100`). */
export function benchOption(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}
