/** Matrix products: MatMul (batched, broadcast, 1-D operands) and Gemm. */
import { attrFloat, attrInt } from '../../proto.ts';
import { dy0, type GradientRule } from '../rule.ts';

/**
 * Y = A B. dA = dY B^T, dB = A^T dY, summed over broadcast batch axes. A 1-D operand is a row
 * (A) or column (B) vector whose inserted axis is removed from the result.
 */
export const MatMul: GradientRule = {
  opType: 'MatMul',
  vjp: (ctx) => {
    const { b, inputs: [a, bm] } = ctx;
    const g = dy0(ctx);
    const ra = b.rank(a!);
    const rb = b.rank(bm!);
    if (ra === 1 && rb === 1) return [ctx.needs(0) ? b.mul(g, bm!) : null, ctx.needs(1) ? b.mul(g, a!) : null];
    // Give 1-D operands (and the matching axis of g) their implicit axis back, then use the 2-D formulas.
    const a2 = ra === 1 ? b.op('Unsqueeze', [a!, b.ints([0])]) : a!;
    const b2 = rb === 1 ? b.op('Unsqueeze', [bm!, b.ints([-1])]) : bm!;
    let g2 = g;
    if (ra === 1) g2 = b.op('Unsqueeze', [g2, b.ints([-2])]);
    if (rb === 1) g2 = b.op('Unsqueeze', [g2, b.ints([-1])]);
    const da = ctx.needs(0) ? b.unbroadcast(b.op('MatMul', [g2, b.transposeLastTwo(b2)]), a2) : null;
    const db = ctx.needs(1) ? b.unbroadcast(b.op('MatMul', [b.transposeLastTwo(a2), g2]), b2) : null;
    return [da && ra === 1 ? b.reshapeLike(da, a!) : da, db && rb === 1 ? b.reshapeLike(db, bm!) : db];
  },
};

/**
 * Y = alpha A' B' + beta C with A' = transA ? A^T : A, B' likewise. Each adjoint is itself one
 * Gemm with the transposition flags chosen so that no Transpose node is needed.
 */
export const Gemm: GradientRule = {
  opType: 'Gemm',
  vjp: (ctx) => {
    const { b, node, inputs: [a, bm, c] } = ctx;
    const g = dy0(ctx);
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const transA = attrInt(node, 'transA', 0);
    const transB = attrInt(node, 'transB', 0);
    const gemm = (x: string, y: string, tA: number, tB: number) => b.op('Gemm', [x, y], { alpha: { f: alpha }, transA: tA, transB: tB });
    const da = ctx.needs(0) ? (transA ? gemm(bm!, g, transB, 1) : gemm(g, bm!, 0, 1 - transB)) : null;
    const db = ctx.needs(1) ? (transB ? gemm(g, a!, 1, transA) : gemm(a!, g, 1 - transA, 0)) : null;
    let dc: string | null = null;
    if (c && ctx.needs(2)) {
      const scaled = beta === 1 ? g : b.mul(g, b.scalar(beta, g));
      dc = b.unbroadcast(scaled, c);
    }
    return [da, db, dc];
  },
};
