// Entry of the API's ingest thread: Node 20 does not hand the parent's tsx loader to worker
// threads, so the thread registers its own before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./thread-main.ts');
