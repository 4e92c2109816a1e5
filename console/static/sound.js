// @ts-check
// Alert sounds made with WebAudio (no audio files). Level 1 plays three rising tones,
// level 2 two, levels 3–4 one soft tone. Sounds are coalesced: a burst of alerts (a replay
// after a reconnect) plays one chime for the most urgent of them, at most one per second.
// The mute choice is kept in localStorage. Browsers only start audio after a user gesture,
// so the context is created/resumed on the first click or key press.

const MUTE_KEY = "vigil.muted";
const MIN_GAP_MS = 1200;
let ctx = null;
let muted = localStorage.getItem(MUTE_KEY) === "1";
let pendingLevel = null;
let timer = null;
let lastPlayed = 0;
const listeners = new Set();

const PATTERNS = {
  1: [[880, 0], [988, 0.18], [1175, 0.36]],
  2: [[784, 0], [988, 0.2]],
  3: [[659, 0]],
  4: [[587, 0]],
};

export function isMuted() {
  return muted;
}

/** "on", "off" or "blocked" (the browser has not allowed audio yet). */
export function soundState() {
  if (muted) return "off";
  if (!ctx || ctx.state !== "running") return "blocked";
  return "on";
}

export function onSoundChange(fn) {
  listeners.add(fn);
}

function changed() {
  listeners.forEach((fn) => fn(soundState()));
}

export function setMuted(value) {
  muted = Boolean(value);
  localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
  if (!muted) unlock();
  changed();
}

export function toggleMuted() {
  setMuted(!muted);
}

/** Call from a user gesture: creates or resumes the AudioContext. */
export function unlock() {
  // Safari before 14.1 has only the prefixed constructor
  const AC = window.AudioContext || /** @type {any} */ (window).webkitAudioContext;
  if (!AC) return;
  if (!ctx) {
    ctx = new AC();
    ctx.onstatechange = changed;
  }
  if (ctx.state === "suspended") ctx.resume().then(changed, () => {});
  changed();
}

/** Ask for a chime for an alert of this level (coalesced, see above). */
export function chime(level) {
  if (muted) return;
  const lv = Number(level) || 4;
  pendingLevel = pendingLevel === null ? lv : Math.min(pendingLevel, lv);
  if (timer) return;
  const wait = Math.max(0, lastPlayed + MIN_GAP_MS - Date.now());
  timer = setTimeout(flush, wait);
}

function flush() {
  timer = null;
  const level = pendingLevel;
  pendingLevel = null;
  if (level === null || muted || !ctx || ctx.state !== "running") return;
  lastPlayed = Date.now();
  const start = ctx.currentTime + 0.02;
  const volume = level <= 2 ? 0.22 : 0.12;
  for (const [freq, offset] of PATTERNS[Math.min(4, Math.max(1, level))]) {
    tone(freq, start + offset, 0.16, volume);
  }
}

function tone(freq, at, length, volume) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = "sine";
  osc.frequency.setValueAtTime(freq, at);
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(volume, at + 0.015);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
  osc.connect(gain).connect(ctx.destination);
  osc.start(at);
  osc.stop(at + length + 0.02);
}

/** For tests: how many chimes were actually played. */
export const stats = { get lastPlayed() { return lastPlayed; } };
