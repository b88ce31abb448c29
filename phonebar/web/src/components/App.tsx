// The root component: login screen or workstation, in the chosen language.
import { useEffect } from "preact/hooks";
import type { AppSession } from "../app-session";
import { useObservable } from "../hooks";
import { language, t } from "../i18n";
import { Login } from "./Login";
import { WorkstationScreen } from "./WorkstationScreen";

/** Switches between the phases of the app session. */
export function App({ session }: { session: AppSession }) {
  const phase = useObservable(session.phase);
  // Subscribing here re-renders the whole tree when the language changes.
  const lang = useObservable(language);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  switch (phase.kind) {
    case "loading":
      return (
        <main class="loading">
          <p class="muted">{t("login.loading")}</p>
        </main>
      );
    case "login":
      return <Login session={session} message={phase.message} />;
    case "ready":
      return <WorkstationScreen session={session} workstation={phase.workstation} />;
  }
}
