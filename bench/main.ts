import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm run bench [name…] [--option=value…]`: runs every bench/*.bench.ts (or the named ones). Each
 * file's default export prints its own figures and ratios; benches need the services (`tickflow
 * services up`). Options are a bench's own (benchOption), e.g. `npm run bench -- schedules --sizes=100`.
 */
const dir = import.meta.dirname;
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const available = fs
  .readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.replace(/\.bench\.ts$/, ''))
  .sort();
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length) {
  console.error(`error: no bench named ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const files = available
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .map((name) => `${name}.bench.ts`);

for (const file of files) {
  console.log(`\n== ${file.replace(/\.bench\.ts$/, '')} ==`);
  const bench = (await import(path.join(dir, file))) as { default: () => Promise<void> };
  await bench.default();
}
process.exit(0);
