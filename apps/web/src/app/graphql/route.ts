/**
 * The browser's way to the API: POST /graphql is forwarded with its Authorization header and the
 * browser's address, signed (lib/client-address.ts). A body over the API's limit is refused here,
 * read no further than the limit.
 */
import { MAX_BODY_BYTES, readBodyWithin } from '../../../../api/src/proxy-contract';
import { apiUrl } from '@/lib/api';
import { clientAddressHeaders } from '@/lib/client-address';

export async function POST(request: Request): Promise<Response> {
  const body = await readBodyWithin(request);
  if (body === null) {
    return Response.json(
      { errors: [{ message: `the request body is over the limit of ${MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] },
      { status: 413 },
    );
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', ...clientAddressHeaders(request.headers) };
  const authorization = request.headers.get('authorization');
  if (authorization) headers.authorization = authorization;
  try {
    const answer = await fetch(`${apiUrl()}/graphql`, { method: 'POST', headers, body, cache: 'no-store' });
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' } });
  } catch {
    const message = `The API at ${apiUrl()} is not answering. Start it with \`npm run api\`, or point API_URL at it.`;
    return Response.json({ errors: [{ message, extensions: { code: 'API_UNREACHABLE' } }] }, { status: 502 });
  }
}
