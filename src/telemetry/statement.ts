/** What a PostgreSQL statement's span says of it: low-cardinality name, operation and table. */
export interface Statement {
  /** `COPY transactions`, `INSERT account_profiles`, `COMMIT`: the operation and its table, if any. */
  name: string;
  operation: string;
  table?: string;
  /** The statement, its whitespace collapsed (tickflow's statements carry no values: those are parameters). */
  text: string;
}

/** The table each kind of statement names, after its keyword(s). */
const TABLE_AFTER: Record<string, RegExp> = {
  COPY: /^copy\s+([\w.]+)/i,
  INSERT: /^insert\s+into\s+([\w.]+)/i,
  UPDATE: /^update\s+([\w.]+)/i,
  DELETE: /^delete\s+from\s+([\w.]+)/i,
  TRUNCATE: /^truncate\s+(?:table\s+)?([\w.]+)/i,
  CREATE: /^create\s+(?:temp(?:orary)?\s+)?table\s+(?:if\s+not\s+exists\s+)?([\w.]+)/i,
  // The first table it reads (not a function such as unnest(…)).
  SELECT: /\sfrom\s+([\w.]+)\b(?!\s*\()/i,
};

export function statementOf(sql: string): Statement {
  const text = sql.trim().replace(/\s+/g, ' ');
  const operation = (text.match(/^\w+/)?.[0] ?? 'SQL').toUpperCase();
  const table = TABLE_AFTER[operation]?.exec(text)?.[1];
  return { name: table ? `${operation} ${table}` : operation, operation, text, ...(table ? { table } : {}) };
}
