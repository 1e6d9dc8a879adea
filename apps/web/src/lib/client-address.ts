/**
 * Telling the API which browser a request is for: the address this app's server saw (server.mjs writes
 * it into X-Forwarded-For, replacing whatever the browser sent), signed with WEB_PROXY_SECRET, which
 * the API shares. Without the secret nothing is sent, and the API counts every browser as this app.
 */
import { CLIENT_ADDRESS_HEADER, signClientAddress } from '../../../api/src/proxy-contract';

export function clientAddressHeaders(incoming: Headers): Record<string, string> {
  const secret = process.env.WEB_PROXY_SECRET;
  const address = incoming.get('x-forwarded-for')?.split(',')[0]?.trim();
  if (!secret || !address) return {};
  return { [CLIENT_ADDRESS_HEADER]: signClientAddress(secret, address) };
}
