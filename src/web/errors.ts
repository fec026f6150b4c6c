import { ZodError } from 'zod';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ReadOnlyError,
  TooManyRunsError,
} from '../control/errors';
import { fieldIssues } from '../field-issues';

export interface HttpError {
  status: number;
  body: { error: string; issues?: { field: string; message: string }[] };
}

/** The HTTP answer to an error of the control plane; anything unexpected is a 500 without details. */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof InvalidInputError)
    return { status: 400, body: { error: error.message, issues: error.issues } };
  if (error instanceof ZodError) {
    const issues = fieldIssues(error.issues, '(body)');
    return {
      status: 400,
      body: { error: `invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, issues },
    };
  }
  if (error instanceof NotFoundError) return { status: 404, body: { error: error.message } };
  if (error instanceof ConflictError) return { status: 409, body: { error: error.message } };
  if (error instanceof ReadOnlyError) return { status: 403, body: { error: error.message } };
  if (error instanceof TooManyRunsError) return { status: 429, body: { error: error.message } };
  return { status: 500, body: { error: 'internal error (see the server log)' } };
}
