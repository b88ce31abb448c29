// The it/en switch, on the login screen and in the top bar.
import { chooseLanguage, language, t } from "../i18n";
import { useObservable } from "../hooks";
import type { Language } from "../types";

const LANGUAGES: readonly Language[] = ["it", "en"];

/** A select that changes the page language and remembers it in this browser. */
export function LanguageSelect() {
  const current = useObservable(language);
  return (
    <select
      class="compact"
      data-testid="lang-select"
      aria-label={t("lang.label")}
      title={t("lang.label")}
      value={current}
      onChange={(e) => chooseLanguage(e.currentTarget.value as Language)}
    >
      {LANGUAGES.map((code) => (
        <option key={code} value={code}>
          {t(`lang.${code}`)}
        </option>
      ))}
    </select>
  );
}
