'use client';
import { useState } from 'react';
import { hiddenColumnsCookie } from '@/lib/hidden-columns';

export interface PickableColumn {
  key: string;
  label: string;
}

/**
 * Check boxes that show or hide the columns of the tables inside `[data-board="{board}"]` whose cells
 * carry `data-col="{key}"`. The choice is kept in a cookie of this browser, so that the server renders the
 * page with the same columns hidden (no flash of hidden columns, nothing that waits for hydration).
 * Keyboard-operable: a disclosure of labelled check boxes.
 */
export function ColumnPicker({ board, columns, initiallyHidden }: { board: string; columns: readonly PickableColumn[]; initiallyHidden: readonly string[] }) {
  const [hidden, setHidden] = useState<readonly string[]>(initiallyHidden);
  const toggle = (key: string, shown: boolean) => {
    const next = shown ? hidden.filter((k) => k !== key) : [...hidden, key];
    setHidden(next);
    document.cookie = hiddenColumnsCookie(board, next);
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
