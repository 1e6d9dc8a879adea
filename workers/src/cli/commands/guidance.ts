/** `infsplign guidance loss`: the InfSplign loss of given attention maps, as the prepared graph computes it. */
import { readFileSync } from 'node:fs';
import { defaultParams, resolveParams } from '../../contracts/method-params.ts';
import { evaluateLoss, mapsFileSchema } from '../../guidance/loss-evaluation.ts';
import { relationOfPhrase } from '../../guidance/relations.ts';
import { readJsonFile } from '../../util/read-data-file.ts';
import { CliError, parseOptions, required, type Command } from '../command.ts';

const USAGE = `usage: infsplign guidance loss --maps MAPS.json --relation REL [--params JSON|@FILE]

Prints {"loss": x, "layers": [{"name", "spatial", "energy", "total"}]} for the maps in MAPS.json:
  {"objects": [{"name", "tokens": [..]}, {...}], "layers": [{"name", "height", "width", "tokens", "probs": [...]}]}
probs head-averaged, row-major [height*width][tokens], taken as they enter docs/method.md §2.3 (no resize).
REL: a relation phrase ("to the left of", "on the top of", "next to", ...); "and", "on top of" and
"on bottom of" get no spatial term (energy terms only), as in the reference.
--params: docs/method.md §4 overrides of the defaults (loss_type, alpha, margin, strategy, lambdas, ...).`;

/** `--params` as inline JSON or `@file`. */
export function readParamsOption(value: string | undefined): unknown {
  if (value === undefined) return {};
  const [text, source] = value.startsWith('@') ? [readFileSync(value.slice(1), 'utf8'), value.slice(1)] : [value, '--params'];
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}

export const guidanceCommand: Command = {
  name: 'guidance',
  summary: 'the InfSplign loss of given attention maps (guidance loss)',
  usage: USAGE,
  subcommands: ['loss'],
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'loss') throw new CliError(sub ? `unknown subcommand '${sub}'\n\n${USAGE}` : USAGE, 2);
    const { values } = parseOptions(rest, { maps: { type: 'string' }, relation: { type: 'string' }, params: { type: 'string' } }, USAGE);
    const maps = readJsonFile(required(values, 'maps', USAGE), mapsFileSchema);
    const phrase = required(values, 'relation', USAGE);
    const relation = relationOfPhrase(phrase);
    if (relation === undefined) throw new CliError(`--relation '${phrase}' is not a relation docs/method.md knows (left of, right of, above, below, near and their phrasings; "and", "on top of" and "on bottom of" carry no spatial term)`);
    const params = resolveParams(defaultParams('sd1'), readParamsOption(values.params), '--params');
    console.log(JSON.stringify(await evaluateLoss(maps, relation, params)));
  },
};
