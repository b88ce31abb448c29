// The keyboard legend, folded into one small button so it costs no space.
import { t } from "../i18n";
import { SHORTCUTS } from "../shortcuts";

/** A ⌨ button whose tooltip and popup list the shortcuts. */
export function ShortcutHelp() {
  const lines = SHORTCUTS.map((s) => `${s.label}: ${t(s.description)}`);
  return (
    <details class="shortcuts">
      <summary title={`${t("shortcuts.heading")}\n${lines.join("\n")}`} aria-label={t("shortcuts.heading")}>
        ⌨
      </summary>
      <div class="shortcuts-popup" role="tooltip">
        <strong>{t("shortcuts.heading")}</strong>
        <dl>
          {SHORTCUTS.map((s) => (
            <div key={s.code}>
              <dt>
                <kbd>{s.label}</kbd>
              </dt>
              <dd>{t(s.description)}</dd>
            </div>
          ))}
        </dl>
      </div>
    </details>
  );
}
