'use client';
import { useEffect, useState } from 'react';

export interface PickableColumn {
  key: string;
  label: string;
}

/**
 * Check boxes that show or hide the columns of the tables inside `[data-board="{board}"]` whose cells
 * carry `data-col="{key}"`; the choice is kept in this browser (localStorage). Keyboard-operable: a
 * disclosure of labelled check boxes.
 */
export function ColumnPicker({ board, columns }: { board: string; columns: readonly PickableColumn[] }) {
  const storageKey = `infsplign-columns-${board}`;
  const [hidden, setHidden] = useState<string[]>([]);
  // After hydration: the server cannot know this browser's choice.
  useEffect(() => {
    try {
      const saved = JSON.parse(window.localStorage.getItem(storageKey) ?? '[]') as unknown;
      if (Array.isArray(saved)) setHidden(saved.filter((k): k is string => typeof k === 'string'));
    } catch {
      // A malformed saved choice: show every column.
    }
  }, [storageKey]);
  const toggle = (key: string, shown: boolean) => {
    const next = shown ? hidden.filter((k) => k !== key) : [...hidden, key];
    setHidden(next);
    window.localStorage.setItem(storageKey, JSON.stringify(next));
  };
  return (
    <>
      <details className="column-picker">
        <summary>
          Columns ({columns.length - hidden.filter((k) => columns.some((c) => c.key === k)).length} of {columns.length} shown)
        </summary>
        <fieldset>
          <legend>Show these columns</legend>
          {columns.map((c) => (
            <label key={c.key}>
              <input type="checkbox" checked={!hidden.includes(c.key)} onChange={(e) => toggle(c.key, e.target.checked)} data-column={c.key} /> {c.label}
            </label>
          ))}
        </fieldset>
      </details>
      {/* !important: the phone layout's card cells set their own display. */}
      <style>{hidden.map((key) => `[data-board=${JSON.stringify(board)}] [data-col=${JSON.stringify(key)}] { display: none !important; }`).join('\n')}</style>
    </>
  );
}
