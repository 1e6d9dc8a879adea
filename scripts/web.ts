/**
 * `npm run web`: the web app, built first when its sources changed. API_URL (http://127.0.0.1:4000),
 * PORT (3000), HOST (127.0.0.1). SIGINT and SIGTERM stop it.
 */
import { z } from 'zod';
import { ensureWebBuild, startWebApp } from './lib/web-app.ts';

const env = z
  .object({
    API_URL: z.url().default('http://127.0.0.1:4000'),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
  })
  .safeParse(process.env);
if (!env.success) {
  console.error(`web: ${env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  process.exit(1);
}
try {
  console.error('web: building (next build) unless the build is current ...');
  await ensureWebBuild();
  const web = await startWebApp(env.data.API_URL, env.data.PORT, env.data.HOST);
  console.error(`web: ${web.url} (API ${env.data.API_URL})`);
  web.child.once('exit', (code) => process.exit(code ?? 1));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void web.close().then(() => process.exit(0)));
} catch (err) {
  console.error(`web: ${(err as Error).message}`);
  process.exit(1);
}
