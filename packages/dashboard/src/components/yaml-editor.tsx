import { forwardRef, useImperativeHandle, useRef, type UIEvent } from 'react';

export interface LineProblem {
  line: number;
  message: string;
}

export interface YamlEditorHandle {
  /** Focuses the editor with the caret at the start of a 1-based line. */
  goToLine(line: number): void;
}

/**
 * A plain textarea with a line-number gutter that marks the lines the server found problems on.
 * No wrapping, so gutter rows and text lines stay aligned.
 */
export const YamlEditor = forwardRef<YamlEditorHandle, { id: string; label: string; value: string; problems: LineProblem[]; readOnly: boolean; onChange(text: string): void }>(
  function YamlEditor({ id, label, value, problems, readOnly, onChange }, ref) {
    const textarea = useRef<HTMLTextAreaElement>(null);
    const gutter = useRef<HTMLDivElement>(null);
    const lines = value.split('\n').length;
    const byLine = new Map<number, string[]>();
    for (const problem of problems) byLine.set(problem.line, [...(byLine.get(problem.line) ?? []), problem.message]);

    useImperativeHandle(ref, () => ({
      goToLine(line) {
        const element = textarea.current;
        if (!element) return;
        const offset = value.split('\n').slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
        element.focus();
        element.setSelectionRange(offset, offset);
        const lineHeight = parseFloat(getComputedStyle(element).lineHeight) || 20;
        element.scrollTop = Math.max(0, (line - 4) * lineHeight);
      },
    }));

    const scroll = (event: UIEvent<HTMLTextAreaElement>): void => {
      if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
    };

    return (
      <div className="editor">
        <div className="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => {
            const messages = byLine.get(i + 1);
            return (
              <div key={i} className={messages ? 'gutter-line has-error' : 'gutter-line'} title={messages?.join('\n')} data-line={i + 1}>
                {messages ? '● ' : ''}
                {i + 1}
              </div>
            );
          })}
        </div>
        <textarea
          id={id}
          ref={textarea}
          aria-label={label}
          aria-invalid={problems.length > 0}
          className="code"
          value={value}
          readOnly={readOnly}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          wrap="off"
          onScroll={scroll}
          onChange={(event) => onChange(event.target.value)}
          onKeyDown={(event) => {
            // Tab inserts two spaces (YAML indentation); Escape then Tab leaves the editor.
            if (event.key !== 'Tab' || event.shiftKey || readOnly || event.currentTarget.dataset.escaped === 'true') return;
            event.preventDefault();
            const element = event.currentTarget;
            const { selectionStart, selectionEnd } = element;
            onChange(`${value.slice(0, selectionStart)}  ${value.slice(selectionEnd)}`);
            requestAnimationFrame(() => element.setSelectionRange(selectionStart + 2, selectionStart + 2));
          }}
          onKeyUp={(event) => {
            event.currentTarget.dataset.escaped = event.key === 'Escape' ? 'true' : 'false';
          }}
        />
      </div>
    );
  },
);
