import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm run bench [name…]`: runs every bench/*.bench.ts (or the named ones). Each file's default
 * export prints its own figures and ratios; benches need the services (`tickflow services up`).
 */
const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => wanted.length === 0 || wanted.includes(file.replace(/\.bench\.ts$/, '')))
  .sort();

for (const file of files) {
  console.log(`\n== ${file.replace(/\.bench\.ts$/, '')} ==`);
  const bench = (await import(path.join(dir, file))) as { default: () => Promise<void> };
  await bench.default();
}
process.exit(0);
