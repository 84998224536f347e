// The dashboard: heygen-lib's tabs entry, imported as any web app would, and plain DOM. No
// framework: a form, two tables and a log, updated in place (docs/design.md, "The dashboard").
import {
  HeyGenAPI,
  HeyGenStatusListenerMode,
  HttpError,
  JobFailedError,
  type ConnectionState,
  type Job,
  type TabRole,
} from 'heygen-lib/tabs';
import { createOutage } from './outage.js';
import './style.css';

type Mode = HeyGenStatusListenerMode;
const MODES: readonly string[] = Object.values(HeyGenStatusListenerMode);
const STORE = {
  key: 'heygen-dashboard:api-key', // sessionStorage: this tab only
  mode: 'heygen-dashboard:mode', // localStorage: a new tab starts in the same mode
  jobs: 'heygen-dashboard:jobs', // localStorage, per client id: the jobs a new tab shows
};
/** Rows kept; older jobs leave the table (and the stored list). */
const MAX_JOBS = 100;
const MAX_LOG = 40;

/**
 * Messages between the dashboard's own tabs (the library shares the stream, not the page). Jobs
 * name their client: a tab with another API key is another client, whose jobs are not its own.
 */
type Message =
  | { type: 'jobs'; clientId: string; ids: number[] }
  | { type: 'mode'; mode: Mode }
  | { type: 'drop'; ms: number };

const $ = <T extends Element>(selector: string): T => document.querySelector<T>(selector)!;
const createForm = $<HTMLFormElement>('#create');
const createStatus = $<HTMLParagraphElement>('#create-status');
const dropForm = $<HTMLFormElement>('#drop');
const jobsBody = $<HTMLTableSectionElement>('#jobs tbody');
const logList = $<HTMLOListElement>('#log');
const keyDetails = $<HTMLDetailsElement>('#key');

const outage = createOutage();
const channel =
  'BroadcastChannel' in globalThis ? new BroadcastChannel('heygen-dashboard') : undefined;
const post = (message: Message): void => channel?.postMessage(message);

interface Row {
  tr: HTMLTableRowElement;
  state: HTMLTableCellElement;
  progress: HTMLProgressElement;
  delay: HTMLTableCellElement;
  transport: HTMLTableCellElement;
  /** Seen unfinished by this page: only then is the delay to its end this page's to show. */
  live: boolean;
  done: boolean;
  /** The client that watches it; a new one (a new API key) watches again. */
  watcher: HeyGenAPI | undefined;
}
const rows = new Map<number, Row>();

let heygen: HeyGenAPI;
/** The API key of this tab (kept in sessionStorage for a reload): set in `#key-form`. */
let tabKey: string | undefined;

/**
 * A value kept for this tab or the next ones. Storage full (another app of the origin filled it)
 * or blocked costs only that memory, never the page: a full localStorage stopped the dashboard
 * before it connected, and made created jobs look failed and go unwatched (review of 2026-12-01).
 */
type Store = 'localStorage' | 'sessionStorage';

function stored(store: Store, key: string): string | null {
  try {
    return window[store].getItem(key);
  } catch {
    return null;
  }
}

function remember(store: Store, key: string, value: string | undefined): void {
  try {
    if (value === undefined) window[store].removeItem(key);
    else window[store].setItem(key, value);
  } catch (error) {
    log(`Not kept in ${store} (${key}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

function storedMode(): Mode {
  const mode = stored('localStorage', STORE.mode) ?? '';
  return (MODES.includes(mode) ? mode : HeyGenStatusListenerMode.AUTO) as Mode;
}

/** (Re)creates the client: at start, and when an API key is entered. */
function connect(): void {
  const previous = heygen as HeyGenAPI | undefined;
  previous?.dispose();
  const apiKey = tabKey;
  heygen = new HeyGenAPI({
    url: location.origin,
    mode: storedMode(),
    fallback: true,
    ...(apiKey ? { apiKey } : {}),
    EventSource: outage.EventSource,
    logging: log,
    onStateChange: showState,
    onRoleChange: showRole,
  });
  $('#client-id').textContent = heygen.clientId;
  showRole(heygen.role);
  showState(heygen.state);
  const own = storedIds();
  // Another key's jobs (the key changed): not watched until that key comes back.
  for (const [id, row] of rows) {
    if (row.done || !previous || row.watcher !== previous || own.includes(id)) continue;
    row.watcher = undefined;
    // What it learns later is not this page's delay to show: it was not watching.
    row.live = false;
    row.state.textContent = 'not watched: another API key';
  }
  for (const id of own) watch(id);
}

// ---- jobs ----

const jobsKey = (): string => `${STORE.jobs}:${heygen.clientId}`;

function storedIds(): number[] {
  try {
    const ids: unknown = JSON.parse(stored('localStorage', jobsKey()) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is number => Number.isSafeInteger(id)) : [];
  } catch {
    return [];
  }
}

function storeIds(ids: number[]): void {
  const all = [...new Set([...storedIds(), ...ids])].sort((a, b) => a - b).slice(-MAX_JOBS);
  remember('localStorage', jobsKey(), JSON.stringify(all));
}

function addRow(id: number): Row {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = `#${id}`;
  const cell = (): HTMLTableCellElement => document.createElement('td');
  const state = cell();
  const progressCell = cell();
  const progress = document.createElement('progress');
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute('aria-label', `Job ${id} progress`);
  progressCell.append(progress);
  const delay = cell();
  const transport = cell();
  state.textContent = 'pending';
  tr.append(th, state, progressCell, delay, transport);
  // Newest first.
  const next = [...rows.keys()].filter((other) => other > id).sort((a, b) => a - b)[0];
  jobsBody.insertBefore(
    tr,
    next === undefined ? jobsBody.firstChild : rows.get(next)!.tr.nextSibling,
  );
  const row: Row = {
    tr,
    state,
    progress,
    delay,
    transport,
    live: false,
    done: false,
    watcher: undefined,
  };
  rows.set(id, row);
  $<HTMLParagraphElement>('#no-jobs').hidden = true;
  for (const old of [...rows.keys()].sort((a, b) => a - b).slice(0, -MAX_JOBS)) {
    rows.get(old)!.tr.remove();
    rows.delete(old);
  }
  return row;
}

const isFinished = (job: Job): boolean =>
  job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled';

function show(row: Row, job: Job, watcher: HeyGenAPI): void {
  // Learned now: read the clock before anything else.
  const learnedAt = Date.now();
  if (row.done) return;
  row.state.textContent = job.status;
  row.tr.dataset.status = job.status;
  row.progress.value = job.progress;
  if (!isFinished(job)) {
    row.live = true;
    return;
  }
  row.done = true;
  const finishedAt = Date.parse(job.finishedAt ?? job.updatedAt);
  row.delay.textContent = row.live ? `${Math.max(0, learnedAt - finishedAt)} ms` : '—';
  if (!row.live) row.delay.title = 'Finished before this page watched it';
  const state = watcher.state;
  row.transport.textContent = 'transport' in state ? state.transport.toUpperCase() : '—';
  showStats();
}

/** Watches a job until it ends: every version of it goes to its row. */
function watch(id: number): void {
  const row = rows.get(id) ?? addRow(id);
  if (row.done || row.watcher === heygen) return;
  const watcher = (row.watcher = heygen);
  watcher
    .waitForJob(id, { onProgress: (job) => show(row, job, watcher) })
    .then((job) => show(row, job, watcher))
    .catch((error: unknown) => {
      if (error instanceof JobFailedError) return show(row, error.job, watcher);
      // Replaced by a client with another key: that one watches now.
      if (watcher !== heygen) return;
      row.watcher = undefined;
      row.state.textContent = error instanceof Error ? error.message : String(error);
    });
}

async function createJobs(count: number, duration: number, fail: number): Promise<void> {
  const ids = await Promise.all(
    // The last `fail` of them fail.
    Array.from({ length: count }, (_, i) =>
      heygen.createJob({ duration, fail: i >= count - fail }),
    ),
  );
  storeIds(ids);
  for (const id of ids) watch(id);
  post({ type: 'jobs', clientId: heygen.clientId, ids });
  createStatus.textContent = `Created ${ids.length === 1 ? 'job' : 'jobs'} ${ids.map((id) => `#${id}`).join(', ')}`;
}

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(createForm);
  const count = Number(data.get('count'));
  const fail = Math.min(count, Number(data.get('fail')));
  const button = createForm.querySelector('button')!;
  button.disabled = true;
  createStatus.textContent = 'Creating…';
  createJobs(count, Number(data.get('duration')), fail)
    .catch((error: unknown) => {
      if (error instanceof HttpError && error.status === 401) {
        keyDetails.open = true;
        createStatus.textContent = 'This server needs an API key: enter it below.';
      } else {
        createStatus.textContent = `Could not create: ${error instanceof Error ? error.message : String(error)}`;
      }
    })
    .finally(() => (button.disabled = false));
});

// ---- connection ----

const ROLES: Record<TabRole, string> = {
  leader: 'leader: holds the stream for every tab',
  follower: 'follower: served by the leader tab',
  alone: 'alone: not shared',
};

function showRole(role: TabRole): void {
  $('#role').textContent = ROLES[role];
}

function showState(state: ConnectionState): void {
  let text: string = state.state;
  if (state.state === 'open') text = `open · ${state.transport.toUpperCase()}`;
  if (state.state === 'connecting') {
    text = `connecting · ${state.transport.toUpperCase()}${state.attempt ? ` (retry ${state.attempt})` : ''}`;
  }
  if (state.state === 'closed' && state.error) text = `closed: ${state.error.message}`;
  $('#state').textContent = text;
  log(`state: ${text}`);
  showStats();
}

function log(message: string): void {
  const item = document.createElement('li');
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toISOString().slice(11, 23);
  item.append(time, ` ${message}`);
  logList.prepend(item);
  while (logList.children.length > MAX_LOG) logList.lastElementChild!.remove();
}

function setMode(mode: Mode): void {
  remember('localStorage', STORE.mode, mode);
  $<HTMLInputElement>(`#mode input[value="${mode}"]`).checked = true;
  dropForm.querySelector('button')!.disabled = mode === HeyGenStatusListenerMode.POLL;
  if (heygen) heygen.changeBackend(mode);
}

$('#mode').addEventListener('change', (event) => {
  const mode = (event.target as HTMLInputElement).value as Mode;
  log(`mode: ${mode.toUpperCase()}`);
  setMode(mode);
  post({ type: 'mode', mode });
});

function drop(ms: number): void {
  log(`stream dropped; new streams refused for ${ms} ms`);
  outage.drop(ms);
}

dropForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const ms = Number(new FormData(dropForm).get('seconds')) * 1000;
  // The stream may be held by another tab (the leader): every tab cuts its own.
  drop(ms);
  post({ type: 'drop', ms });
});

channel?.addEventListener('message', ({ data }: MessageEvent<Message>) => {
  if (data?.type === 'jobs' && data.clientId === heygen.clientId && Array.isArray(data.ids)) {
    for (const id of data.ids) if (Number.isSafeInteger(id)) watch(id);
  } else if (data?.type === 'mode' && MODES.includes(data.mode)) {
    setMode(data.mode);
  } else if (data?.type === 'drop' && Number.isFinite(data.ms)) {
    drop(data.ms);
  }
});

// ---- cost ----

function showStats(): void {
  if (!heygen) return;
  const stats = heygen.stats();
  for (const name of ['sse', 'poll', 'api'] as const) {
    const [requests, bytes, streams] = [
      ...$<HTMLTableRowElement>(`#cost tr[data-channel="${name}"]`).cells,
    ].slice(1);
    requests!.textContent = stats[name].requests.toLocaleString('en');
    bytes!.textContent = `${stats[name].bytes.toLocaleString('en')} B`;
    streams!.textContent = stats[name].streams.toLocaleString('en');
  }
  $('#fallbacks').textContent = String(stats.fallbacks);
  $('#upgrades').textContent = String(stats.upgrades);
}

// ---- API key ----

$<HTMLFormElement>('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const key = form.querySelector<HTMLInputElement>('input[name="key"]')!.value.trim();
  // Kept in the page too: a session storage that refuses it must not lose it.
  tabKey = key || undefined;
  remember('sessionStorage', STORE.key, tabKey);
  form.reset();
  keyDetails.open = false;
  createStatus.textContent = key ? 'API key set for this tab.' : 'API key removed.';
  connect();
});

setMode(storedMode());
tabKey = stored('sessionStorage', STORE.key) ?? undefined;
connect();
showStats();
setInterval(showStats, 1000);
