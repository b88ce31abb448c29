// Who else is on the call; in a conference each can be dropped.
import { t } from "../i18n";
import type { Party } from "../types";

interface PartiesListProps {
  parties: readonly Party[];
  /** Drop buttons appear only in a conference (more than two parties counting the agent), and
   * never for the customer: the call is theirs (the engine refuses it too). */
  canDrop: boolean;
  onDrop: (partyId: string) => void;
}

/** The parties of the call with their state. */
export function PartiesList({ parties, canDrop, onDrop }: PartiesListProps) {
  return (
    <div class="parties">
      <h3>{t("parties.heading")}</h3>
      <ul>
        {parties.map((party) => (
          <li key={party.id} data-testid={`party-${party.id}`} data-state={party.state}>
            <span class={`dot party-${party.state}`} />
            <span class="grow">{party.label}</span>
            <span class="muted">{t(`party.state.${party.state}`)}</span>
            {canDrop && party.kind !== "customer" && (
              <button class="small" data-testid={`party-${party.id}-drop`} onClick={() => onDrop(party.id)}>
                {t("parties.drop")}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
