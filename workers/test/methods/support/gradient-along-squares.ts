/**
 * The check the official fixtures' `grad_dot_maps_sq` allows without storing gradients: the
 * derivative of a method's loss (its loss model on a maps file, differentiated by the project's
 * autodiff) along P -> P + eps P^2, i.e. the sum over the file's layers (and heads) of dL/dP * P^2.
 */
import * as ort from 'onnxruntime-node';
import { buildMethodLossModel, mapsPrompt, methodLossFeeds } from '../../../src/methods/loss-model.ts';
import type { MapsFile } from '../../../src/methods/maps-file.ts';
import type { AnyMethod } from '../../../src/methods/method.ts';
import { grad } from '../../../src/onnx/autodiff/grad.ts';
import { serializeModel } from '../../../src/onnx/model-io.ts';

/** sum of dL/dP * P^2 for the method's loss at step 0 of 50 (no refinement) on `maps`, with resolved `params`. */
export async function gradientAlongSquares(method: AnyMethod, params: unknown, maps: MapsFile): Promise<number> {
  const lossModel = buildMethodLossModel(method, params, maps);
  const { model, gradients } = grad(lossModel.model, 'loss', lossModel.layerInputs.map((l) => l.name));
  const row = method.guidance!.prepareFromMaps(mapsPrompt(maps, 'left of'), params as never);
  const feeds = methodLossFeeds(method, lossModel, maps, row, params, { index: 0, steps: 50, refinement: [false] });
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
