// The web app's server (`npm start` here; scripts/lib/web-app.ts for `npm run web`, the demo and the
// tests): Next's request handler behind a plain HTTP server that writes the address each request came
// from into X-Forwarded-For, replacing whatever the client put there. The proxy routes and server-side
// reads (src/lib/client-address.ts) sign that address for the API's rate limits, so it must be the
// socket's: Next's own server keeps a client's X-Forwarded-For as it is.
// PORT (3000), HOST (127.0.0.1), API_URL, WEB_PROXY_SECRET come from the environment.
import { createServer } from 'node:http';
import next from 'next';

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? '127.0.0.1';
const app = next({ dev: false, dir: import.meta.dirname, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  req.headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  void handle(req, res);
});
server.listen(port, hostname, () => console.log(`web: listening on http://${hostname}:${port}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)));
