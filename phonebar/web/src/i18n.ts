// Every visible string, in English and Italian. The Italian table is typed against the
// English one, so a string missing from either is a compile error, not a blank label.
import { Observable, type ReadonlyObservable } from "./observable";
import { storeLanguage, storedLanguage } from "./preferences";
import type { Language } from "./types";

const en = {
  "app.title": "PhoneBar",
  "lang.label": "Language",
  "lang.it": "Italiano",
  "lang.en": "English",

  "login.heading": "Sign in to the PhoneBar",
  "login.tenant": "Tenant",
  "login.username": "Username",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.busy": "Signing in…",
  "login.expired": "Your session has ended: please sign in again.",
  "login.loading": "Loading…",

  "state.ready": "Ready",
  "state.not_ready": "Not ready",
  "state.offline": "Offline",
  "state.ringing": "Ringing",
  "state.busy": "On a call",
  "state.wrap_up": "Wrap-up",
  "state.label": "State",
  "state.since": "Time in state",
  "state.reason": "Reason",
  "action.ready": "Ready",
  "action.notReady": "Not ready",
  "action.logout": "Log out",

  "reason.break": "Break",
  "reason.lunch": "Lunch",
  "reason.training": "Training",
  "reason.missed": "Missed call",
  "reason.disconnected": "Disconnected",

  "device.label": "Device",
  "device.auto": "Automatic",
  "device.browser": "This browser",
  "device.phone": "Desk phone",
  "device.registered": "{device}: registered",
  "device.unregistered": "{device}: not registered",

  "sip.registered": "Softphone registered",
  "sip.unregistered": "Softphone not registered",
  "sip.off": "Softphone off (desk phone)",
  "sip.short.on": "SIP ✓",
  "sip.short.off": "SIP ✗",
  "sip.error.auth":
    "The softphone could not register: the SIP server refused its credentials. Ask your administrator to check your SIP account.",
  "sip.error.unreachable":
    "The softphone cannot reach the SIP server at {url}. Calls cannot ring this browser until it is back; retrying…",
  "sip.error.config": "The softphone settings are invalid ({detail}). Ask your administrator.",
  "sip.error.failed": "The softphone could not register ({cause}).",
  "autoAnswer.label": "Auto-answer",
  "autoAnswer.hint": "Answer calls on this browser at once",

  "hub.connected": "Connected",
  "hub.disconnected": "Reconnecting…",
  "hub.short.on": "Live",
  "hub.short.off": "Offline",
  "hub.stale": "Connection to the server lost: what you see may be out of date. Reconnecting…",

  "mic.error.denied":
    "Microphone access is blocked, so calls cannot be answered on this browser. Allow the microphone for this site (the icon in the address bar), or choose the desk phone as device.",
  "mic.error.missing": "No microphone was found. Connect a headset or microphone.",
  "mic.error.insecure":
    "This page is not on a secure connection (https or localhost), so the browser gives it no microphone.",
  "mic.error.failed": "The microphone could not be opened ({detail}).",

  "error.network": "The server cannot be reached. Check your connection.",
  "error.http": "The request failed (HTTP {status}).",
  "error.dismiss": "Dismiss",

  "call.heading": "Call",
  "call.none": "No call",
  "call.state.ringing": "Incoming call",
  "call.state.dialing": "Calling…",
  "call.state.connected": "Connected",
  "call.state.held": "On hold",
  "call.direction.inbound": "Inbound",
  "call.direction.outbound": "Outbound",
  "call.direction.internal": "Internal",
  "call.caller": "Caller",
  "call.service": "Service",
  "call.waited": "Waited",
  "call.duration": "Duration",
  "call.recording": "Recording",
  "call.answer": "Answer",
  "call.reject": "Reject",
  "call.answerOnPhone": "Answer on your phone",
  "call.pickUpPhone": "Pick up your phone to place the call",
  "call.waitingForBrowser": "Connecting the call to this browser…",
  "call.hangup": "Hang up",
  "call.hold": "Hold",
  "call.resume": "Resume",
  "call.mute": "Mute",
  "call.unmute": "Unmute",
  "call.keypad": "Keypad",
  "call.unknownCaller": "Unknown caller",

  "history.heading": "Previous contacts",
  "history.none": "No previous contacts",
  "history.date": "Date",
  "history.service": "Service",
  "history.agent": "Agent",
  "history.disposition": "Outcome",

  "transfer.heading": "Transfer",
  "transfer.kind": "To",
  "transfer.kind.agent": "Agent",
  "transfer.kind.service": "Service",
  "transfer.kind.number": "Number",
  "transfer.target": "Target",
  "transfer.choose": "Choose…",
  "transfer.numberPlaceholder": "Number",
  "transfer.blind": "Blind transfer",
  "transfer.consult": "Consult",
  "consult.heading": "Consulting {label}",
  "consult.state.ringing": "ringing",
  "consult.state.connected": "connected",
  "consult.complete": "Complete transfer",
  "consult.cancel": "Cancel",
  "consult.swap": "Swap",
  "consult.conference": "Conference",

  "parties.heading": "Parties",
  "parties.drop": "Drop",
  "party.state.ringing": "ringing",
  "party.state.connected": "connected",
  "party.state.held": "on hold",

  "wrapup.heading": "Wrap-up",
  "wrapup.disposition": "Outcome",
  "wrapup.choose": "Choose an outcome…",
  "wrapup.notes": "Notes",
  "wrapup.save": "Save",
  "wrapup.saved": "Saved",
  "wrapup.end": "End wrap-up",
  "wrapup.remaining": "Time left",
  "wrapup.noLimit": "no limit",

  "dial.heading": "Dial",
  "dial.placeholder": "Number to call",
  "dial.call": "Call",

  "agents.heading": "Agents",
  "agents.none": "No other agents",
  "agents.call": "Call",

  "queue.heading": "Queue",
  "queue.empty": "Nobody is waiting",
  "queue.take": "Take",
  "queue.waiting": "waiting {time}",

  "callbacks.heading": "Callbacks",
  "callbacks.empty": "No callbacks",
  "callbacks.refresh": "Refresh",
  "callbacks.call": "Call now",
  "callbacks.done": "Done",
  "callbacks.due": "Due {when}",

  "shortcuts.heading": "Keyboard shortcuts",
  "shortcuts.answer": "Answer",
  "shortcuts.hangup": "Hang up / reject",
  "shortcuts.ready": "Ready",
  "shortcuts.notReady": "Not ready (first reason)",
} as const;

export type MessageKey = keyof typeof en;

const it: Record<MessageKey, string> = {
  "app.title": "PhoneBar",
  "lang.label": "Lingua",
  "lang.it": "Italiano",
  "lang.en": "English",

  "login.heading": "Accedi alla PhoneBar",
  "login.tenant": "Tenant",
  "login.username": "Nome utente",
  "login.password": "Password",
  "login.submit": "Accedi",
  "login.busy": "Accesso in corso…",
  "login.expired": "La sessione è terminata: accedi di nuovo.",
  "login.loading": "Caricamento…",

  "state.ready": "Disponibile",
  "state.not_ready": "Non disponibile",
  "state.offline": "Disconnesso",
  "state.ringing": "Squilla",
  "state.busy": "In chiamata",
  "state.wrap_up": "Post-chiamata",
  "state.label": "Stato",
  "state.since": "Tempo nello stato",
  "state.reason": "Motivo",
  "action.ready": "Disponibile",
  "action.notReady": "Non disponibile",
  "action.logout": "Esci",

  "reason.break": "Pausa",
  "reason.lunch": "Pranzo",
  "reason.training": "Formazione",
  "reason.missed": "Chiamata persa",
  "reason.disconnected": "Disconnesso",

  "device.label": "Dispositivo",
  "device.auto": "Automatico",
  "device.browser": "Questo browser",
  "device.phone": "Telefono fisso",
  "device.registered": "{device}: registrato",
  "device.unregistered": "{device}: non registrato",

  "sip.registered": "Softphone registrato",
  "sip.unregistered": "Softphone non registrato",
  "sip.off": "Softphone spento (telefono fisso)",
  "sip.short.on": "SIP ✓",
  "sip.short.off": "SIP ✗",
  "sip.error.auth":
    "Il softphone non si è registrato: il server SIP ha rifiutato le credenziali. Chiedi all'amministratore di verificare il tuo account SIP.",
  "sip.error.unreachable":
    "Il softphone non raggiunge il server SIP ({url}). Le chiamate non possono arrivare a questo browser finché non torna; nuovo tentativo in corso…",
  "sip.error.config": "Le impostazioni del softphone non sono valide ({detail}). Chiedi all'amministratore.",
  "sip.error.failed": "Il softphone non si è registrato ({cause}).",
  "autoAnswer.label": "Risposta automatica",
  "autoAnswer.hint": "Rispondi subito alle chiamate su questo browser",

  "hub.connected": "Connesso",
  "hub.disconnected": "Riconnessione…",
  "hub.short.on": "In linea",
  "hub.short.off": "Non in linea",
  "hub.stale": "Connessione al server persa: ciò che vedi potrebbe non essere aggiornato. Riconnessione…",

  "mic.error.denied":
    "L'accesso al microfono è bloccato, quindi non puoi rispondere alle chiamate su questo browser. Consenti il microfono per questo sito (l'icona nella barra degli indirizzi) oppure scegli il telefono fisso come dispositivo.",
  "mic.error.missing": "Nessun microfono trovato. Collega una cuffia o un microfono.",
  "mic.error.insecure":
    "Questa pagina non è su una connessione sicura (https o localhost), quindi il browser non le concede il microfono.",
  "mic.error.failed": "Impossibile aprire il microfono ({detail}).",

  "error.network": "Il server non è raggiungibile. Controlla la connessione.",
  "error.http": "La richiesta non è riuscita (HTTP {status}).",
  "error.dismiss": "Chiudi",

  "call.heading": "Chiamata",
  "call.none": "Nessuna chiamata",
  "call.state.ringing": "Chiamata in arrivo",
  "call.state.dialing": "Chiamata in corso…",
  "call.state.connected": "In conversazione",
  "call.state.held": "In attesa",
  "call.direction.inbound": "Entrante",
  "call.direction.outbound": "Uscente",
  "call.direction.internal": "Interna",
  "call.caller": "Chiamante",
  "call.service": "Servizio",
  "call.waited": "Attesa",
  "call.duration": "Durata",
  "call.recording": "Registrazione",
  "call.answer": "Rispondi",
  "call.reject": "Rifiuta",
  "call.answerOnPhone": "Rispondi dal tuo telefono",
  "call.pickUpPhone": "Solleva il telefono per avviare la chiamata",
  "call.waitingForBrowser": "Collegamento della chiamata a questo browser…",
  "call.hangup": "Riaggancia",
  "call.hold": "Attesa",
  "call.resume": "Riprendi",
  "call.mute": "Muto",
  "call.unmute": "Riattiva audio",
  "call.keypad": "Tastierino",
  "call.unknownCaller": "Chiamante sconosciuto",

  "history.heading": "Contatti precedenti",
  "history.none": "Nessun contatto precedente",
  "history.date": "Data",
  "history.service": "Servizio",
  "history.agent": "Operatore",
  "history.disposition": "Esito",

  "transfer.heading": "Trasferimento",
  "transfer.kind": "A",
  "transfer.kind.agent": "Operatore",
  "transfer.kind.service": "Servizio",
  "transfer.kind.number": "Numero",
  "transfer.target": "Destinazione",
  "transfer.choose": "Scegli…",
  "transfer.numberPlaceholder": "Numero",
  "transfer.blind": "Trasferisci subito",
  "transfer.consult": "Consulta",
  "consult.heading": "In consultazione con {label}",
  "consult.state.ringing": "squilla",
  "consult.state.connected": "in linea",
  "consult.complete": "Completa trasferimento",
  "consult.cancel": "Annulla",
  "consult.swap": "Alterna",
  "consult.conference": "Conferenza",

  "parties.heading": "Partecipanti",
  "parties.drop": "Escludi",
  "party.state.ringing": "squilla",
  "party.state.connected": "in linea",
  "party.state.held": "in attesa",

  "wrapup.heading": "Post-chiamata",
  "wrapup.disposition": "Esito",
  "wrapup.choose": "Scegli un esito…",
  "wrapup.notes": "Note",
  "wrapup.save": "Salva",
  "wrapup.saved": "Salvato",
  "wrapup.end": "Termina post-chiamata",
  "wrapup.remaining": "Tempo rimasto",
  "wrapup.noLimit": "senza limite",

  "dial.heading": "Componi",
  "dial.placeholder": "Numero da chiamare",
  "dial.call": "Chiama",

  "agents.heading": "Operatori",
  "agents.none": "Nessun altro operatore",
  "agents.call": "Chiama",

  "queue.heading": "Coda",
  "queue.empty": "Nessuno in attesa",
  "queue.take": "Prendi",
  "queue.waiting": "in attesa da {time}",

  "callbacks.heading": "Richiamate",
  "callbacks.empty": "Nessuna richiamata",
  "callbacks.refresh": "Aggiorna",
  "callbacks.call": "Chiama ora",
  "callbacks.done": "Fatto",
  "callbacks.due": "Entro {when}",

  "shortcuts.heading": "Scorciatoie da tastiera",
  "shortcuts.answer": "Rispondi",
  "shortcuts.hangup": "Riaggancia / rifiuta",
  "shortcuts.ready": "Disponibile",
  "shortcuts.notReady": "Non disponibile (primo motivo)",
};

const dictionaries: Record<Language, Record<MessageKey, string>> = { en, it };

function initialLanguage(): Language {
  return storedLanguage() ?? (navigator.language.toLowerCase().startsWith("it") ? "it" : "en");
}

const languageStore = new Observable<Language>(initialLanguage());

/** The language the page is shown in. */
export const language: ReadonlyObservable<Language> = languageStore;

/** The agent picked a language: remember it for this browser. */
export function chooseLanguage(choice: Language): void {
  storeLanguage(choice);
  languageStore.set(choice);
}

/** The tenant's default applies only when the agent never picked one here. */
export function applyConfiguredLanguage(configured: string): void {
  if (storedLanguage()) return;
  if (configured === "it" || configured === "en") languageStore.set(configured);
}

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = dictionaries[languageStore.get()][key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A label for a key that may or may not have a translation (reasons, states from the engine). */
export function labelFor(prefix: "reason" | "state", value: string): string {
  const key = `${prefix}.${value}`;
  return key in en ? t(key as MessageKey) : value.replace(/_/g, " ");
}
