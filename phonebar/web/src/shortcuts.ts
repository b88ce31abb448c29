// Alt+letter shortcuts for the four actions agents repeat all day.
import type { MessageKey } from "./i18n";
import type { Workstation } from "./workstation";

export interface Shortcut {
  /** KeyboardEvent.code: layout-independent, and unaffected by what Alt types on macOS. */
  code: string;
  label: string;
  description: MessageKey;
  run(workstation: Workstation): void;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { code: "KeyA", label: "Alt+A", description: "shortcuts.answer", run: (w) => w.answer() },
  { code: "KeyH", label: "Alt+H", description: "shortcuts.hangup", run: (w) => w.hangup() },
  { code: "KeyR", label: "Alt+R", description: "shortcuts.ready", run: (w) => w.ready() },
  { code: "KeyN", label: "Alt+N", description: "shortcuts.notReady", run: (w) => w.notReady() },
];

/** Listens for the shortcuts on the whole page; returns the function that stops listening. */
export function installShortcuts(workstation: Workstation): () => void {
  const onKeyDown = (event: KeyboardEvent): void => {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    const shortcut = SHORTCUTS.find((candidate) => candidate.code === event.code);
    if (!shortcut) return;
    event.preventDefault();
    shortcut.run(workstation);
  };
  window.addEventListener("keydown", onKeyDown);
  return () => window.removeEventListener("keydown", onKeyDown);
}
