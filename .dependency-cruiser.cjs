/**
 * `npm run lint`'s layer rules (depcruise): no import cycles; the scheduler and the worker never
 * import each other (what both need, e.g. the run-id format, lives in src/queues/); the engine takes
 * the job registry as an input, so nothing under src/ but the wiring (src/app/) imports jobs/; the
 * database layer does not import the control plane above it.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'An import cycle: move what both sides share into a module each imports.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'scheduler-not-worker',
      severity: 'error',
      comment: 'The scheduler and the worker never import each other; put what both need in src/queues/.',
      from: { path: '^src/scheduler/' },
      to: { path: '^src/worker/' },
    },
    {
      name: 'worker-not-scheduler',
      severity: 'error',
      comment: 'The scheduler and the worker never import each other; put what both need in src/queues/.',
      from: { path: '^src/worker/' },
      to: { path: '^src/scheduler/' },
    },
    {
      name: 'engine-not-jobs',
      severity: 'error',
      comment:
        'The job registry is an input: only the wiring (src/app/) imports jobs/; the engine takes a JobRegistry.',
      // Tests next to the code that need tickflow's own job types take them from src/app/jobs.ts too.
      from: { path: '^src/', pathNot: ['^src/app/'] },
      to: { path: '^jobs/' },
    },
    {
      name: 'db-not-control',
      severity: 'error',
      comment:
        'The control plane sits on the database: what both need of a run (run-views.ts) lives in src/db/.',
      from: { path: '^src/db/' },
      to: { path: '^src/control/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // Type-only imports count too: a cycle through types is still a cycle for a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
    cache: false,
  },
};
