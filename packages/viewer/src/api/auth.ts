// The API key a user pasted stays in sessionStorage: it survives reloads of this tab and is gone
// when the tab closes. In development mode the control plane needs none.
const STORAGE_KEY = "macp.viewer.apiKey";

/** The API key of this tab, if the user gave one. */
export function storedApiKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps (or, with undefined, forgets) the API key of this tab. */
export function storeApiKey(key: string | undefined): void {
  if (key === undefined || key.trim() === "") sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, key.trim());
}
