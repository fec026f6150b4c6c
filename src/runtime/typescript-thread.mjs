// A worker thread's entry when tickflow runs from source (tsx, vitest): registers tsx, then loads the
// TypeScript module named in argv. The built dist/ starts its threads on plain JS and skips this.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
