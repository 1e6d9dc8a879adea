import { resolve } from 'node:path';
import { formatVisorPrompts, generateVisorPrompts, visorClassNames } from '../../prompts/visor.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { CliError, parseOptions, type Command } from '../command.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../../../..');
const DEFAULT_VISOR_OUT = resolve(REPO_ROOT, 'json_files/visor_prompts.json');

const USAGE = `usage: infsplign prompts visor [--out FILE]
       infsplign prompts visor-shapes

  visor         generate the SR2D prompt set (31,680 prompts; default --out json_files/visor_prompts.json)
  visor-shapes  generate the VISOR-Shapes tune/eval prompt files`;

export const promptsCommand: Command = {
  name: 'prompts',
  summary: 'generate a benchmark prompt set (visor, visor-shapes)',
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { out: { type: 'string' } }, USAGE);
    if (values.help) {
      console.log(USAGE);
      return;
    }
    const [which, ...extra] = positionals;
    if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`, 2);
    switch (which) {
      case 'visor': {
        const out = values.out ?? DEFAULT_VISOR_OUT;
        const records = generateVisorPrompts(visorClassNames());
        writeFileAtomic(out, formatVisorPrompts(records));
        console.log(`wrote ${records.length} prompts to ${out}`);
        return;
      }
      case 'visor-shapes':
        throw new CliError('visor-shapes prompt sets are not available yet (they come with the Shapes world, workers/src/shapes/prompt-sets.ts)');
      default:
        throw new CliError(`${which === undefined ? 'missing prompt set' : `unknown prompt set '${which}'`} (expected visor or visor-shapes)\n\n${USAGE}`, 2);
    }
  },
};
