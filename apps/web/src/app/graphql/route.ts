/**
 * The browser's way to the API: POST /graphql is forwarded with its Authorization header and the
 * browser's address (X-Forwarded-For; the API trusts it with TRUST_PROXY=loopback).
 */
import { apiUrl } from '@/lib/api';

export async function POST(request: Request): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const name of ['authorization', 'x-forwarded-for']) {
    const value = request.headers.get(name);
    if (value) headers[name] = value;
  }
  try {
    const answer = await fetch(`${apiUrl()}/graphql`, { method: 'POST', headers, body: await request.text(), cache: 'no-store' });
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' } });
  } catch {
    const message = `The API at ${apiUrl()} is not answering. Start it with \`npm run api\`, or point API_URL at it.`;
    return Response.json({ errors: [{ message, extensions: { code: 'API_UNREACHABLE' } }] }, { status: 502 });
  }
}
