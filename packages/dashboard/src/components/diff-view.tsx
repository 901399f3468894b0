import type { FileDiff } from '../api/types';

/** Unified diffs, one per changed file, with added and removed lines marked. */
export function DiffView({ files }: { files: FileDiff[] }) {
  if (files.length === 0) return <p className="state empty">The two versions have identical sources.</p>;
  return (
    <div className="diffs">
      {files.map((file) => (
        <section key={file.file} className="diff" aria-label={`Changes to ${file.file}`}>
          <h3>
            <span className="mono">{file.file}</span> <span className={`badge diff-${file.status}`}>{file.status}</span>
          </h3>
          <pre tabIndex={0}>
            {file.patch
              .split('\n')
              .filter((line) => !line.startsWith('===') && !line.startsWith('Index:'))
              .map((line, i) => (
                <span key={i} className={lineClass(line)}>
                  {line}
                  {'\n'}
                </span>
              ))}
          </pre>
        </section>
      ))}
    </div>
  );
}

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return 'diff-file';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  if (line.startsWith('@@')) return 'diff-hunk';
  return 'diff-ctx';
}
