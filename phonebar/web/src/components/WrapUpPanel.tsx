// After-call work: record the outcome and notes, then get back to Ready.
import { useState } from "preact/hooks";
import { t } from "../i18n";
import type { Config, WrapUp } from "../types";
import type { Workstation } from "../workstation";
import { Countdown } from "./Timers";

interface WrapUpPanelProps {
  wrapUp: WrapUp;
  workstation: Workstation;
}

/** Disposition form with the wrap-up countdown; keyed by interaction so drafts never leak. */
export function WrapUpPanel({ wrapUp, workstation }: WrapUpPanelProps) {
  const codes = dispositionCodes(wrapUp, workstation.config);
  const [code, setCode] = useState("");
  const [notes, setNotes] = useState("");
  const [saving, setSaving] = useState(false);
  const [savedAs, setSavedAs] = useState<string | null>(null);

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    setSaving(true);
    const ok = await workstation.saveDisposition(wrapUp.interaction_id, code, notes);
    setSaving(false);
    if (ok) setSavedAs(`${code}\n${notes}`);
  };
  const saved = savedAs === `${code}\n${notes}`;

  return (
    <section class="panel wrapup-panel" data-testid="wrapup-panel" data-interaction={String(wrapUp.interaction_id)}>
      <header class="panel-head">
        <h2>{t("wrapup.heading")}</h2>
        {wrapUp.service && <span class="muted">{wrapUp.service}</span>}
        <span class="grow" />
        <span class="muted">{t("wrapup.remaining")}</span>{" "}
        {wrapUp.until ? (
          <Countdown until={wrapUp.until} testId="wrapup-countdown" />
        ) : (
          <span class="timer" data-testid="wrapup-countdown">
            {t("wrapup.noLimit")}
          </span>
        )}
      </header>
      <form class="wrapup-form" onSubmit={save}>
        <label>
          {t("wrapup.disposition")}
          <select data-testid="wrapup-disposition" value={code} onChange={(e) => setCode(e.currentTarget.value)}>
            <option value="">{t("wrapup.choose")}</option>
            {codes.map((c) => (
              <option key={c} value={c}>
                {c.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("wrapup.notes")}
          <textarea
            data-testid="wrapup-notes"
            rows={3}
            value={notes}
            onInput={(e) => setNotes(e.currentTarget.value)}
          />
        </label>
        <div class="button-row">
          <button type="submit" class="primary" data-testid="wrapup-save" disabled={!code || saving}>
            {saved ? `✓ ${t("wrapup.saved")}` : t("wrapup.save")}
          </button>
          <button type="button" data-testid="wrapup-end" onClick={() => workstation.ready()}>
            {t("wrapup.end")}
          </button>
        </div>
      </form>
    </section>
  );
}

// The view carries the service's codes; older engines may not, so fall back to the config.
function dispositionCodes(wrapUp: WrapUp, config: Config): string[] {
  if (wrapUp.disposition_codes?.length) return wrapUp.disposition_codes;
  return config.services.find((service) => service.name === wrapUp.service)?.disposition_codes ?? [];
}
