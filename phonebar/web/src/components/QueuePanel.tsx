// The calls waiting in the agent's services, each one takeable out of order (P3).
import { t } from "../i18n";
import type { QueueItem } from "../types";
import type { Workstation } from "../workstation";
import { Elapsed } from "./Timers";

interface QueuePanelProps {
  queue: readonly QueueItem[];
  workstation: Workstation;
}

/** Waiting callers with their live wait and a Take button. */
export function QueuePanel({ queue, workstation }: QueuePanelProps) {
  return (
    <section class="panel queue-panel">
      <h2>
        {t("queue.heading")} <span class="count">{queue.length}</span>
      </h2>
      {queue.length === 0 ? (
        <p class="muted">{t("queue.empty")}</p>
      ) : (
        <ul class="rows">
          {queue.map((item) => (
            <li key={item.interaction_id} data-testid={`queue-item-${item.interaction_id}`}>
              <span class="grow">
                <strong>{item.ani || t("call.unknownCaller")}</strong> <span class="muted">{item.service}</span>
              </span>
              <Elapsed since={item.since} />
              <button
                class="small primary"
                data-testid={`queue-take-${item.interaction_id}`}
                onClick={() => workstation.take(item.interaction_id)}
              >
                {t("queue.take")}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
