/** `infsplign onnx <grad|inspect|expose>`: the ONNX engine from the command line. */
import { grad } from '../../onnx/autodiff/grad.ts';
import { exposeValues } from '../../onnx/expose.ts';
import { formatSummary, summarizeModel } from '../../onnx/inspect.ts';
import { loadModel, saveModel, type SaveOptions } from '../../onnx/model-io.ts';
import { CliError, parseOptions, required, type Command } from '../command.ts';

const USAGE = `usage:
  infsplign onnx grad --model IN.onnx --of NAME --wrt NAME[,NAME...] --out OUT.onnx [--external-data auto|yes|no]
      Adds outputs grad_<wrt> = d(of)/d(wrt). A non-scalar --of gets an input seed_<of> (the cotangent):
      the outputs are then vector-Jacobian products.
  infsplign onnx inspect --model IN.onnx [--json]
      Inputs, outputs, opsets, op histogram, and the cross-attention probabilities InfSplign reads.
  infsplign onnx expose --model IN.onnx --values NAME|/REGEX/[,...] --out OUT.onnx [--external-data auto|yes|no]
      Makes intermediate values graph outputs (e.g. --values '/attn2\\/Softmax/').`;

function externalData(value: unknown): SaveOptions['externalData'] {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw new CliError(`--external-data must be auto, yes or no (got '${String(value)}')`, 2);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function runGrad(argv: string[]): Promise<void> {
  const { values } = parseOptions(
    argv,
    { model: { type: 'string' }, of: { type: 'string' }, wrt: { type: 'string' }, out: { type: 'string' }, 'external-data': { type: 'string' } },
    USAGE,
  );
  const [modelPath, of, wrt, out] = ['model', 'of', 'wrt', 'out'].map((k) => required(values, k, USAGE)) as [string, string, string, string];
  const mode = externalData(values['external-data']);
  const model = loadModel(modelPath);
  const result = grad(model, of, list(wrt));
  const written = saveModel(result.model, out, { externalData: mode });
  console.log(`wrote ${written.join(' and ')}`);
  console.log(`outputs added: ${result.gradients.join(', ')}`);
  if (result.seed) console.log(`input added: ${result.seed} (cotangent of '${of}', same shape)`);
}

async function runInspect(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, { model: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const summary = summarizeModel(loadModel(required(values, 'model', USAGE)));
  console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
}

async function runExpose(argv: string[]): Promise<void> {
  const { values } = parseOptions(
    argv,
    { model: { type: 'string' }, values: { type: 'string' }, out: { type: 'string' }, 'external-data': { type: 'string' } },
    USAGE,
  );
  const [modelPath, selectors, out] = ['model', 'values', 'out'].map((k) => required(values, k, USAGE)) as [string, string, string];
  const mode = externalData(values['external-data']);
  const model = loadModel(modelPath);
  // A regex may itself contain commas; split only between selectors.
  const exposed = exposeValues(model, selectors.startsWith('/') ? [selectors] : list(selectors));
  const written = saveModel(model, out, { externalData: mode });
  console.log(`wrote ${written.join(' and ')}`);
  console.log(`outputs added (${exposed.length}):\n  ${exposed.join('\n  ')}`);
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<void>> = { grad: runGrad, inspect: runInspect, expose: runExpose };

export const onnxCommand: Command = {
  name: 'onnx',
  summary: 'read, inspect, expose values of and differentiate ONNX models',
  usage: USAGE,
  subcommands: Object.keys(SUBCOMMANDS),
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub) throw new CliError(`missing subcommand\n\n${USAGE}`, 2);
    const run = SUBCOMMANDS[sub];
    if (!run) throw new CliError(`unknown subcommand '${sub}'\n\n${USAGE}`, 2);
    await run(rest);
  },
};
