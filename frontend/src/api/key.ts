// The signed-in key, held in memory for the API clients (sessionStorage keeps it across reloads).
let currentKey: string | null = null;

export function setApiKey(key: string | null): void {
  currentKey = key;
}

export function getApiKey(): string | null {
  return currentKey;
}
