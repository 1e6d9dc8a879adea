/**
 * Picking attention layers by name pattern (docs/method.md §4 `layers`). Names are module paths with
 * dots, as docs/method.md writes them (`up_blocks.1.attentions.0.transformer_blocks.0.attn2`); an
 * exported graph's scopes (`/up_blocks.1/attentions.0/...`) are read the same way. A pattern is such
 * a path in which `*` stands for any run of characters within one segment (no dot) and `{a,b,c}`
 * for one of the listed texts (letters, digits, `_`, `-`, dots); it matches the whole path or a
 * trailing part of it that starts at a segment (exporters sometimes add a scope on top).
 *
 * Patterns come from users, through the API, so they never become regular expressions: one
 * compiles to a small automaton that is run on all of its states at once (Thompson's
 * construction), which takes at most (path length + 1) x 2 x (pattern states) steps whatever the
 * pattern, where a backtracking engine takes exponential time on a crafted one.
 */

/** The longest pattern accepted (a layer path is about 60 characters). */
export const MAX_LAYER_PATTERN_LENGTH = 200;

export class LayerPatternError extends Error {}

type State =
  | { kind: 'char'; char: string; next: number }
  /** any character but '.', staying here; or on to the next state without one */
  | { kind: 'star' }
  /** on to any of `next` without a character */
  | { kind: 'split'; next: number[] }
  | { kind: 'jump'; next: number }
  | { kind: 'accept' };

/** Counts the automaton's steps (tests check the bound). */
export interface StepCounter {
  steps: number;
}

export interface LayerPattern {
  readonly source: string;
  /** the automaton's size: a test takes at most (path length + 1) x 2 x states steps */
  readonly states: number;
  /** Whether the dotted path, or a trailing part of it starting at a segment, matches. */
  test(path: string, counter?: StepCounter): boolean;
}

const NAME_CHAR = /^[A-Za-z0-9_-]$/;

function fail(pattern: string, message: string): never {
  throw new LayerPatternError(`layer pattern '${pattern}': ${message}`);
}

/** The pattern's automaton; its syntax errors say what and where. */
function compile(pattern: string): State[] {
  if (pattern.length === 0) fail(pattern, 'is empty');
  if (pattern.length > MAX_LAYER_PATTERN_LENGTH) fail(`${pattern.slice(0, 40)}...`, `is ${pattern.length} characters long, over ${MAX_LAYER_PATTERN_LENGTH}`);
  if (pattern.startsWith('/'))
    fail(
      pattern,
      'regular expressions are not accepted; write a dotted module path with * (within one segment) and {a,b} alternatives, e.g. up_blocks.*.attentions.{0,1}.transformer_blocks.0.attn2',
    );
  if (pattern.startsWith('.') || pattern.endsWith('.') || pattern.includes('..')) fail(pattern, 'has an empty segment (a dot at either end, or two in a row)');
  const states: State[] = [];
  const char = (c: string) => states.push({ kind: 'char', char: c, next: states.length + 1 });
  let at = 0;
  while (at < pattern.length) {
    const c = pattern[at]!;
    if (c === '*') {
      states.push({ kind: 'star' });
      at++;
    } else if (c === '{') {
      const close = pattern.indexOf('}', at);
      if (close < 0) fail(pattern, `the '{' at ${at + 1} is not closed`);
      const alternatives = pattern.slice(at + 1, close).split(',');
      const split: State & { kind: 'split' } = { kind: 'split', next: [] };
      states.push(split);
      const jumps: Array<State & { kind: 'jump' }> = [];
      for (const text of alternatives) {
        if (text === '') fail(pattern, `the alternatives at ${at + 1} include an empty one`);
        const bad = [...text].find((t) => t !== '.' && !NAME_CHAR.test(t));
        if (bad) fail(pattern, `alternatives are plain text (letters, digits, _, -, .), not '${bad}' (at ${at + 1})`);
        split.next.push(states.length);
        for (const t of text) char(t);
        const jump: State & { kind: 'jump' } = { kind: 'jump', next: -1 };
        states.push(jump);
        jumps.push(jump);
      }
      for (const jump of jumps) jump.next = states.length;
      at = close + 1;
    } else if (c === '.' || NAME_CHAR.test(c)) {
      char(c);
      at++;
    } else {
      fail(pattern, `'${c}' (at ${at + 1}) is not allowed: use letters, digits, _, -, dots, * and {a,b}`);
    }
  }
  states.push({ kind: 'accept' });
  return states;
}

/** Compiles a pattern; a LayerPatternError says what is wrong with it. */
export function compileLayerPattern(pattern: string): LayerPattern {
  const states = compile(pattern);
  return {
    source: pattern,
    states: states.length,
    test(path: string, counter: StepCounter = { steps: 0 }): boolean {
      // seen[s] === generation: state s is already in this generation's list
      const seen = new Int32Array(states.length).fill(-1);
      const enter = (start: number, generation: number, list: number[]) => {
        const stack = [start];
        while (stack.length > 0) {
          const s = stack.pop()!;
          if (seen[s] === generation) continue;
          seen[s] = generation;
          counter.steps++;
          const state = states[s]!;
          if (state.kind === 'split') stack.push(...state.next);
          else if (state.kind === 'jump') stack.push(state.next);
          else {
            list.push(s);
            if (state.kind === 'star') stack.push(s + 1);
          }
        }
      };
      let current: number[] = [];
      enter(0, 0, current);
      for (let i = 0; i < path.length; i++) {
        const c = path[i]!;
        const next: number[] = [];
        for (const s of current) {
          counter.steps++;
          const state = states[s]!;
          if (state.kind === 'char' && state.char === c) enter(state.next, i + 1, next);
          else if (state.kind === 'star' && c !== '.') enter(s, i + 1, next);
        }
        // a match may also start at the next segment
        if (c === '.') enter(0, i + 1, next);
        current = next;
      }
      return current.includes(states.length - 1);
    },
  };
}

/** What is wrong with a pattern, or null when it compiles. */
export function layerPatternProblem(pattern: string): string | null {
  try {
    compile(pattern);
    return null;
  } catch (err) {
    if (err instanceof LayerPatternError) return err.message;
    throw err;
  }
}

export function dottedPath(blockPath: string): string {
  return blockPath.replace(/^\/+/, '').replace(/\//g, '.');
}

/** The layers (block paths) any of the patterns matches, in their order. */
export function selectLayers<T extends { block: string }>(layers: readonly T[], patterns: readonly string[]): T[] {
  const compiled = patterns.map(compileLayerPattern);
  return layers.filter((layer) => {
    const path = dottedPath(layer.block);
    return compiled.some((p) => p.test(path));
  });
}
