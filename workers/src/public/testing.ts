/** For the API's tests and benchmarks only: Shapes pictures, PNG encoding, the evaluate processor and worker threads, to stand in for workers. */
export { renderScene } from '../shapes/render.ts';
export { SHAPES_WORLD } from '../shapes/world.ts';
export { encodePng, writePng } from '../image/png.ts';
export { evaluateChunk } from '../jobs/evaluate-chunk.ts';
export { runInThread } from '../jobs/run-in-thread.ts';
