// Entry of the API's threads (typescript-thread.ts): Node 20 does not hand the parent's tsx loader to
// worker threads, so each registers its own, then loads the TypeScript module its last argument names.
import { register } from 'tsx/esm/api';

register();
await import(process.argv.at(-1));
