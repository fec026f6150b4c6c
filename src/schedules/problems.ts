import path from 'node:path';
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';

export type YamlPath = (string | number)[];

/** One thing wrong with a schedules file, located precisely enough to fix it without searching. */
export interface ScheduleProblem {
  file: string;
  line: number;
  column: number;
  schedule?: string;
  field?: string;
  message: string;
}

export function formatProblem(p: ScheduleProblem): string {
  const where = [
    p.schedule === undefined ? undefined : `schedule "${p.schedule}"`,
    p.field === undefined ? undefined : `field "${p.field}"`,
  ].filter(Boolean);
  const relative = path.relative(process.cwd(), p.file);
  const file = relative && !relative.startsWith('..') ? relative : p.file;
  return `${file}:${p.line}:${p.column}: ${where.length ? `${where.join(', ')}: ` : ''}${p.message}`;
}

export class SchedulesFileError extends Error {
  override name = 'SchedulesFileError';
  constructor(
    readonly file: string,
    readonly problems: ScheduleProblem[],
  ) {
    super(
      `${problems.length} problem(s) in ${file}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
  }
}

/** Collects problems against the parsed YAML, turning a data path into file:line:column. */
export class ProblemList {
  readonly problems: ScheduleProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** `at: 'key'` points at the key itself (unknown fields, bad names), otherwise at the value. */
  add(dataPath: YamlPath, message: string, at: 'key' | 'value' = 'value'): void {
    const offset = this.offsetOf(dataPath, at);
    this.atOffset(offset, message, dataPath);
  }

  atOffset(offset: number, message: string, dataPath: YamlPath = []): void {
    const { line, col } = this.lines.linePos(offset);
    const inSchedule = dataPath[0] === 'schedules' && dataPath.length >= 2;
    const field = (inSchedule ? dataPath.slice(2) : dataPath).join('.');
    this.problems.push({
      file: this.file,
      line,
      column: col,
      ...(inSchedule ? { schedule: String(dataPath[1]) } : {}),
      ...(field ? { field } : {}),
      message,
    });
  }

  throwIfAny(): void {
    if (!this.problems.length) return;
    const inFileOrder = [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new SchedulesFileError(this.file, inFileOrder);
  }

  /** Walks as far down the path as the document goes (maps and lists); a missing field points at its parent's key. */
  private offsetOf(dataPath: YamlPath, at: 'key' | 'value'): number {
    let node: Node | null | undefined = this.doc.contents;
    let pair: Pair<Node, Node> | undefined;
    let complete = true;
    for (const [index, segment] of dataPath.entries()) {
      if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        // A list item has no key: it is its own place, when the path ends there.
        if (item && index === dataPath.length - 1) return item.range?.[0] ?? 0;
        if (!item) {
          complete = false;
          break;
        }
        node = item;
        continue;
      }
      const found: Pair<Node, Node> | undefined = isMap(node)
        ? (node.items as Pair<Node, Node>[]).find(
            (item) => isScalar(item.key) && String(item.key.value) === String(segment),
          )
        : undefined;
      if (!found) {
        complete = false;
        break;
      }
      pair = found;
      node = found.value;
    }
    const target = !complete || at === 'key' || !pair?.value ? pair?.key : pair.value;
    return target?.range?.[0] ?? 0;
  }
}
