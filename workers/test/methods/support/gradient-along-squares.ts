/**
 * The check the official fixtures give on a loss graph's gradient without storing gradients
 * (fixtures/arena-official/README.md, grad_dot_maps_sq): the derivative of the loss along
 * P -> P + eps P^2, i.e. the sum over the layers read of dL/dP * P^2, P the probabilities fed.
 */
import * as ort from 'onnxruntime-node';
import { buildMethodLossModel, mapsPrompt, methodLossFeeds, type LossModel } from '../../../src/methods/loss-model.ts';
import type { MapsFile } from '../../../src/methods/maps-file.ts';
import type { AnyMethod } from '../../../src/methods/method.ts';
import { grad } from '../../../src/onnx/autodiff/grad.ts';
import { serializeModel } from '../../../src/onnx/model-io.ts';

export async function gradientAlongSquares(lossModel: LossModel, feeds: Record<string, ort.Tensor>): Promise<number> {
  const { model, gradients } = grad(
    lossModel.model,
    'loss',
    lossModel.layerInputs.map((l) => l.name),
  );
  const session = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
  try {
    const out = await session.run(feeds);
    let along = 0;
    lossModel.layerInputs.forEach((input, k) => {
      const p = feeds[input.name]!.data as Float32Array;
      const g = out[gradients[k]!]!.data as Float32Array;
      for (let j = 0; j < p.length; j++) along += g[j]! * p[j]! * p[j]!;
    });
    return along;
  } finally {
    await session.release();
  }
}

/** The same for a method's loss at step 0 of 50 (no refinement, nothing carried) on `maps`, with resolved `params`. */
export function methodGradientAlongSquares(method: AnyMethod, params: unknown, maps: MapsFile): Promise<number> {
  const lossModel = buildMethodLossModel(method, params, maps);
  const row = method.guidance!.prepareFromMaps(mapsPrompt(maps, 'left of'), params as never);
  return gradientAlongSquares(lossModel, methodLossFeeds(method, lossModel, maps, row, params, { index: 0, steps: 50, refinement: [false] }));
}
