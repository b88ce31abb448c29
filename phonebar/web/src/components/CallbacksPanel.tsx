// The agent's callbacks (P7); hidden when the engine has no callbacks endpoint.
import { formatDateTime } from "../clock";
import type { CallbackList } from "../callbacks";
import { useObservable } from "../hooks";
import { language, t } from "../i18n";

interface CallbacksPanelProps {
  callbacks: CallbackList;
  /** No new call while one is up. */
  busy: boolean;
}

/** Callback list with Call now / Done, refreshed every 30 s and on demand. */
export function CallbacksPanel({ callbacks, busy }: CallbacksPanelProps) {
  const state = useObservable(callbacks.state);
  const lang = useObservable(language);
  if (!state.available) return null;
  return (
    <section class="panel callbacks-panel">
      <h2>
        {t("callbacks.heading")} <span class="count">{state.items.length}</span>
        <span class="grow" />
        <button class="small" disabled={state.loading} onClick={() => void callbacks.refresh()}>
          ↻ {t("callbacks.refresh")}
        </button>
      </h2>
      {state.items.length === 0 ? (
        <p class="muted">{t("callbacks.empty")}</p>
      ) : (
        <ul class="rows">
          {state.items.map((item) => (
            <li key={item.id} data-testid={`callback-${item.id}`} data-state={item.state}>
              <span class="grow">
                <strong>{item.name || item.number}</strong>
                {item.name && <span> {item.number}</span>}
                {item.service && <span class="muted"> · {item.service}</span>}
                {item.due_at && (
                  <span class="muted"> · {t("callbacks.due", { when: formatDateTime(item.due_at, lang) })}</span>
                )}
                {item.notes && <span class="notes">{item.notes}</span>}
              </span>
              <button
                class="small primary"
                data-testid={`callback-${item.id}-call`}
                disabled={busy}
                onClick={() => void callbacks.callNow(item.id)}
              >
                {t("callbacks.call")}
              </button>
              <button
                class="small"
                data-testid={`callback-${item.id}-done`}
                onClick={() => void callbacks.done(item.id)}
              >
                {t("callbacks.done")}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
