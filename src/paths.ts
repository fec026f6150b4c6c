import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root (the folder of its package.json), found from this module wherever it runs
 * from: src/ under tsx, or dist/ once built. Files shipped beside the code (migrations, the web
 * UI's static files, the Kafka pom) are read from here.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const PROJECT_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

export const projectPath = (...parts: string[]): string => path.join(PROJECT_ROOT, ...parts);
