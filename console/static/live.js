// @ts-check
// The live feed: one WebSocket to /ws with replay on reconnect.
//
// The server sends envelopes {kind, id, data}. Alert events (alert, transition, escalation,
// dispatch) carry an increasing id; camera and ping do not. We remember the last id we
// processed and, after any reconnect, ask for everything after it with ?last_id=N in the
// URL (batch=1: messages are arrays of envelopes): nothing is missed and nothing is applied twice (an
// envelope whose id is not above the last one is ignored). The id is kept in
// sessionStorage so a page reload resumes too. Reconnects back off exponentially with
// full jitter, 0.5 s up to 10 s, and reset after a connection that lived a while.

const LAST_ID_KEY = "vigil.last_id";
const BASE_DELAY = 500;
const MAX_DELAY = 10000;
const STABLE_MS = 5000;
const QUIET_MS = 45000; // no frame at all for this long: assume a dead connection

export class LiveFeed {
  /**
   * @param {() => string|null} getToken
   * @param {(env: {kind: string, id?: number, data: any}, replay: boolean) => void} onEvent
   * @param {(status: {state: string, retryIn?: number}) => void} onStatus
   */
  constructor(getToken, onEvent, onStatus) {
    this.getToken = getToken;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.watchdog = null;
    this.stopped = true;
    this.openedAt = 0;
    this.resuming = false;
    const saved = Number(sessionStorage.getItem(LAST_ID_KEY));
    this.lastId = Number.isFinite(saved) && saved > 0 ? saved : null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }

  /** Forget the replay position (used at logout so the next user starts fresh). */
  forget() {
    this.lastId = null;
    sessionStorage.removeItem(LAST_ID_KEY);
  }

  /** Start at this id when we have none yet (the REST list's newest seq, for instance). */
  seed(id) {
    if (this.lastId === null && Number.isFinite(id) && id > 0) this.remember(id);
  }

  remember(id) {
    this.lastId = id;
    sessionStorage.setItem(LAST_ID_KEY, String(id));
  }

  url() {
    // batch=1: arrays of envelopes (keeps latency low when alerts come in bursts);
    // last_id in the URL: the server resumes before sending anything (no resume window)
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const token = encodeURIComponent(this.getToken() || "");
    const resume = this.lastId !== null ? `&last_id=${this.lastId}` : "";
    return `${proto}//${location.host}/ws?token=${token}&batch=1${resume}`;
  }

  connect() {
    if (this.stopped) return;
    this.onStatus({ state: "connecting" });
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.openedAt = Date.now();
      this.resuming = this.lastId !== null;
      this.onStatus({ state: "open" });
      this.kick();
    };
    ws.onmessage = (msg) => {
      this.kick();
      let parsed;
      try {
        parsed = JSON.parse(msg.data);
      } catch {
        return;
      }
      for (const env of Array.isArray(parsed) ? parsed : [parsed]) this.handle(env);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearTimeout(this.watchdog);
      if (ev.code === 4401 || ev.code === 1008) {
        this.onStatus({ state: "unauthorized" });
        return;
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
  }

  handle(env) {
    if (!env || typeof env.kind !== "string") return;
    if (this.resuming) {
      // The server first streams from its head (the connection's default position), then
      // answers our resume with a hello saying where it restarted. Frames before that
      // answer may have skipped events after our last id: drop them, they come again.
      const from = env.kind === "hello" && env.data ? env.data.resume_from : undefined;
      if (env.kind !== "hello") return;
      if (typeof from === "number" && from > this.lastId) return;
      this.resuming = false;
    }
    if (env.kind === "ping") {
      this.onEvent(env, false); // no id: carries the server clock
      return;
    }
    const hasId = typeof env.id === "number" && Number.isFinite(env.id);
    if (hasId && this.lastId !== null && env.id <= this.lastId) return; // already applied
    const replay = Boolean(env.replay);
    this.onEvent(env, replay);
    if (hasId) this.remember(env.id);
  }

  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (this.ws) this.ws.close(4000, "silent");
    }, QUIET_MS);
  }

  scheduleReconnect() {
    if (this.stopped) return;
    if (this.openedAt && Date.now() - this.openedAt > STABLE_MS) this.attempt = 0;
    this.openedAt = 0;
    const cap = Math.min(MAX_DELAY, BASE_DELAY * 2 ** this.attempt);
    const delay = Math.max(250, Math.round(Math.random() * cap));
    this.attempt += 1;
    this.onStatus({ state: "retry", retryIn: delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** For tests and the indicator: reconnect now (e.g. when the browser goes online). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }
}
