import { join } from 'node:path';
import { JSON_FILES_DIR } from '../../prompts/official-files.ts';
import { formatVisorPrompts, generateVisorPrompts, visorClassNames } from '../../prompts/visor.ts';
import { visorShapesPromptSets } from '../../shapes/prompt-sets.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { CliError, parseOptions, type Command } from '../command.ts';

const USAGE = `usage: infsplign prompts visor [--out FILE]
       infsplign prompts visor-shapes [--out DIR]

  visor         the SR2D prompt set: 31,680 prompts over the 80 COCO classes
                (default --out json_files/visor_prompts.json)
  visor-shapes  the same procedure over the Shapes world's classes, split into
                visor_shapes_tune.json and visor_shapes_eval.json (default --out json_files)`;

function write(path: string, records: Parameters<typeof formatVisorPrompts>[0]): void {
  writeFileAtomic(path, formatVisorPrompts(records));
  console.log(`wrote ${records.length} prompts to ${path}`);
}

export const promptsCommand: Command = {
  name: 'prompts',
  summary: 'generate a VISOR prompt set (visor, visor-shapes)',
  usage: USAGE,
  subcommands: ['visor', 'visor-shapes'],
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { out: { type: 'string' } }, USAGE);
    const [which, ...extra] = positionals;
    if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`, 2);
    switch (which) {
      case 'visor':
        write(values.out ?? join(JSON_FILES_DIR, 'visor_prompts.json'), generateVisorPrompts(visorClassNames()));
        return;
      case 'visor-shapes': {
        const sets = visorShapesPromptSets();
        const dir = values.out ?? JSON_FILES_DIR;
        write(join(dir, 'visor_shapes_tune.json'), sets.tune);
        write(join(dir, 'visor_shapes_eval.json'), sets.eval);
        return;
      }
      default:
        throw new CliError(`${which === undefined ? 'missing prompt set' : `unknown prompt set '${which}'`} (expected visor or visor-shapes)\n\n${USAGE}`, 2);
    }
  },
};
