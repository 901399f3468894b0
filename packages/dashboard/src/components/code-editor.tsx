import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorSelection, EditorState, type Text } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import type { Vocabulary } from './vocabulary';

/**
 * The policy editor: CodeMirror 6 with YAML highlighting, the server's problems as inline lint
 * marks at their line and column, and completion of the bundle's tool names, a tool's argument
 * fields after `args.`, and CEL functions and variables. Loaded on demand (policy-editor.tsx), so
 * the other views do not download it.
 */

export interface EditorProblem {
  line: number;
  column: number | null;
  message: string;
  detail?: string;
  code: string;
}

export interface CodeEditorHandle {
  /** Focuses the editor with the caret at a 1-based line (and column) and scrolls it into view. */
  goTo(line: number, column?: number | null): void;
}

interface Props {
  label: string;
  value: string;
  problems: EditorProblem[];
  readOnly: boolean;
  vocabulary: Vocabulary;
  onChange(text: string): void;
}

const CodeEditor = forwardRef<CodeEditorHandle, Props>(function CodeEditor({ label, value, problems, readOnly, vocabulary, onChange }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const change = useRef(onChange);
  change.current = onChange;
  const words = useRef(vocabulary);
  words.current = vocabulary;
  const editable = useRef(new Compartment());
  /** Texts this editor reported, newest last: a render may still carry one of them after more typing. */
  const emitted = useRef<string[]>([]);

  useEffect(() => {
    const created = new EditorView({
      parent: host.current as HTMLDivElement,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          yaml(),
          lintGutter(),
          autocompletion({ override: [(context) => complete(context, words.current)], activateOnTyping: true }),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
          EditorState.tabSize.of(2),
          editable.current.of(editability(readOnly)),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            const text = update.state.doc.toString();
            emitted.current.push(text);
            if (emitted.current.length > 100) emitted.current.shift();
            change.current(text);
          }),
        ],
      }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = undefined;
    };
    // The view is created once per file (the parent keys it); later values arrive below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // A value set from outside (not typed here) replaces the document. A value this editor reported
  // is never written back: React may render it after newer keystrokes, which it would undo.
  useEffect(() => {
    const current = view.current;
    if (!current || emitted.current.includes(value) || current.state.doc.toString() === value) return;
    emitted.current = [];
    current.dispatch({ changes: { from: 0, to: current.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: editable.current.reconfigure(editability(readOnly)) });
  }, [readOnly]);

  useEffect(() => {
    const current = view.current;
    if (!current) return;
    current.dispatch(setDiagnostics(current.state, problems.map((problem) => diagnostic(current.state.doc, problem))));
  }, [problems, value]);

  useImperativeHandle(ref, () => ({
    goTo(line, column) {
      const current = view.current;
      if (!current) return;
      const at = offsetOf(current.state.doc, line, column ?? 1);
      current.dispatch({ selection: EditorSelection.cursor(at), effects: EditorView.scrollIntoView(at, { y: 'center' }) });
      current.focus();
    },
  }));

  return <div className="code-editor" ref={host} data-testid="code-editor" />;
});

export default CodeEditor;

/** Read-only sources (a viewer's) cannot be focused for typing, and say so to assistive technology. */
function editability(readOnly: boolean) {
  return [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly), EditorView.contentAttributes.of({ 'aria-readonly': String(readOnly) })];
}

/** The document offset of a 1-based line and column, clamped to the document. */
function offsetOf(doc: Text, line: number, column: number): number {
  const target = doc.line(Math.min(Math.max(1, line), doc.lines));
  return Math.min(target.from + Math.max(0, column - 1), target.to);
}

/** A lint mark from the column to the end of the token there (the whole line when no column). */
function diagnostic(doc: Text, problem: EditorProblem): Diagnostic {
  const line = doc.line(Math.min(Math.max(1, problem.line), doc.lines));
  const from = problem.column === null ? line.from : offsetOf(doc, problem.line, problem.column);
  const rest = doc.sliceString(from, line.to);
  const token = /^("[^"]*"?|'[^']*'?|[^\s,)\]}]+)/.exec(rest)?.[0] ?? rest;
  const to = problem.column === null ? line.to : Math.min(line.to, from + Math.max(1, token.length));
  return {
    from,
    to: to > from ? to : Math.min(from + 1, doc.length),
    severity: 'error',
    source: problem.code,
    message: problem.message,
    renderMessage: () => {
      const box = document.createElement('div');
      box.className = 'lint-message';
      const text = document.createElement('div');
      text.textContent = problem.message;
      box.append(text);
      if (problem.detail) {
        const detail = document.createElement('div');
        detail.className = 'lint-detail';
        detail.textContent = `${problem.code}: ${problem.detail}`;
        box.append(detail);
      }
      return box;
    },
  };
}

const CEL_FUNCTIONS: Completion[] = [
  { label: 'size', type: 'function', detail: '(list | string | map) → int', apply: 'size(' },
  { label: 'has', type: 'function', detail: 'macro: has(args.field) → bool', apply: 'has(' },
  { label: 'matches', type: 'method', detail: "string.matches('re2')", apply: 'matches(' },
  { label: 'startsWith', type: 'method', detail: 'string.startsWith(prefix)', apply: 'startsWith(' },
  { label: 'endsWith', type: 'method', detail: 'string.endsWith(suffix)', apply: 'endsWith(' },
  { label: 'contains', type: 'method', detail: 'string.contains(part)', apply: 'contains(' },
  { label: 'lowerAscii', type: 'method', detail: 'string.lowerAscii()', apply: 'lowerAscii()' },
  { label: 'upperAscii', type: 'method', detail: 'string.upperAscii()', apply: 'upperAscii()' },
  { label: 'trim', type: 'method', detail: 'string.trim()', apply: 'trim()' },
  { label: 'exists', type: 'keyword', detail: 'macro: list.exists(x, cond)', apply: 'exists(x, ' },
  { label: 'all', type: 'keyword', detail: 'macro: list.all(x, cond)', apply: 'all(x, ' },
  { label: 'exists_one', type: 'keyword', detail: 'macro: list.exists_one(x, cond)', apply: 'exists_one(x, ' },
  { label: 'map', type: 'keyword', detail: 'macro: list.map(x, expr)', apply: 'map(x, ' },
  { label: 'filter', type: 'keyword', detail: 'macro: list.filter(x, cond)', apply: 'filter(x, ' },
  { label: 'int', type: 'function', detail: 'convert to a whole number', apply: 'int(' },
  { label: 'double', type: 'function', detail: 'convert to a number with decimals', apply: 'double(' },
  { label: 'string', type: 'function', detail: 'convert to a string', apply: 'string(' },
];

const CEL_VARIABLES: Completion[] = [
  { label: 'args', type: 'variable', detail: "the call's arguments" },
  { label: 'agent', type: 'variable', detail: 'agent id' },
  { label: 'role', type: 'variable', detail: "the agent's role" },
  { label: 'environment', type: 'variable', detail: "the agent's environment" },
  { label: 'tool', type: 'variable', detail: 'tool name' },
  { label: 'session', type: 'variable', detail: 'session attributes (map)' },
  { label: 'time', type: 'variable', detail: 'hour, minute, weekday, date, unix' },
];

/** Keys whose values are CEL expressions. */
const CEL_KEY = /^\s*(?:-\s+)?(when|sum|items|key)\s*:/;
/** Keys whose values name tools. */
const TOOL_KEY = /^\s*(?:-\s+)?(tool|tools)\s*:/;

function complete(context: CompletionContext, vocabulary: Vocabulary): CompletionResult | null {
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);

  // args.<field>: the fields of the tool the surrounding rule or limit names (all tools' otherwise).
  const field = /\bargs\.(\w*)$/.exec(before);
  if (field) {
    // Only tools the bundle declares narrow the list; a half-typed name does not empty it.
    const tools = toolsInScope(context.state.doc, line.number).filter((tool) => vocabulary.tools.has(tool));
    const fields = new Map<string, string>();
    for (const [tool, args] of vocabulary.tools) {
      if (tools.length > 0 && !tools.includes(tool)) continue;
      for (const arg of args) fields.set(arg.name, arg.type);
    }
    return {
      from: context.pos - (field[1] ?? '').length,
      options: [...fields].map(([name, type]) => ({ label: name, type: 'property', detail: type })),
      validFor: /^\w*$/,
    };
  }

  const word = context.matchBefore(/[\w-]*/);
  const from = word ? word.from : context.pos;
  if (TOOL_KEY.test(before)) {
    if (!word || (word.from === word.to && !context.explicit && !/[:[,]\s*$/.test(before))) return null;
    return { from, options: [...vocabulary.tools.keys()].map((name) => ({ label: name, type: 'class', detail: 'tool' })), validFor: /^[\w-]*$/ };
  }
  if (CEL_KEY.test(before) || inCelBlock(context.state.doc, line.number)) {
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const method = before.slice(0, from - line.from).endsWith('.');
    return { from, options: method ? CEL_FUNCTIONS.filter((f) => f.type !== 'function') : [...CEL_VARIABLES, ...CEL_FUNCTIONS], validFor: /^\w*$/ };
  }
  return null;
}

/** The tools named by the nearest `tool:` / `tools:` of the list item around a line. */
function toolsInScope(doc: Text, lineNumber: number): string[] {
  for (let n = lineNumber; n >= 1 && n > lineNumber - 40; n--) {
    const text = doc.line(n).text;
    const match = /^\s*(?:-\s+)?tools?\s*:\s*(.*)$/.exec(text);
    if (match) return (match[1] ?? '').replace(/[[\]'"]/g, '').split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (n < lineNumber && /^\s*-\s+id\s*:/.test(text)) break;
  }
  return [];
}

/** Inside a block scalar (`when: |`) that holds an expression. */
function inCelBlock(doc: Text, lineNumber: number): boolean {
  const indent = (text: string): number => text.length - text.trimStart().length;
  const own = indent(doc.line(lineNumber).text);
  for (let n = lineNumber - 1; n >= 1 && n > lineNumber - 20; n--) {
    const text = doc.line(n).text;
    if (text.trim() === '') continue;
    if (indent(text) < own) return CEL_KEY.test(text) && /:\s*[|>][-+]?\s*$/.test(text);
  }
  return false;
}
