import { useEffect, useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type Api, type Me } from "../api";
import { errorText } from "../format";
import { Preferences } from "../components/Preferences";
import { Logo } from "../components/Logo";

export function LoginPage({ api, onLogin }: { api: Api; onLogin: (me: Me) => void }) {
  const { t } = useTranslation();
  const userId = useId();
  const passId = useId();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    document.title = `${t("login.title")} · ${t("app.name")}`;
  }, [t]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      onLogin(await api.login(name.trim(), password));
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthenticated") setError(t("login.wrongCredentials"));
      else if (err instanceof ApiError && err.code === "rate_limited") setError(t("login.rateLimited"));
      else setError(t("login.failed", { message: errorText(t, err) }));
      setBusy(false);
    }
  };

  return (
    <div className="login-shell">
      <main id="main" className="login-card">
        <div className="brand brand-large">
          <Logo />
          <span>{t("app.name")}</span>
        </div>
        <p className="muted">{t("app.tagline")}</p>
        <h1>{t("login.title")}</h1>
        <p>{t("login.intro")}</p>
        <form onSubmit={submit} className="stack">
          <div className="field">
            <label htmlFor={userId}>{t("login.username")}</label>
            <input
              id={userId}
              name="username"
              autoComplete="username"
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoFocus
            />
          </div>
          <div className="field">
            <label htmlFor={passId}>{t("login.password")}</label>
            <input
              id={passId}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? t("login.submitting") : t("login.submit")}
          </button>
        </form>
        <Preferences />
      </main>
    </div>
  );
}
