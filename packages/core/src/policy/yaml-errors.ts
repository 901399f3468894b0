import { CST, Parser, type LineCounter, type YAMLError } from 'yaml';

/** Where a YAML syntax problem is, in plain words, with the parser's own text as `detail`. */
export interface YamlProblem {
  line: number;
  column: number;
  message: string;
  detail: string;
}

/**
 * One problem per broken document: the parser reports the first mistake and then every construct
 * the mistake throws off (one missing colon gives four messages over three lines), so only the
 * first the parser met is kept. It is moved to where the author made it when the parser noticed it
 * elsewhere: an unclosed quote or bracket at its opening character (the parser notices at the end
 * of the file or on the next line), an indentation slip at the line indented unlike its neighbours.
 */
export function firstYamlProblem(text: string, errors: readonly YAMLError[], lineCounter: LineCounter): YamlProblem | undefined {
  // The parser's own order: it reports the mistake it met first (sorting by position would put a
  // follow-on error, such as a duplicate key whose first occurrence is earlier, in front).
  const first = errors[0];
  if (!first) return undefined;
  const detail = first.message.split('\n')[0] ?? first.message;
  let offset = first.pos[0];
  let message = plain(first, detail);
  const opener = unclosedOpener(text, offset, detail);
  if (opener) {
    offset = opener.offset;
    message = opener.message;
  } else if (INDENT_CODES.has(first.code)) {
    const slip = indentationSlip(text, lineCounter.linePos(offset).line);
    if (slip) return { line: slip.line, column: slip.column, message: `this line's indentation does not line up with the lines around it (${slip.indent} spaces): indent it like its siblings`, detail };
  }
  const { line, col } = lineCounter.linePos(Math.min(offset, text.length));
  return { line, column: col, message, detail };
}

const INDENT_CODES = new Set<string>(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'UNEXPECTED_TOKEN', 'MULTILINE_IMPLICIT_KEY']);

/** Plain words for the parser messages authors meet most. */
function plain(error: YAMLError, detail: string): string {
  switch (error.code) {
    case 'TAB_AS_INDENT':
      return 'YAML indents with spaces, never tabs: replace the tab with spaces';
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (/compact mappings/.test(detail)) return "a value cannot contain ': ' (colon and space) unless it is quoted: quote the value, or put the nested key on a line of its own";
      return detail;
    case 'MULTILINE_IMPLICIT_KEY':
      return "a key must be followed by a colon and a space ('key: value') on the same line";
    case 'DUPLICATE_KEY':
      return 'this key appears twice in the same mapping: keep one';
    case 'BAD_INDENT':
      if (/same column/.test(detail)) return "this line's indentation does not line up with the keys around it";
      return detail;
    default:
      return detail;
  }
}

/** A quoted string or flow collection opened before `offset` and never closed. */
function unclosedOpener(text: string, offset: number, detail: string): { offset: number; message: string } | undefined {
  const wantsQuote = /closing .?quote/i.test(detail);
  const wantsBracket = /Flow (sequence|mapping)|end with a [\]}]/.test(detail);
  if (!wantsQuote && !wantsBracket) return undefined;
  let found: { offset: number; message: string } | undefined;
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    CST.visit(token, (item) => {
      for (const node of [item.key, item.value]) {
        if (!node || node.offset > offset) continue;
        if (wantsQuote && (node.type === 'double-quoted-scalar' || node.type === 'single-quoted-scalar')) {
          const quote = node.type === 'double-quoted-scalar' ? '"' : "'";
          if (!closedQuote(node.source, quote)) found = { offset: node.offset, message: `this ${quote}…${quote} string is never closed: add the closing ${quote}` };
        }
        if (wantsBracket && node.type === 'flow-collection') {
          const close = node.start.source === '[' ? ']' : '}';
          if (!node.end.some((end) => end.source === close)) found = { offset: node.start.offset, message: `this ${node.start.source} is never closed: add the ${close} on the same line` };
        }
      }
    });
  }
  return found;
}

function closedQuote(source: string, quote: string): boolean {
  if (source.length < 2 || !source.trimEnd().endsWith(quote)) return false;
  const body = source.trimEnd();
  if (quote === "'") return true;
  // A double quote escaped by an odd number of backslashes does not close the string.
  let slashes = 0;
  for (let i = body.length - 2; i >= 0 && body[i] === '\\'; i--) slashes++;
  return slashes % 2 === 0;
}

/**
 * The line near `near` whose indentation breaks the block structure: deeper than the line before
 * while that line opened nothing (a `key: value` is complete), or back to a level no enclosing
 * block uses. Comments, blank lines and the insides of block scalars are ignored.
 */
function indentationSlip(text: string, near: number): { line: number; column: number; indent: number } | undefined {
  const lines = text.split('\n');
  const open: number[] = [];
  let previous: { indent: number; opens: boolean; child: number } | undefined;
  let blockScalar: number | undefined;
  const slips: { line: number; column: number; indent: number }[] = [];
  /** Indentation of each content line outside block scalars, by 1-based line. */
  const indents = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    if (blockScalar !== undefined) {
      if (indent > blockScalar) continue;
      blockScalar = undefined;
    }
    indents.set(i + 1, indent);
    while (open.length > 0 && (open[open.length - 1] as number) > indent) open.pop();
    const top = open[open.length - 1];
    let slip = false;
    if (previous && indent > previous.indent) {
      // A deeper line is a child of an opening line, or a sibling key of a `- key: value` item.
      slip = !previous.opens && indent !== previous.child;
    } else if (top !== undefined && top !== indent) {
      slip = true; // back to a level no enclosing block opened
    }
    if (slip) slips.push({ line: i + 1, column: indent + 1, indent });
    if (top !== indent) open.push(indent);
    const dash = /^-\s+/.exec(content);
    const body = dash ? content.slice(dash[0].length) : content;
    const opens = /:\s*(#.*)?$/.test(body) || /^-\s*$/.test(content) || /[[{]\s*$/.test(body);
    if (/:\s*[|>][-+0-9]*\s*(#.*)?$/.test(body)) blockScalar = indent;
    previous = { indent, opens, child: dash ? indent + dash[0].length : -1 };
    if (dash) open.push(indent + dash[0].length);
  }
  // A line indented like no other line of the file is the likeliest slip; then the structural slip
  // closest to where the parser noticed, at most three lines before it or one after.
  const counts = new Map<number, number>();
  for (const indent of indents.values()) counts.set(indent, (counts.get(indent) ?? 0) + 1);
  const unique = [...indents].filter(([line, indent]) => line >= near - 3 && line <= near + 1 && counts.get(indent) === 1 && indents.size > 5);
  if (unique.length > 0) {
    unique.sort((a, b) => Math.abs(a[0] - near) - Math.abs(b[0] - near) || a[0] - b[0]);
    const [line, indent] = unique[0] as [number, number];
    return { line, column: indent + 1, indent };
  }
  const candidates = slips.filter((s) => s.line >= near - 3 && s.line <= near + 1);
  candidates.sort((a, b) => Math.abs(a.line - near) - Math.abs(b.line - near) || a.line - b.line);
  return candidates[0];
}
