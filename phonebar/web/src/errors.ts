// Failed commands, shown in the dismissable banner with the engine's own words.
import { ApiError } from "./api";
import { t } from "./i18n";
import { Observable, type ReadonlyObservable } from "./observable";

export interface Notice {
  id: number;
  text: string;
}

const MAX_SHOWN = 4;
let nextId = 1;
const noticeStore = new Observable<Notice[]>([]);

/** The errors the banner shows, oldest first. */
export const notices: ReadonlyObservable<Notice[]> = noticeStore;

/** The text an agent should read for a failure. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.serverText) return error.serverText;
    return error.status === 0 ? t("error.network") : t("error.http", { status: error.status });
  }
  return error instanceof Error ? error.message : String(error);
}

/** Shows a failure in the banner; the same text twice in a row is shown once. */
export function reportError(error: unknown): void {
  const text = describeError(error);
  noticeStore.update((list) => {
    const rest = list.filter((notice) => notice.text !== text);
    return [...rest, { id: nextId++, text }].slice(-MAX_SHOWN);
  });
}

export function dismissNotice(id: number): void {
  noticeStore.update((list) => list.filter((notice) => notice.id !== id));
}

export function clearNotices(): void {
  noticeStore.set([]);
}

/** Runs a command, reporting its failure instead of throwing; resolves to success. */
export async function attempt(command: () => Promise<unknown>): Promise<boolean> {
  try {
    await command();
    return true;
  } catch (error) {
    reportError(error);
    return false;
  }
}
