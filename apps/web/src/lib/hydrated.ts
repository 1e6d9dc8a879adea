'use client';
import { useSyncExternalStore } from 'react';

const never = () => () => {};

/**
 * False while the server renders and while React hydrates, true from then on. Controls that act only
 * through scripts are disabled until then: a click before hydration would do nothing (or submit the
 * form natively), and a value typed before it would not be in React's state.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    never,
    () => true,
    () => false,
  );
}
