/**
 * The check the official fixtures give on a loss graph's gradient (fixtures/arena-official/README.md,
 * grad_dot_maps_sq): the derivative of the loss along P -> P + eps P^2, i.e. the sum over the layers
 * read of dL/dP * P^2, P the probabilities fed.
 */
import * as ort from 'onnxruntime-node';
import type { LossModel } from '../../../src/methods/loss-model.ts';
import { grad } from '../../../src/onnx/autodiff/grad.ts';
import { serializeModel } from '../../../src/onnx/model-io.ts';

export async function gradientAlongSquares(lossModel: LossModel, feeds: Record<string, ort.Tensor>): Promise<number> {
  const { model, gradients } = grad(lossModel.model, 'loss', lossModel.layerInputs.map((l) => l.name));
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
