// The sample's account pages: plain JavaScript, no build step, no asset from elsewhere.
// Tokens live in HttpOnly cookies the server sets: this script never sees them.
// It calls the same JSON API as any client, with the browser's cookies.

const $ = (selector) => document.querySelector(selector);
const VIEWS = { '/signin': 'signin', '/signup': 'signup', '/account': 'account', '/': 'account' };

/** One refresh at a time per page: parallel 401s wait for the same one. */
let refreshing = null;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function send(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    const message = Array.isArray(data.message) ? data.message.join(', ') : data.message;
    throw new ApiError(response.status, message || response.statusText || `HTTP ${response.status}`);
  }
  return data;
}

function refresh() {
  refreshing ??= send('POST', '/auth/refresh', {}).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A call that needs the session: on a 401 the access cookie may just have expired, so refresh once and retry. */
async function api(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    try {
      await refresh();
    } catch {
      throw new ApiError(401, 'Your session has ended. Please sign in again.');
    }
    return send(method, path, body);
  }
}

function say(message, kind = 'info') {
  const status = $('#status');
  status.textContent = message;
  status.dataset.kind = kind;
}

function show(view) {
  $('#loading').hidden = true;
  for (const name of ['signin', 'signup', 'account']) $(`#view-${name}`).hidden = name !== view;
  $('#nav').hidden = view !== 'account';
  const heading = $(`#view-${view} h1`);
  document.title = `${heading.textContent} · nestjs-jwt-revocation sample`;
}

function go(path, { replace = false } = {}) {
  if (location.pathname !== path) history[replace ? 'replaceState' : 'pushState'](null, '', path);
  return render();
}

async function render() {
  const view = VIEWS[location.pathname] ?? 'account';
  if (view !== 'account') {
    show(view);
    return;
  }
  try {
    const [me, page, activity] = await Promise.all([
      api('GET', '/me'),
      api('GET', '/auth/sessions?limit=100'),
      api('GET', '/me/security-events?limit=10'),
    ]);
    $('#who').textContent = me.username;
    renderDevices(page.sessions);
    renderActivity(activity.events);
    show('account');
    if (location.pathname !== '/account') history.replaceState(null, '', '/account');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      history.replaceState(null, '', '/signin');
      show('signin');
      return;
    }
    say(error.message, 'error');
  }
}

/** "Chrome 124 on Windows" from a user agent: enough to recognise a device, not a fingerprint. */
export function describeAgent(userAgent) {
  if (!userAgent) return 'Unknown device';
  const browsers = [
    [/Edg(?:A|iOS)?\/(\d+)/, 'Edge'],
    [/OPR\/(\d+)/, 'Opera'],
    [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
    [/Firefox\/(\d+)/, 'Firefox'],
    [/FxiOS\/(\d+)/, 'Firefox'],
    [/CriOS\/(\d+)/, 'Chrome'],
    [/HeadlessChrome\/(\d+)/, 'Headless Chrome'],
    [/Chrom(?:e|ium)\/(\d+)/, 'Chrome'],
    [/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
    [/^curl\/([\d.]+)/, 'curl'],
  ];
  const systems = [
    [/iPhone|iPad|iPod/, 'iOS'],
    [/Android/, 'Android'],
    [/Windows NT/, 'Windows'],
    [/CrOS/, 'ChromeOS'],
    [/Mac OS X|Macintosh/, 'macOS'],
    [/Linux/, 'Linux'],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(userAgent));
  const system = systems.find(([pattern]) => pattern.test(userAgent));
  const name = browser ? `${browser[1]} ${browser[0].exec(userAgent)[1]}` : 'Unknown browser';
  return system ? `${name} on ${system[1]}` : name;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

function ago(iso) {
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const steps = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [30, 'day'],
    [12, 'month'],
    [Infinity, 'year'],
  ];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return relative.format(value, unit);
    value = Math.round(value / size);
  }
  return absolute.format(new Date(iso));
}

function time(iso) {
  const element = document.createElement('time');
  element.dateTime = iso;
  element.title = absolute.format(new Date(iso));
  element.textContent = ago(iso);
  return element;
}

function renderDevices(sessions) {
  const list = $('#devices');
  list.replaceChildren();
  for (const session of sessions) {
    const item = document.createElement('li');
    item.className = 'device';
    item.dataset.sessionId = session.id;
    if (session.current) item.dataset.current = 'true';

    const title = document.createElement('p');
    title.className = 'device-name';
    title.textContent = describeAgent(session.userAgent);
    if (session.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'This device';
      title.append(' ', badge);
    }

    const details = document.createElement('p');
    details.className = 'device-details';
    details.append(`IP ${session.ip ?? 'unknown'} · signed in `, time(session.createdAt), ' · last active ');
    details.append(time(session.lastSeenAt));

    item.append(title, details);
    if (!session.current) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Sign out';
      button.setAttribute('aria-label', `Sign out ${describeAgent(session.userAgent)}, IP ${session.ip ?? 'unknown'}`);
      button.addEventListener('click', () =>
        act(button, async () => {
          await api('DELETE', `/auth/sessions/${encodeURIComponent(session.id)}`);
          say(`Signed out ${describeAgent(session.userAgent)}.`);
          await render();
        }),
      );
      item.append(button);
    }
    list.append(item);
  }
}

/** Why a device was signed out, after "A device was signed out" (or "Every device was"). */
const BECAUSE = {
  logout_all: ' by "sign out everywhere"',
  password_change: ' by a password change',
  subject_deleted: ': the account was deleted',
  session_revoked: ' from the devices list',
  refresh_reuse: ': its sign-in was used twice, a sign of a stolen token',
  session_limit: ': too many devices were signed in',
  admin: ' by an administrator',
  compromised: ': its sign-in was reported stolen',
};

/** What a security event means to the account's owner, from its type and reason. */
export function describeEvent(event) {
  const because = BECAUSE[event.reason] ?? '';
  if (event.type === 'subject_revoked') return `Every device was signed out${because}`;
  if (event.type === 'token_revoked') return `A sign-in token was revoked${because}`;
  const device = event.device ? describeAgent(event.device.userAgent) : 'A device';
  if (event.reason === 'logout') return `${device} signed out`;
  // "Sign out everywhere else" revokes the other sessions one by one (reason logout_all).
  if (event.reason === 'logout_all') return `${device} was signed out by "sign out everywhere else"`;
  return `${device} was signed out${because}`;
}

function renderActivity(events) {
  const list = $('#activity');
  list.replaceChildren();
  if (events.length === 0) {
    const none = document.createElement('li');
    none.textContent = 'Nothing yet.';
    list.append(none);
  }
  for (const event of events) {
    const item = document.createElement('li');
    item.className = 'event';
    item.dataset.reason = event.reason ?? '';
    const what = document.createElement('p');
    what.className = 'event-what';
    what.textContent = describeEvent(event);
    const details = document.createElement('p');
    details.className = 'event-details';
    details.append(time(event.at));
    if (event.userAgent || event.ip)
      details.append(` · from ${describeAgent(event.userAgent)}, IP ${event.ip ?? 'unknown'}`);
    item.append(what, details);
    list.append(item);
  }
}

/** Runs an action with its button disabled, reporting failures in the status line. */
async function act(button, action) {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      say(error.message, 'error');
      await go('/signin', { replace: true });
    } else {
      say(error.message, 'error');
    }
  } finally {
    button.disabled = false;
  }
}

function field(form, name) {
  return form.querySelector(`[name="${name}"], #${name}`).value;
}

async function signIn(username, password) {
  await send('POST', '/auth/login', { username, password, session: 'cookie' });
  say('');
  await go('/account');
}

function wire() {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-route]');
    if (!link) return;
    event.preventDefault();
    say('');
    void go(link.getAttribute('href'));
  });
  window.addEventListener('popstate', () => void render());

  $('#signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    void act(form.querySelector('button'), async () => {
      try {
        await signIn(field(form, 'username'), field(form, 'password'));
      } catch (error) {
        throw error instanceof ApiError && error.status === 401 ? new Error('Wrong username or password.') : error;
      }
    });
  });

  $('#signup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (!form.reportValidity()) return;
    void act(form.querySelector('button'), async () => {
      const username = field(form, 'username');
      const password = field(form, 'password');
      await send('POST', '/auth/register', { username, password });
      await signIn(username, password);
    });
  });

  $('#sign-out').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      await api('POST', '/auth/logout');
      say('You are signed out.');
      await go('/signin');
    }),
  );

  $('#sign-out-others').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      await api('POST', '/auth/logout-others');
      say('Every other device is signed out.');
      await render();
    }),
  );

  $('#sign-out-all').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      await api('POST', '/auth/logout-all');
      say('You are signed out everywhere.');
      await go('/signin');
    }),
  );

  $('#password-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (!form.reportValidity()) return;
    void act(form.querySelector('button'), async () => {
      await api('POST', '/auth/change-password', {
        currentPassword: $('#current-password').value,
        newPassword: $('#new-password').value,
      });
      form.reset();
      say('Password changed. Your other devices are signed out.');
      await render();
    });
  });

  $('#delete-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (!form.reportValidity()) return;
    void act(form.querySelector('button'), async () => {
      await api('DELETE', '/me');
      say('Your account is deleted.');
      await go('/signup');
    });
  });
}

wire();
void render();
