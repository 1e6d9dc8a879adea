// Runs a differentiated fixture model and prints how far its gradient is from PyTorch's.
import * as ort from 'onnxruntime-node';
import { readReference, referenceFeeds, relativeL2 } from '../../test/onnx/support/reference.ts';

const [modelPath, fixtureDir] = process.argv.slice(2) as [string, string];
const ref = readReference(fixtureDir);
const session = await ort.InferenceSession.create(modelPath, { logSeverityLevel: 3 });
const out = await session.run(referenceFeeds(ref));
const error = relativeL2(out.grad_sample!.data as Float32Array, ref.grad_loss_sample.data);
console.log(`loss ${(out.loss!.data[0] as number).toPrecision(8)} (PyTorch ${ref.loss.toPrecision(8)})`);
console.log(`relative L2 error of d loss / d sample against torch.autograd: ${error.toExponential(2)}`);
if (error > 1e-3) process.exit(1);
