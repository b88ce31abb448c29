// The sign-in form: tenant, username, password.
import { useState } from "preact/hooks";
import type { AppSession } from "../app-session";
import { t } from "../i18n";
import { storeTenant, storedTenant } from "../preferences";
import { LanguageSelect } from "./LanguageSelect";

interface LoginProps {
  session: AppSession;
  message: string | null;
}

/** The login screen. */
export function Login({ session, message }: LoginProps) {
  const [tenant, setTenant] = useState(storedTenant);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(message);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    storeTenant(tenant.trim());
    const failure = await session.login(tenant.trim(), username.trim(), password);
    // On success this component is already gone.
    if (failure !== null) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-form" onSubmit={submit}>
        <div class="login-head">
          <h1>{t("login.heading")}</h1>
          <LanguageSelect />
        </div>
        <label>
          {t("login.tenant")}
          <input
            data-testid="login-tenant"
            name="tenant"
            autocomplete="organization"
            required
            value={tenant}
            onInput={(e) => setTenant(e.currentTarget.value)}
          />
        </label>
        <label>
          {t("login.username")}
          <input
            data-testid="login-username"
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          {t("login.password")}
          <input
            data-testid="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="login-error" data-testid="login-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" data-testid="login-submit" disabled={busy}>
          {busy ? t("login.busy") : t("login.submit")}
        </button>
      </form>
    </main>
  );
}
