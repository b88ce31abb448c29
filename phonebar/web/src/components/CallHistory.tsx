// The screen pop: this caller's previous contacts.
import { formatDateTime } from "../clock";
import { useObservable } from "../hooks";
import { language, t } from "../i18n";
import type { HistoryEntry } from "../types";

/** A small table of earlier interactions with the same caller. */
export function CallHistory({ history }: { history: readonly HistoryEntry[] }) {
  const lang = useObservable(language);
  return (
    <div class="call-history" data-testid="call-history">
      <h3>{t("history.heading")}</h3>
      {history.length === 0 ? (
        <p class="muted">{t("history.none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t("history.date")}</th>
              <th>{t("history.service")}</th>
              <th>{t("history.agent")}</th>
              <th>{t("history.disposition")}</th>
            </tr>
          </thead>
          <tbody>
            {history.map((entry) => (
              <tr key={entry.interaction_id}>
                <td>{formatDateTime(entry.created_at, lang)}</td>
                <td>{entry.service ?? ""}</td>
                <td>{entry.agent ?? ""}</td>
                <td title={entry.end_reason ?? ""}>{entry.disposition ?? entry.end_reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
