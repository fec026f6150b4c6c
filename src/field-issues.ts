/**
 * zod's issues named by field, for every input tickflow checks with zod and answers about by field:
 * job params (schedules.yaml, `tickflow trigger`, the worker) and the REST API's bodies and queries.
 */

/** One field an input's schema refused: its path (`predictor.url`) and what it expects. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * zod's issues as `{ field, message }`: the dotted path of the field, and for an unknown key the key
 * itself (zod reports it on its parent). `root` names the field of an issue about the whole input.
 */
export function fieldIssues(
  issues: readonly {
    path: readonly PropertyKey[];
    message: string;
    code: string;
    keys?: readonly string[];
  }[],
  root: string,
): FieldIssue[] {
  return issues.map((issue) => {
    const path =
      issue.code === 'unrecognized_keys' && issue.keys ? [...issue.path, issue.keys.join(', ')] : issue.path;
    return { field: path.map(String).join('.') || root, message: issue.message };
  });
}
