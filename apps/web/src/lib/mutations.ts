'use client';
/**
 * Every mutation the browser sends, and the API token they carry: for now a token the person pastes,
 * kept in this tab's sessionStorage (the submit form and the run page's buttons share it). Sign-in
 * with a server-held cookie would replace this module alone.
 */
import { clientQuery } from './client';

const TOKEN_KEY = 'infsplign-api-token';

export function storedToken(): string {
  return window.sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeToken(token: string): void {
  window.sessionStorage.setItem(TOKEN_KEY, token.trim());
}

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }
`;

export async function submitRun(input: Record<string, unknown>, token: string): Promise<{ reused: boolean; run: { id: string } }> {
  return (await clientQuery<{ submitRun: { reused: boolean; run: { id: string } } }>(SUBMIT, { input }, token)).submitRun;
}

export async function cancelRun(id: string, token: string): Promise<void> {
  await clientQuery('mutation Cancel($id: ID!) { cancelRun(id: $id) { id status } }', { id }, token);
}

export async function retryRun(id: string, token: string): Promise<void> {
  await clientQuery('mutation Retry($id: ID!) { retryRun(id: $id) { id status } }', { id }, token);
}

/** A new EVALUATE_ONLY run on the run's images (or the identical one that already finished). */
export async function rescoreRun(id: string, token: string, settings: { detector?: string; threshold?: number }): Promise<{ reused: boolean; run: { id: string } }> {
  const data = await clientQuery<{ rescoreRun: { reused: boolean; run: { id: string } } }>(
    'mutation Rescore($id: ID!, $detector: String, $threshold: Float) { rescoreRun(runId: $id, detector: $detector, threshold: $threshold) { reused run { id } } }',
    { id, ...settings },
    token,
  );
  return data.rescoreRun;
}

export async function deleteRun(id: string, token: string): Promise<void> {
  await clientQuery('mutation Delete($id: ID!) { deleteRun(id: $id) { id } }', { id }, token);
}
