'use client';
import { useState, type ReactNode } from 'react';

/** Two switches over an image grid: boxes, and their labels with scores. */
export function BoxesToggle({ children }: { children: ReactNode }) {
  const [boxes, setBoxes] = useState(true);
  const [labels, setLabels] = useState(true);
  return (
    <div className={`${boxes ? '' : 'hide-boxes'} ${labels ? '' : 'hide-labels'}`}>
      <div className="actions">
        <label>
          <input type="checkbox" checked={boxes} onChange={(e) => setBoxes(e.target.checked)} /> Show detected boxes
        </label>
        <label>
          <input type="checkbox" checked={labels} onChange={(e) => setLabels(e.target.checked)} disabled={!boxes} /> Labels and scores
        </label>
      </div>
      {children}
    </div>
  );
}
