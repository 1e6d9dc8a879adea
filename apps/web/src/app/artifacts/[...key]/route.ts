/** Images come from the API's artifact route, asked for with the browser's signed address; the API validates the key. */
import { apiUrl } from '@/lib/api';
import { clientAddressHeaders } from '@/lib/client-address';

export async function GET(request: Request, { params }: { params: Promise<{ key: string[] }> }): Promise<Response> {
  const { key } = await params;
  const path = key.map(encodeURIComponent).join('/');
  try {
    const answer = await fetch(`${apiUrl()}/artifacts/${path}`, { cache: 'no-store', headers: clientAddressHeaders(request.headers) });
    const headers = new Headers();
    for (const name of ['content-type', 'cache-control', 'x-content-type-options']) {
      const value = answer.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(answer.body, { status: answer.status, headers });
  } catch {
    return Response.json({ error: `the API at ${apiUrl()} is not answering` }, { status: 502 });
  }
}
