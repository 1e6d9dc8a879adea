// Writes Shapes scenes for the first prompts of a VISOR-Shapes file as {ID}_{K}.png: each prompt's
// two objects in random places, so about half stand as the prompt says. A stand-in for generated
// images until the bundled model exists.
import { join } from 'node:path';
import { writePng } from '../image/png.ts';
import { readVisorPrompts } from '../prompts/load.ts';
import { renderScene } from '../shapes/render.ts';
import { SHAPES_WORLD } from '../shapes/world.ts';

const [promptsFile, outDir, count = '12', perPrompt = '4'] = process.argv.slice(2) as [string, string, string?, string?];
const prompts = readVisorPrompts(promptsFile).filter((p) => p.relation !== null).slice(0, Number(count));
for (const prompt of prompts) {
  for (let k = 0; k < Number(perPrompt); k++) {
    writePng(join(outDir, `${prompt.id}_${k}.png`), renderScene(SHAPES_WORLD, prompt.id * 100 + k, { labels: prompt.objects }).image);
  }
}
console.log(`rendered ${prompts.length * Number(perPrompt)} scenes for ${prompts.length} prompts into ${outDir}`);
