/** The model registry and model folders, as the seed reads them. */
export { REGISTRY_FILE, resolveModel } from '../diffusion/model-registry.ts';
export { readModelFolder } from '../diffusion/model-folder.ts';
