/** A field of the input and what is wrong with it, e.g. `{ field: 'count', message: 'expected a number' }`. */
export interface InputIssue {
  field: string;
  message: string;
}

/** Asked for a schedule or run that does not exist (HTTP 404, CLI exit 1). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** Asked of a run in a state that does not allow it, e.g. cancelling a finished run (HTTP 409, CLI exit 1). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** Input that cannot be used, each problem naming its field (HTTP 400, CLI exit 1). */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    message: string,
    readonly issues: InputIssue[],
  ) {
    super(
      issues.length ? `${message}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}` : message,
    );
  }
}

export function unknownSchedule(name: string, known: string[]): NotFoundError {
  const list = known.length ? known.sort().join(', ') : 'none (is the scheduler running?)';
  return new NotFoundError(`no schedule named "${name}"; known schedules: ${list}`);
}

/** A change asked of a read-only server (WEB_READ_ONLY=true; HTTP 403). */
export class ReadOnlyError extends Error {
  override name = 'ReadOnlyError';
  constructor() {
    super('this tickflow is read-only (WEB_READ_ONLY=true): use the CLI on the server to change state');
  }
}

/** Too many of a caller's manual runs of a schedule are queued already (HTTP 429). */
export class TooManyRunsError extends Error {
  override name = 'TooManyRunsError';
}
