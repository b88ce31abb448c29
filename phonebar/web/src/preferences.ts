// What this browser remembers: the login token for the tab (sessionStorage, so closing
// the tab logs the page out) and per-browser choices (localStorage).
import type { Language } from "./types";

const TOKEN_KEY = "phones.phonebar.token";
const LANGUAGE_KEY = "phones.phonebar.language";
const AUTO_ANSWER_KEY = "phones.phonebar.autoAnswer";
const TENANT_KEY = "phones.phonebar.tenant";

// Storage can throw (privacy modes, disabled cookies); the page must work regardless.
function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function write(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // Not remembered; nothing else to do.
  }
}

const session = (): Storage => window.sessionStorage;
const local = (): Storage => window.localStorage;

export const storedToken = (): string | null => read(session, TOKEN_KEY);
export const storeToken = (token: string | null): void => write(session, TOKEN_KEY, token);

export function storedLanguage(): Language | null {
  const value = read(local, LANGUAGE_KEY);
  return value === "it" || value === "en" ? value : null;
}
export const storeLanguage = (language: Language): void => write(local, LANGUAGE_KEY, language);

export const storedAutoAnswer = (): boolean => read(local, AUTO_ANSWER_KEY) === "true";
export const storeAutoAnswer = (on: boolean): void => write(local, AUTO_ANSWER_KEY, String(on));

// The tenant rarely changes for an agent, so the login form starts with the last one.
export const storedTenant = (): string => read(local, TENANT_KEY) ?? "";
export const storeTenant = (tenant: string): void => write(local, TENANT_KEY, tenant);

/** True when the page URL asks for unprocessed audio (`?audio=raw`), as the tests do. */
export function rawAudioRequested(): boolean {
  return new URLSearchParams(window.location.search).get("audio") === "raw";
}
