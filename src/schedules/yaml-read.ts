import fs from 'node:fs/promises';
import {
  Composer,
  CST,
  Document,
  isAlias,
  isNode,
  isPair,
  isScalar,
  Lexer,
  LineCounter,
  type Node,
  Parser,
  visit,
  type YAMLError,
} from 'yaml';
import { ProblemList, SchedulesFileError, type YamlPath } from './problems';

/**
 * Reading a schedules file as YAML, hardened against what a file can do to its reader: a size
 * limit, a nesting depth measured before the document is composed, and a count of alias
 * expansions. What the plain data means (defaults, triggers, params, topics) is load.ts's.
 */

/** The largest schedules file read; a bigger one is refused before it is read or parsed. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Maps and lists inside each other, the top-level map being level 1 (a schedule's params are at 4). */
export const MAX_NESTING = 32;
/** Alias expansions (`*name` copying what `&name` marks) in the whole file, nested ones included. */
export const MAX_ALIAS_EXPANSIONS = 100;

/** The file's text; an unreadable or too large file is a SchedulesFileError like any other problem with it. */
export async function readSchedulesText(file: string): Promise<string> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) throw tooLarge(file, size);
    return await handle.readFile('utf8');
  } catch (error) {
    if (error instanceof SchedulesFileError) throw error;
    throw new SchedulesFileError(file, [
      { file, line: 1, column: 1, message: `cannot read the file (${(error as Error).message})` },
    ]);
  } finally {
    await handle?.close();
  }
}

function tooLarge(file: string, bytes: number): SchedulesFileError {
  return new SchedulesFileError(file, [
    {
      file,
      line: 1,
      column: 1,
      message: `the file is ${bytes} bytes, over the limit of ${MAX_FILE_BYTES} bytes (${MAX_FILE_BYTES / 2 ** 20} MiB); a schedules file needs far less: check what wrote it`,
    },
  ]);
}

/**
 * The text as plain data (its one YAML document), or a SchedulesFileError locating each problem
 * with it; the ProblemList it returns locates the problems found later in the same document.
 */
export function readYamlDocument(text: string, file: string): { value: unknown; problems: ProblemList } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) throw tooLarge(file, bytes);
  const { doc, problems } = parseYaml(text, file);
  for (const error of doc.errors) reportYamlError(error, doc, text, problems);
  problems.throwIfAny();
  checkAliases(doc, problems);
  problems.throwIfAny();
  const value = toJS(doc, problems);
  problems.throwIfAny();
  return { value, problems };
}

/**
 * The file's one YAML document, composed only once its nesting is known to be within MAX_NESTING:
 * composing recurses, and a deep enough file exhausts the stack (and can even abort the process,
 * in V8's regexp compiler), so the depth is measured on the syntax tree, which the parser builds
 * without recursion.
 */
function parseYaml(text: string, file: string): { doc: Document.Parsed; problems: ProblemList } {
  const lineCounter = new LineCounter();
  const { tokens, stoppedAt } = syntaxTree(text, lineCounter);
  const deep = tooDeepAt(tokens) ?? stoppedAt;
  if (deep !== undefined) {
    const problems = new ProblemList(file, new Document(), lineCounter);
    problems.atOffset(
      deep,
      `nested more than ${MAX_NESTING} levels deep (maps and lists inside each other); a schedules file needs a few levels`,
    );
    problems.throwIfAny();
  }
  const [doc, second] = new Composer({ uniqueKeys: true }).compose(tokens, true, text.length);
  if (!doc) throw new Error('the YAML composer made no document');
  const problems = new ProblemList(file, doc, lineCounter);
  if (second) {
    problems.atOffset(
      second.range[0],
      'a second YAML document starts here; a schedules file is one document: remove the --- line and what follows, or merge them',
    );
  }
  return { doc, problems };
}

/**
 * The syntax tree, read no further than the first map or list past MAX_NESTING (the parser's
 * stack holds the open ones): a deep file then costs no more to refuse than its first levels.
 */
function syntaxTree(text: string, lineCounter: LineCounter): { tokens: CST.Token[]; stoppedAt?: number } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let stoppedAt: number | undefined;
  for (const lexeme of new Lexer().lex(text)) {
    tokens.push(...parser.next(lexeme));
    if (parser.stack.length <= MAX_NESTING) continue;
    stoppedAt = parser.stack.filter(CST.isCollection)[MAX_NESTING]?.offset;
    if (stoppedAt !== undefined) break;
  }
  tokens.push(...parser.end());
  return { tokens, ...(stoppedAt === undefined ? {} : { stoppedAt }) };
}

/** A map or list still to measure, or a `key: value` written in a flow list (`[a: 1]`), a map of its own. */
type Nested = { level: number } & (
  | { token: CST.Token | null | undefined }
  | { pairAt: number; key: CST.Token | null | undefined; value: CST.Token | undefined }
);

/** Where the first map or list deeper than MAX_NESTING starts, in file order; undefined if none is. */
function tooDeepAt(tokens: CST.Token[]): number | undefined {
  // Depth first with a stack of its own, children pushed last first so that they come in file order.
  const pending: Nested[] = tokens.map((token) => ({ token, level: 0 })).reverse();
  for (let next = pending.pop(); next; next = pending.pop()) {
    if ('pairAt' in next) {
      if (next.level + 1 > MAX_NESTING) return next.pairAt;
      pending.push({ token: next.value, level: next.level + 1 }, { token: next.key, level: next.level + 1 });
      continue;
    }
    const { token, level } = next;
    if (token?.type === 'document') pending.push({ token: token.value, level: 0 });
    if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') {
      continue;
    }
    const depth = level + 1;
    if (depth > MAX_NESTING) return token.offset;
    const inList = token.type === 'flow-collection' && token.start.source === '[';
    for (const { key, sep, value } of [...token.items].reverse()) {
      const pairAt = key?.offset ?? value?.offset;
      if (inList && sep && pairAt !== undefined) pending.push({ pairAt, key, value, level: depth });
      else pending.push({ token: value, level: depth }, { token: key, level: depth });
    }
  }
  return undefined;
}

/**
 * Counts alias expansions as the file written out in full would have them, nested ones included
 * (the "billion laughs": each level multiplies the one before), and stops at the first alias past
 * MAX_ALIAS_EXPANSIONS or with no anchor before it.
 */
function checkAliases(doc: Document.Parsed, problems: ProblemList): void {
  const anchors = new Map<string, Node>();
  const within = new Map<Node, number>();
  let total = 0;
  visit(doc, {
    Node(_, node, path) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
        return;
      }
      const at = node.range?.[0] ?? 0;
      const target = anchors.get(node.source);
      if (!target) {
        problems.atOffset(
          at,
          `alias *${node.source} has no anchor &${node.source} before it; mark the value with &${node.source} first, or write it out`,
        );
        return visit.BREAK;
      }
      // An alias inside its own anchor (a loop) has no count yet: it counts once.
      const expansions = 1 + (within.get(target) ?? 0);
      total += expansions;
      if (total > MAX_ALIAS_EXPANSIONS) {
        problems.atOffset(at, tooManyAliases);
        return visit.BREAK;
      }
      for (const outer of path) {
        if (isNode(outer) && outer.anchor) within.set(outer, (within.get(outer) ?? 0) + expansions);
      }
    },
  });
}

const tooManyAliases = `too many alias expansions (YAML anchors & and aliases *): at most ${MAX_ALIAS_EXPANSIONS}; write the values out`;

/** The document as plain data; the library's own alias limit stays as a second guard. */
function toJS(doc: Document.Parsed, problems: ProblemList): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    const excessive = /alias count/i.test((error as Error).message);
    let at = 0;
    if (excessive) {
      visit(doc, {
        Alias(_, node) {
          at = node.range?.[0] ?? 0;
          return visit.BREAK;
        },
      });
    }
    problems.atOffset(at, excessive ? tooManyAliases : `cannot read the YAML: ${(error as Error).message}`);
    return undefined;
  }
}

function reportYamlError(error: YAMLError, doc: Document.Parsed, text: string, problems: ProblemList) {
  const [start, end] = error.pos;
  if (error.code !== 'DUPLICATE_KEY') {
    problems.atOffset(start, `not valid YAML: ${error.message.split('\n')[0]}`);
    return;
  }
  const key = text.slice(start, end);
  const parents = keyPathAt(doc, start);
  if (parents.length === 1 && parents[0] === 'schedules') {
    problems.atOffset(start, `two schedules are named "${key}"; each schedule needs its own name`, [
      'schedules',
      key,
    ]);
  } else {
    problems.atOffset(start, `"${key}" appears twice in the same map; keep one`, [...parents, key]);
  }
}

/** The keys leading to the map that holds the key starting at `offset`. */
function keyPathAt(doc: Document.Parsed, offset: number): YamlPath {
  let found: YamlPath = [];
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = ancestors.filter(isPair).map((p) => String(isScalar(p.key) ? p.key.value : p.key));
        return visit.BREAK;
      }
    },
  });
  return found;
}
