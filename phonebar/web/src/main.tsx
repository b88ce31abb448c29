// Composition root: builds the app session, exposes diagnostics, renders.
import { render } from "preact";
import { AppSession } from "./app-session";
import { App } from "./components/App";
import { exposeDiagnostics } from "./diagnostics";
import { rawAudioRequested } from "./preferences";

const remoteAudio = document.getElementById("remote-audio");
const root = document.getElementById("app");
if (!(remoteAudio instanceof HTMLAudioElement) || !root) throw new Error("index.html lacks #remote-audio or #app");

const session = new AppSession(remoteAudio, rawAudioRequested());
exposeDiagnostics(() => session.current());
// Unregister on the way out so `auto` stops ringing a browser that is gone.
window.addEventListener("pagehide", () => session.current()?.softphone.shutdown());
// Back from the back/forward cache the softphone is shut down: start over cleanly.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) window.location.reload();
});

render(<App session={session} />, root);
void session.boot();
