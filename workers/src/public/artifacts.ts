/** The artifact store (local directory or S3-compatible), its configuration and its keys. */
export * from '../artifacts/config.ts';
export * from '../artifacts/store.ts';
export * from '../artifacts/keys.ts';
