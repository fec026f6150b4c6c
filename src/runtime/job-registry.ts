import { z } from 'zod';
import { type FieldIssue, fieldIssues } from '../field-issues';
import type { JobDefinition } from './job';

/** Params a job's own schema refused; `details` names each field and what it expects, on one line. */
export class JobParamsError extends Error {
  override name = 'JobParamsError';
  constructor(
    readonly job: string,
    readonly details: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(`params do not fit job ${job}: ${details}`);
  }
}

/** The keys of a job's params schema (a zod object); none when it is not an object. */
function paramNamesOf(definition: JobDefinition): string[] {
  const shape = (definition.params as { shape?: unknown }).shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

/** A job type and its params as its own schema checked them. */
export interface ResolvedJob {
  definition: JobDefinition;
  params: Record<string, unknown>;
}

/**
 * The job types a process knows, by name: what a schedule may name in `job:` and what a worker can
 * run. An input to the engine, made by each process's wiring (src/app/jobs.ts) or by a test.
 */
export class JobRegistry {
  private readonly byName = new Map<string, JobDefinition>();

  constructor(definitions: readonly JobDefinition[]) {
    for (const definition of definitions) {
      if (this.byName.has(definition.name)) throw new Error(`two job types are named "${definition.name}"`);
      const params = paramNamesOf(definition);
      const unknown = (definition.overridable ?? []).filter((name) => !params.includes(name));
      if (unknown.length)
        throw new Error(
          `job type "${definition.name}" declares overridable ${unknown.join(', ')}, not among its params (${params.join(', ')})`,
        );
      this.byName.set(definition.name, definition);
    }
  }

  /** The top-level params a job type's schema accepts (empty for an unknown type). */
  paramNames(name: string): string[] {
    const definition = this.byName.get(name);
    return definition ? paramNamesOf(definition) : [];
  }

  /** The params a trigger may override when the schedule lists none: the job type's harmless ones. */
  overridableOf(name: string): readonly string[] {
    return this.byName.get(name)?.overridable ?? [];
  }

  /** The job type of this name, if registered. */
  get(name: string): JobDefinition | undefined {
    return this.byName.get(name);
  }

  /** The registered job types' names, in registration order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The message-count fields of a job type's result (see JobDefinition; none for an unknown type). */
  messageCountsOf(name: string): readonly string[] {
    return this.byName.get(name)?.messageCounts ?? [];
  }

  /**
   * The job type and its params checked by the job's own schema, for every path that starts a run
   * without going through schedules.yaml (the worker, `tickflow trigger`).
   */
  resolve(name: string, input: unknown): ResolvedJob {
    const definition = this.byName.get(name);
    if (!definition) {
      throw new Error(
        `unknown job type "${name}"; job types: ${this.names().join(', ')} (see jobs/index.ts)`,
      );
    }
    const parsed = definition.params.safeParse(input);
    if (!parsed.success) {
      const issues = fieldIssues(parsed.error.issues, '(params)');
      throw new JobParamsError(name, z.prettifyError(parsed.error).replace(/\n/g, ' '), issues);
    }
    return { definition, params: parsed.data as Record<string, unknown> };
  }
}
