import pg from 'pg';

// How tickflow reads PostgreSQL's numbers, on every connection (the pool's, a transaction thread's).
// NUMERIC comes back as a string by default; amounts here fit a double with 2 decimals.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
