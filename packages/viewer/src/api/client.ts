import { storedApiKey } from "./auth.js";

/** A non-2xx answer of the control plane (its problem JSON), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever the control plane answers 401 (the API key is missing or was refused). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** One call of the control plane's HTTP API (same origin), with the tab's API key if any. */
export async function api<T>(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const key = storedApiKey();
  if (key !== undefined) headers["authorization"] = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: signal ?? null });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, "NETWORK_ERROR", "the control plane cannot be reached");
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const problem = (json ?? {}) as { errorCode?: string; message?: string; details?: unknown };
    if (response.status === 401) for (const listener of unauthorizedListeners) listener();
    throw new ApiError(response.status, problem.errorCode ?? `HTTP_${response.status}`, problem.message ?? (text || response.statusText), problem.details);
  }
  return json as T;
}

/** The message to show for a failed call. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.status === 0 ? error.message : `${error.errorCode}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
