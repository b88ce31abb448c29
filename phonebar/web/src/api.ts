// The REST client: JSON in and out, the login token as a Bearer header, and the engine's
// `{"error", "fields"}` replies turned into ApiError so the banner can show the server's words.
import { storedToken } from "./preferences";

export const API_BASE = "/api/v1";

/** A failed request: `status` 0 means the engine could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The engine's own `error` text, with field details appended; null when it sent none. */
    readonly serverText: string | null,
  ) {
    super(serverText ?? `HTTP ${status}`);
    this.name = "ApiError";
  }
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Sends requests to the engine on behalf of the logged-in agent. */
export class ApiClient {
  /** `onUnauthorized` runs when the engine rejects the token (expired, logged out elsewhere). */
  constructor(private readonly onUnauthorized: () => void) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  put<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = storedToken();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const init: RequestInit = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(API_BASE + path, init);
    } catch {
      throw new ApiError(0, null);
    }
    const payload = await readJson(response);
    if (!response.ok) {
      // Login itself answers 401 for bad credentials; that is not an expired session.
      if (response.status === 401 && token && path !== "/auth/login") this.onUnauthorized();
      throw new ApiError(response.status, errorText(payload));
    }
    return payload as T;
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The engine's error text plus its per-field messages, which say what to fix. */
function errorText(payload: unknown): string | null {
  if (!isRecord(payload) || typeof payload["error"] !== "string") return null;
  const details = fieldMessages(payload["fields"]);
  return details.length ? `${payload["error"]} (${details.join("; ")})` : payload["error"];
}

// docs/phonebar.md shows `fields` as an object, ADR 0004 as a list of {field, message}:
// accept both so either engine version reads well.
function fieldMessages(fields: unknown): string[] {
  if (Array.isArray(fields)) {
    return fields.filter(isRecord).map((f) => `${String(f["field"] ?? "")}: ${String(f["message"] ?? "")}`);
  }
  if (isRecord(fields)) {
    return Object.entries(fields).map(([name, message]) => `${name}: ${String(message)}`);
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
