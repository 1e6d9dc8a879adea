/** Matrix products: MatMul (batched, broadcast, 1-D operands) and Gemm. */
import { attrFloat, attrInt } from '../../proto.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { defineRule, dy0 } from '../rule.ts';

/**
 * Y = A B. dA = dY B^T, dB = A^T dY, summed over broadcast batch axes. A 1-D operand is a row
 * (A) or column (B) vector whose inserted axis is removed from the result.
 */
export const MatMul = defineRule('MatMul', ['A', 'B'], (ctx) => {
  const {
    b,
    input: { A: a, B: bm },
  } = ctx;
  const g = dy0(ctx);
  if (b.rank(a!) === 1 && b.rank(bm!) === 1) return { A: ctx.needs('A') ? b.mul(g, bm!) : null, B: ctx.needs('B') ? b.mul(g, a!) : null };
  // Give 1-D operands (and g) their implicit axis back, then use the matrix formulas.
  const a2 = asMatrix(b, a!, 0);
  const b2 = asMatrix(b, bm!, -1);
  const g2 = withUnitAxes(b, g, a!, bm!);
  const da = ctx.needs('A') ? b.unbroadcast(b.op('MatMul', [g2, b.transposeLastTwo(b2)]), a2) : null;
  const db = ctx.needs('B') ? b.unbroadcast(b.op('MatMul', [b.transposeLastTwo(a2), g2]), b2) : null;
  return { A: da && a2 !== a ? b.reshapeLike(da, a!) : da, B: db && b2 !== bm ? b.reshapeLike(db, bm!) : db };
});

/**
 * [1] where MatMul promotes the operand x from 1-D to a matrix, [] where not; found at run time
 * when x's rank is unknown.
 */
function unitAxis(b: GraphBuilder, x: string): string {
  const r = b.rank(x);
  if (r !== undefined) return b.ints(r === 1 ? [1] : []);
  return b.op('Slice', [b.ints([1]), b.ints([0]), b.sub(b.ints([2]), b.shape(b.shape(x)))]);
}

function concat(b: GraphBuilder, parts: string[]): string {
  return b.op('Concat', parts, { axis: 0 });
}

/** Operand x as MatMul reads it: a 1-D x gains a unit axis at `axis` (0: row, -1: column). */
function asMatrix(b: GraphBuilder, x: string, axis: 0 | -1): string {
  const r = b.rank(x);
  if (r === 1) return b.op('Unsqueeze', [x, b.ints([axis])]);
  if (r !== undefined) return x;
  const unit = unitAxis(b, x);
  return b.reshape(x, concat(b, axis === 0 ? [unit, b.shape(x)] : [b.shape(x), unit]));
}

/** g with the axes MatMul dropped for 1-D operands: A's row axis before B's column axis. */
function withUnitAxes(b: GraphBuilder, g: string, a: string, bm: string): string {
  const ra = b.rank(a);
  const rb = b.rank(bm);
  if (ra !== undefined && rb !== undefined) {
    const rowAxis = ra === 1 ? b.op('Unsqueeze', [g, b.ints([-2])]) : g;
    return rb === 1 ? b.op('Unsqueeze', [rowAxis, b.ints([-1])]) : rowAxis;
  }
  const [unitA, unitB] = [unitAxis(b, a), unitAxis(b, bm)];
  const shape = b.shape(g);
  // The row axis goes before g's last axis if B contributed one (B not 1-D), else at the end.
  const at = b.add(b.sub(b.shape(shape), b.ints([1])), b.shape(unitB));
  const head = b.op('Slice', [shape, b.ints([0]), at]);
  const tail = b.op('Slice', [shape, at, b.ints([Number.MAX_SAFE_INTEGER])]);
  return b.reshape(g, concat(b, [head, unitA, tail, unitB]));
}

/**
 * Y = alpha A' B' + beta C with A' = transA ? A^T : A, B' likewise. Each adjoint is itself one
 * Gemm with the transposition flags chosen so that no Transpose node is needed.
 */
export const Gemm = defineRule('Gemm', ['A', 'B', 'C'], (ctx) => {
  const {
    b,
    node,
    input: { A: a, B: bm, C: c },
  } = ctx;
  const g = dy0(ctx);
  const alpha = attrFloat(node, 'alpha', 1);
  // A float attribute is float32 to the runtime; a double scalar must hold that value, not the literal.
  const beta = Math.fround(attrFloat(node, 'beta', 1));
  const transA = attrInt(node, 'transA', 0);
  const transB = attrInt(node, 'transB', 0);
  const gemm = (x: string, y: string, tA: number, tB: number) => b.op('Gemm', [x, y], { alpha: { f: alpha }, transA: tA, transB: tB });
  const da = ctx.needs('A') ? (transA ? gemm(bm!, g, transB, 1) : gemm(g, bm!, 0, 1 - transB)) : null;
  const db = ctx.needs('B') ? (transB ? gemm(g, a!, 1, transA) : gemm(a!, g, 1 - transA, 0)) : null;
  let dc: string | null = null;
  if (c && ctx.needs('C')) {
    const scaled = beta === 1 ? g : b.mul(g, b.scalar(beta, g));
    dc = b.unbroadcast(scaled, c);
  }
  return { A: da, B: db, C: dc };
});
