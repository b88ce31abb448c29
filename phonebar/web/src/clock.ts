// Time as the engine sees it. Timers count from engine timestamps (`since`, `answered_at`),
// so the browser's clock is corrected by the skew measured from each view's `now`.

let skewMs = 0;

/** Records the engine's clock reading carried by a view. */
export function observeServerTime(iso: string): void {
  const server = Date.parse(iso);
  if (!Number.isNaN(server)) skewMs = server - Date.now();
}

/** The engine's current time in milliseconds since the epoch. */
export function serverNow(): number {
  return Date.now() + skewMs;
}

/** Milliseconds elapsed from an engine timestamp to `now` (never negative). */
export function elapsedSince(iso: string | null | undefined, now: number): number {
  if (!iso) return 0;
  const start = Date.parse(iso);
  return Number.isNaN(start) ? 0 : Math.max(0, now - start);
}

/** Milliseconds from `now` to an engine timestamp (never negative). */
export function remainingUntil(iso: string, now: number): number {
  const end = Date.parse(iso);
  return Number.isNaN(end) ? 0 : Math.max(0, end - now);
}

/** "m:ss", or "h:mm:ss" from one hour on. */
export function formatDuration(ms: number): string {
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** A short local date and time for tables ("23/11/26, 10:00"). */
export function formatDateTime(iso: string | null | undefined, language: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(language, { dateStyle: "short", timeStyle: "short" });
}
