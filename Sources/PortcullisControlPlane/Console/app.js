'use strict';

const API = '/_portcullis/api/v1';
// `roles` is GET /roles: every role's name, label and one line on what it grants, from the
// gateway's permission matrix (the console keeps no list of roles of its own).
const state = { me: null, roles: { primary: [], secondary: [] }, focusTitle: false };
const AUTH_METHODS = { oidc: 'Single sign-on', bearer: 'Bearer token from the identity provider', api_token: 'API token' };
const DEFAULT_PERMISSIONS = [
  ['answers.create', 'Can create new Answers'], ['collections.create', 'Can create new Collections'],
  ['pins.create_public', 'Can create new public Pins'], ['go_links.create', 'Can create new Go Links'],
  ['apps_actions.create', 'Can create new Apps and Actions'],
];

// ---- helpers -------------------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const roleInfo = (role) => [...state.roles.primary, ...state.roles.secondary].find((r) => r.role === role);
const label = (role) => (roleInfo(role) || { label: role }).label;
const describeRole = (role) => (roleInfo(role) || { description: '' }).description;
const primaryRoles = () => state.roles.primary.map((r) => r.role);
const secondaryRoles = () => state.roles.secondary.map((r) => r.role);
/// `1 teammate`, `2 teammates`, `0 groups`.
const count = (n, one, many) => n + ' ' + (n === 1 ? one : (many || one + 's'));
const when = (text) => text ? new Date(text).toLocaleString() : '—';
const can = (permission) => !!state.me && state.me.permissions.includes(permission);
const main = () => document.getElementById('main');

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || ('request failed (' + status + ')'));
    this.status = status;
    this.reason = body && body.reason;
  }
}

async function call(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.me && state.me.csrf_token) headers['X-CSRF-Token'] = state.me.csrf_token;
  const response = await fetch(API + path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (error) { data = null; }
  if (response.status === 401) {
    // Sign in again, back to this page: with MFA, or afresh at the IdP, when that is what the
    // admin API asked for (admin.require_mfa, admin.max_auth_age).
    const reason = data && data.reason;
    const extra = reason === 'mfa_required' ? '&mfa=1' : reason === 'reauthentication_required' ? '&reauth=1' : '';
    location.assign('/_portcullis/login?rd=' + encodeURIComponent(location.pathname + location.hash) + extra);
    throw new ApiError(401, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/// A live region for results and refusals, in words and with the reason code. It stays in
/// view (sticky at the top of the content) and is scrolled to when it is off-screen.
function notice(kind, text, reason) {
  const area = document.getElementById('notice');
  area.replaceChildren();
  area.className = 'notice ' + kind;
  area.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  area.append(h('p', {}, text, reason ? h('span', { class: 'reason' }, ' (reason: ', h('code', {}, reason), ')') : null),
    h('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss this message', onclick: clearNotice }, '×'));
  area.hidden = false;
  const box = area.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) area.scrollIntoView({ block: 'nearest' });
}

function clearNotice() {
  const area = document.getElementById('notice');
  area.hidden = true;
  area.replaceChildren();
}

function failure(error) {
  notice('error', error.message, error.reason);
}

/// Replaces the page. After a move to another page the title takes focus, so screen readers
/// announce where they are (not on the first load, and not when a page redraws after an action).
function page(title, ...content) {
  document.title = title + ' · Portcullis';
  main().replaceChildren(h('h1', { id: 'page-title', tabindex: '-1' }, title), ...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  if (state.focusTitle) {
    state.focusTitle = false;
    document.getElementById('page-title').focus();
  }
}

/// On narrow screens each row becomes a card: every cell carries its column's name.
function table(caption, headers, rows, id, empty) {
  for (const row of rows) {
    [...row.children].forEach((cell, index) => { if (headers[index]) cell.setAttribute('data-label', headers[index]); });
  }
  return h('table', { id, class: 'cards' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, empty || 'Nothing to show.'))));
}

function field(id, text, input) {
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, text), input);
}

/// The gateway words it: `Berlin, Germany`, `loopback (this machine)`, `private network`, `unknown`.
function location_(loc) {
  return (loc && loc.summary) || 'unknown';
}

function device(d) {
  return d ? (d.browser + ' on ' + d.os + ' (' + d.type + ')') : 'unknown';
}

function signedInWith(session) {
  return (AUTH_METHODS[session.auth_method] || session.auth_method) + (session.mfa ? ' with MFA' : '');
}

const RISK_ACTIONS = { flag: 'flagged', step_up: 'sign-in required', deny: 'session revoked' };

/// A session's suspicious-session flags: kind and reason in words, what was done, whether it
/// was dismissed; open flags get a Dismiss button for those who may act on sessions, except on
/// a super admin's session for a caller who is not one (the API says so: `dismiss_refused`).
/// `redraw` runs after a dismissal.
function flagList(session, redraw) {
  const flags = session.flags || [];
  if (!flags.length) return 'None';
  const refused = () => session.dismiss_refused === 'super_admin_protected'
    ? h('span', { class: 'hint why' }, ' Only a super admin may dismiss flags on a super admin\'s session.') : null;
  return h('ul', { class: 'flags' }, flags.map((f) => {
    const status = f.open
      ? (f.action === 'step_up' && !f.stepped_up_at ? 'sign-in required' : RISK_ACTIONS[f.action] || f.action)
      : 'dismissed by ' + (f.dismissed_by || 'someone') + ' ' + when(f.dismissed_at);
    const stepped = f.stepped_up_at ? ' · signed in again ' + when(f.stepped_up_at) : '';
    const dismiss = f.open && can('teammates.sign_out_sessions') && !session.dismiss_refused
      ? h('button', { type: 'button', class: 'secondary small', 'data-flag': f.id, 'aria-label': 'Dismiss the ' + f.title.toLowerCase() + ' flag',
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            await call('POST', '/sessions/flags/' + encodeURIComponent(f.id) + '/dismiss');
            notice('ok', f.title + ' flag dismissed.');
            await redraw();
          } catch (error) { failure(error); event.currentTarget.disabled = false; }
        } }, 'Dismiss')
      : null;
    return h('li', { class: f.open ? 'flag open' : 'flag' }, h('strong', {}, f.title), ': ', f.reason,
      h('span', { class: 'flag-state' }, ' (' + status + stepped + ')'), dismiss ? ' ' : null, dismiss, f.open ? refused() : null);
  }));
}

// ---- navigation ----------------------------------------------------------------------------

const PAGES = [
  ['#/teammates', 'Teammates', () => can('teammates.view')],
  ['#/flagged', 'Flagged sessions', () => can('teammates.view')],
  ['#/default-permissions', 'Default member permissions', () => can('settings.manage')],
  ['#/groups', 'User group permissions', () => can('groups.view')],
  ['#/feature-flags', 'Feature flags', () => can('settings.manage')],
  ['#/api-tokens', 'API tokens', () => can('api_tokens.create') || can('api_tokens.create_global')],
  ['#/audit', 'Audit log', () => can('audit.view')],
  ['#/greenlists', 'IP greenlist', () => can('settings.manage')],
  ['#/me', 'My sessions', () => true],
];

function renderNavigation(hash) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(h('ul', {}, PAGES.filter(([, , allowed]) => allowed()).map(([href, text]) =>
    h('li', {}, h('a', { href, 'aria-current': hash.startsWith(href) ? 'page' : null }, text)))));
  document.getElementById('who').textContent = state.me.email + ' · ' + label(state.me.primary_role);
}

/// On narrow screens the navigation collapses behind the Menu button.
function setMenu(open) {
  document.body.classList.toggle('nav-open', open);
  document.getElementById('nav-toggle').setAttribute('aria-expanded', open ? 'true' : 'false');
}

async function route() {
  clearNotice();
  setMenu(false);
  if (!state.me) return;
  const hash = location.hash || (can('teammates.view') ? '#/teammates' : '#/me');
  // A page's own state after `?` in the hash (`#/teammates?department=Sales`), so that a link
  // or a reload shows the same view.
  const [path, ...query] = hash.split('?');
  renderNavigation(path);
  const [, section, ...rest] = path.split('/');
  try {
    switch (section) {
      case 'teammates':
        if (rest.length) await teammatePage(decodeURIComponent(rest.join('/')));
        else await teammatesPage(new URLSearchParams(query.join('?')));
        break;
      case 'flagged': await flaggedSessionsPage(); break;
      case 'default-permissions': await defaultPermissionsPage(); break;
      case 'groups': await groupsPage(); break;
      case 'feature-flags': await flagsPage(); break;
      case 'api-tokens': await tokensPage(); break;
      case 'audit': await auditPage(); break;
      case 'greenlists': await greenlistsPage(); break;
      default: await mySessionsPage();
    }
  } catch (error) {
    page('Something went wrong');
    failure(error);
  }
}

// ---- teammates -----------------------------------------------------------------------------

/// The filters and the page number live in the hash (`#/teammates?query=ada&role=admin&page=2`):
/// a reload, the back button or a shared link shows the same list.
async function teammatesPage(params) {
  const query = h('input', { type: 'search', name: 'query', value: params.get('query') || '' });
  const department = h('select', { name: 'department' }, h('option', { value: '' }, 'Any department'));
  try {
    const known = await call('GET', '/departments');
    const chosen = params.get('department') || '';
    department.append(...known.departments.map((d) => h('option', { value: d, selected: d === chosen }, d)));
  } catch (error) { failure(error); }
  const role = h('select', { name: 'role' }, h('option', { value: '' }, 'Any role'),
    [...primaryRoles(), ...secondaryRoles()].map((r) => h('option', { value: r, selected: r === params.get('role') }, label(r))));
  const results = h('div', { id: 'teammates-results' });
  let pageNumber = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);

  async function load() {
    const search = new URLSearchParams();
    if (query.value) search.set('query', query.value);
    if (department.value) search.set('department', department.value);
    if (role.value) search.set('role', role.value);
    const shown = search.toString() + (pageNumber > 1 ? (search.toString() ? '&' : '') + 'page=' + pageNumber : '');
    // Replaced, not pushed: the hash change must not route again (that would redraw the form).
    history.replaceState(null, '', '#/teammates' + (shown ? '?' + shown : ''));
    search.set('page', String(pageNumber));
    try {
      const data = await call('GET', '/teammates?' + search.toString());
      const pages = Math.max(1, Math.ceil(data.total / data.page_size));
      const rows = data.teammates.map((t) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: '#/teammates/' + encodeURIComponent(t.email) }, t.name || t.email)),
        h('td', {}, t.email), h('td', {}, t.department || '—'), h('td', {}, label(t.primary_role)),
        h('td', {}, t.secondary_roles.map(label).join(', ') || '—'),
        h('td', {}, when(t.signed_up_at)), h('td', {}, when(t.last_seen_at))));
      results.replaceChildren(
        table(count(data.total, 'teammate'), ['Name', 'Email', 'Department', 'Role', 'Additional roles', 'Signed up', 'Last seen'], rows, 'teammates-table'),
        h('nav', { class: 'pager', 'aria-label': 'Pages' },
          h('button', { type: 'button', disabled: pageNumber <= 1, onclick: () => { pageNumber -= 1; load(); } }, 'Previous'),
          h('span', {}, ' Page ' + pageNumber + ' of ' + pages + ' '),
          h('button', { type: 'button', disabled: pageNumber >= pages, onclick: () => { pageNumber += 1; load(); } }, 'Next')));
    } catch (error) { failure(error); }
  }

  const form = h('form', { class: 'filters', role: 'search', onsubmit: (event) => { event.preventDefault(); pageNumber = 1; load(); } },
    field('teammate-search', 'Search by name or email', query),
    field('teammate-department', 'Department', department),
    field('teammate-role', 'Role', role),
    h('button', { type: 'submit', id: 'teammate-filter' }, 'Search'));
  page('Teammates', form, results);
  await load();
}

async function teammatePage(email) {
  const t = await call('GET', '/teammates/' + encodeURIComponent(email));
  const effective = t.effective_role;
  const who = t.name || t.email;
  const via = (s) => s.membership && s.membership.length
    ? ' (' + s.membership.map((m) => m === 'scim' ? 'SCIM' : 'sign-in claims').join(' and ') + ')' : '';
  const sources = (effective.sources || []).map((s) => h('tr', {},
    h('th', { scope: 'row' }, s.kind === 'direct' ? 'Assigned directly' : 'Group ' + s.name + via(s)),
    h('td', {}, s.primary ? label(s.primary) : '—'), h('td', {}, s.secondary.map(label).join(', ') || '—')));
  // Nothing assigns a primary role: say that Member is the default rather than show nothing.
  if (effective.primary_is_default) {
    sources.unshift(h('tr', {}, h('th', { scope: 'row' }, 'Default for everyone'), h('td', {}, label(effective.primary)), h('td', {}, '—')));
  }
  const summary = h('section', { 'aria-labelledby': 'effective-heading' },
    h('h2', { id: 'effective-heading' }, 'Effective role'),
    h('p', { id: 'effective-role' }, h('strong', {}, label(effective.primary)),
      effective.secondary.length ? ' with ' + effective.secondary.map(label).join(', ') : ''),
    effective.primary_is_default ? h('p', { id: 'role-default', class: 'hint' }, label(effective.primary) + ' is the default role: nothing assigns ' + who +
      ' a primary role, directly or through a group.') : null,
    effective.sources ? table('Where each part comes from', ['Source', 'Primary role', 'Additional roles'], sources, 'role-sources') : null,
    effective.ignored_sources ? h('p', {}, 'Group-based permissions are off: roles from groups are not counted.') : null);
  const editor = can('teammates.edit_roles') ? roleEditor(t) : null;
  // Without refresh tokens the gateway cannot ask the provider between sign-ins: the button is
  // off and says why (groups then change at the teammate's next sign-in, or through SCIM).
  const syncOff = t.sync && !t.sync.available;
  const sync = can('teammates.edit_roles') ? h('section', { 'aria-labelledby': 'sync-heading' },
    h('h2', { id: 'sync-heading' }, 'Groups from the identity provider'),
    syncOff ? h('p', { class: 'hint why', id: 'sync-unavailable' }, 'Sync now is off on this gateway: ' + t.sync.reason +
      '. Groups change at ' + who + "'s next sign-in, or at once through SCIM.") : null,
    h('button', { type: 'button', id: 'sync-now', disabled: syncOff, 'aria-describedby': syncOff ? 'sync-unavailable' : undefined, onclick: async () => {
      try {
        const result = await call('POST', '/teammates/' + encodeURIComponent(t.email) + '/sync');
        await teammatePage(t.email);
        if (result.outcome === 'idp_session_ended') {
          notice('ok', 'The identity provider no longer knows this sign-in: ' + result.revoked_sessions + ' sessions ended.');
        } else {
          notice('ok', 'Synced. Groups before: ' + (result.groups_before.join(', ') || 'none') + '. After: ' + (result.groups_after.join(', ') || 'none') + '.');
        }
      } catch (error) { failure(error); }
    } }, 'Sync now')) : null;
  const sessions = can('teammates.view') ? h('section', { 'aria-labelledby': 'sessions-heading' },
    h('h2', { id: 'sessions-heading' }, 'Sessions'),
    h('button', { type: 'button', id: 'open-sessions', onclick: (event) => sessionsDialog(t, event.currentTarget) }, 'View sessions')) : null;
  page(who,
    h('p', {}, t.email, t.department ? ' · ' + t.department : '', ' · signed up ', when(t.signed_up_at), ' · last seen ', when(t.last_seen_at)),
    summary, sessions, editor, sync);
}

/// One role to choose, with what it grants and (when it cannot be chosen) why.
function roleChoice(type, name, role, checked, option) {
  const id = name + '-' + role;
  const blocked = option && option.state !== 'allowed';
  const described = [id + '-description', blocked ? id + '-why' : null].filter(Boolean).join(' ');
  return h('div', { class: 'choice' },
    h('input', { type, name, id, value: role, checked, disabled: blocked && !(type === 'radio' && checked), 'aria-describedby': described }),
    h('div', { class: 'choice-text' },
      h('label', { for: id }, label(role)),
      h('span', { class: 'hint', id: id + '-description' }, describeRole(role)),
      blocked ? h('span', { class: 'hint why', id: id + '-why' }, option.reason) : null));
}

function roleEditor(t) {
  const options = Object.fromEntries(t.role_options.map((o) => [o.role, o]));
  const effective = t.effective_role;
  const primary = h('fieldset', {}, h('legend', {}, 'Primary role'),
    primaryRoles().map((role) => roleChoice('radio', 'primary', role, effective.primary === role, options[role])));
  const secondary = h('fieldset', {}, h('legend', {}, 'Additional roles'),
    secondaryRoles().map((role) => roleChoice('checkbox', 'secondary', role, effective.secondary.includes(role), options[role])));
  const form = h('form', { id: 'role-editor', onsubmit: async (event) => {
    event.preventDefault();
    const chosen = form.querySelector('input[name=primary]:checked');
    const body = {
      primary: chosen ? chosen.value : 'member',
      secondary: [...form.querySelectorAll('input[name=secondary]:checked')].map((input) => input.value),
    };
    try {
      await call('PUT', '/teammates/' + encodeURIComponent(t.email) + '/roles', body);
      await teammatePage(t.email);
      notice('ok', 'Roles saved. They apply to ' + t.email + "'s next request.");
      // The saved form is far below: bring the effective role into view, in the middle, where
      // the sticky notice above it covers nothing.
      document.getElementById('effective-role').scrollIntoView({ block: 'center' });
    } catch (error) { failure(error); }
  } }, primary, secondary, h('button', { type: 'submit', id: 'save-roles' }, 'Save roles'));
  return h('section', { 'aria-labelledby': 'edit-heading' }, h('h2', { id: 'edit-heading' }, 'Edit roles'), form);
}

/// The sessions of a teammate in a modal dialog. Signing them out happens inside it: one
/// button opens a confirmation that lists what will end, and the result shows in the dialog
/// (and on the page once it is closed).
async function sessionsDialog(t, opener) {
  const path = '/teammates/' + encodeURIComponent(t.email) + '/sessions';
  const dialog = h('dialog', { id: 'sessions-dialog', 'aria-labelledby': 'sessions-dialog-title' });
  const listing = h('div', {});
  // The page's notice sits behind the modal dialog: results are told in here.
  const result = h('div', { id: 'sessions-result', role: 'status', class: 'notice', hidden: true });
  function tell(kind, ...text) {
    result.className = 'notice ' + kind;
    result.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    result.replaceChildren(h('p', {}, ...text));
    result.hidden = false;
  }
  const includeTokens = h('input', { type: 'checkbox', id: 'include-tokens' });
  const summary = h('p', { id: 'sign-out-summary' });
  const start = h('button', { type: 'button', id: 'sign-out-all', class: 'quiet-danger', 'aria-controls': 'sign-out-confirm',
    onclick: () => showConfirmation(true) }, 'Sign out of all sessions…');
  const confirm = h('button', { type: 'button', id: 'confirm-sign-out', class: 'danger', onclick: signOut }, 'Yes, sign them out');
  const cancel = h('button', { type: 'button', id: 'cancel-sign-out', class: 'secondary', onclick: () => { showConfirmation(false); start.focus(); } }, 'Cancel');
  const confirmArea = h('div', { id: 'sign-out-confirm', class: 'confirm', role: 'group', 'aria-labelledby': 'sign-out-summary', hidden: true },
    summary, h('div', { class: 'choice' }, includeTokens, h('label', { for: 'include-tokens' }, 'Also revoke their API tokens')),
    confirm, cancel);
  const close = h('button', { type: 'button', id: 'close-sessions', class: 'secondary', onclick: () => dialog.close() }, 'Close');
  let sessions = [];

  function render() {
    const rows = sessions.map((s) => h('tr', {},
      h('td', {}, when(s.created_at)), h('td', {}, s.ip), h('td', {}, location_(s.location)),
      h('td', {}, device(s.device)), h('td', {}, when(s.last_seen_at)), h('td', {}, signedInWith(s)),
      h('td', {}, flagList(s, async () => { sessions = (await call('GET', path)).sessions; render(); }))));
    listing.replaceChildren(table(count(sessions.length, 'active session'),
      ['Started', 'IP address', 'Location', 'Device and browser', 'Last seen', 'Signed in with', 'Flags'], rows, 'sessions-table', 'No active sessions.'));
    summary.replaceChildren('This ends ' + count(sessions.length, 'session') + ' of ' + t.email +
      (sessions.length ? ' (' + sessions.map((s) => device(s.device) + ' from ' + s.ip).join('; ') + ')' : '') +
      ' and refuses bearer tokens issued before now. They must sign in through SSO again.');
  }

  function showConfirmation(open) {
    confirmArea.hidden = !open;
    start.hidden = open;
    if (open) { result.hidden = true; cancel.focus(); }
  }

  async function signOut() {
    confirm.disabled = true;
    try {
      const done = await call('POST', path + '/sign-out-all', { include_api_tokens: includeTokens.checked });
      const text = 'Signed ' + t.email + ' out: ' + count(done.revoked_sessions, 'session') + ' ended' +
        (includeTokens.checked ? ' and ' + count(done.revoked_tokens, 'API token') + ' revoked' : '') +
        '. Bearer tokens issued before now are refused; they must sign in again.';
      sessions = (await call('GET', path)).sessions;
      render();
      showConfirmation(false);
      tell('ok', text);
      notice('ok', text);
      close.focus();
    } catch (error) {
      tell('error', error.message, error.reason ? h('span', { class: 'reason' }, ' (reason: ', h('code', {}, error.reason), ')') : null);
    } finally {
      confirm.disabled = false;
    }
  }

  sessions = (await call('GET', path)).sessions;
  render();
  dialog.addEventListener('close', () => { dialog.remove(); if (opener) opener.focus(); });
  const mayEnd = can('teammates.sign_out_sessions');
  dialog.append(...[
    h('h2', { id: 'sessions-dialog-title' }, 'Sessions of ' + (t.name || t.email)),
    result, listing, mayEnd ? confirmArea : null,
    h('div', { class: 'actions' }, mayEnd ? start : null, close)].filter(Boolean));
  document.body.append(dialog);
  dialog.showModal();
}

// ---- flagged sessions ----------------------------------------------------------------------

/// Live sessions across all users with an open suspicious-session flag, the most recently
/// flagged first.
async function flaggedSessionsPage() {
  const data = await call('GET', '/sessions?flagged=true');
  const rows = data.sessions.map((entry) => {
    const s = entry.session;
    const who = can('teammates.view')
      ? h('a', { href: '#/teammates/' + encodeURIComponent(entry.email) }, entry.name ? entry.name + ' (' + entry.email + ')' : entry.email)
      : entry.email;
    return h('tr', {}, h('td', {}, who), h('td', {}, when(s.created_at)), h('td', {}, s.ip + ' · ' + location_(s.location)),
      h('td', {}, device(s.device)), h('td', {}, flagList(s, flaggedSessionsPage)));
  });
  page('Flagged sessions',
    h('p', {}, 'Sessions the gateway found suspicious: a new country, impossible travel, a jump to another network, a new device. ' +
      'Dismiss a flag once you have looked at it; a session waiting for a fresh sign-in goes on when its last such flag is dismissed.'),
    table(count(data.sessions.length, 'flagged session'), ['User', 'Started', 'Address and place', 'Device and browser', 'Flags'], rows,
      'flagged-sessions', 'No flagged sessions.'));
}

// ---- settings ------------------------------------------------------------------------------

// Settings are compare-and-set: every change names the version it was made on, so that a
// change by someone else in between is refused (409 conflict) rather than overwritten.
async function defaultPermissionsPage() {
  const current = await call('GET', '/settings/default-member-permissions');
  let version = current.version;
  // The switches apply to the two lowest primary roles (SPEC §1.3, footnote 1).
  const [lowest, next] = primaryRoles();
  const list = h('fieldset', {}, h('legend', {}, 'For everyone whose role is ' + label(lowest) + ' or ' + label(next)),
    DEFAULT_PERMISSIONS.map(([permission, text]) => {
      const id = 'default-' + permission.replace(/[._]/g, '-');
      const input = h('input', { type: 'checkbox', role: 'switch', id, checked: current[permission], onchange: async () => {
        try {
          const saved = await call('PUT', '/settings/default-member-permissions', { [permission]: input.checked, version });
          version = saved.version;
          notice('ok', text + (input.checked ? ' is on' : ' is off') + ' — effective on the next request.');
        } catch (error) {
          input.checked = !input.checked;
          failure(error);
          if (error.reason === 'conflict') await defaultPermissionsPage();
        }
      } });
      return h('div', { class: 'choice' }, input, h('label', { for: id }, text));
    }));
  page('Default member permissions', h('p', {}, 'Changes are saved at once and apply to the next request.'), list);
}

async function flagsPage() {
  const flags = await call('GET', '/settings/feature-flags');
  const input = h('input', { type: 'checkbox', role: 'switch', id: 'flag-group-based', checked: flags.group_based_permissions, onchange: async () => {
    try {
      await call('PUT', '/settings/feature-flags', { group_based_permissions: input.checked, version: flags.version });
      await flagsPage();
      notice('ok', 'Group-based permissions are ' + (input.checked ? 'on' : 'off') + '.');
    } catch (error) { input.checked = !input.checked; failure(error); }
  } });
  input.setAttribute('aria-describedby', 'flag-group-based-description');
  page('Feature flags', h('div', { class: 'choice' }, input, h('label', { for: 'flag-group-based' }, 'Group-based permissions (roles inherited from identity provider groups)')),
    h('p', { class: 'hint', id: 'flag-group-based-description' },
      'Turned off, roles that come from identity provider groups stop counting at the next request, on every instance: each teammate keeps only ' +
      'the roles assigned to them directly (and Member when nothing is), and anyone who was an admin only through a group loses admin access. ' +
      'Group mappings are kept, and count again when it is turned back on. Every change is in the audit log.'));
}

/// A mapping counts only for the group's members through its source, never for a group of
/// the same name from the other source.
const GROUP_SOURCES = {
  scim: { short: 'SCIM', long: 'SCIM: the members the identity provider provisions over SCIM' },
  oidc: { short: 'Sign-in claims', long: 'Sign-in claims: users whose groups claim names this group' },
};

function mappingSummary(m) {
  const roles = [m.primary ? label(m.primary) : null].concat(m.secondary.map(label)).filter(Boolean).join(', ') || 'no roles';
  return GROUP_SOURCES[m.source].short + ': ' + roles;
}

async function groupsPage() {
  const data = await call('GET', '/groups');
  const filter = h('input', { type: 'search' });
  const list = h('div', {});
  function render() {
    const text = filter.value.toLowerCase();
    const rows = data.groups.filter((g) => g.name.toLowerCase().includes(text)).map((g) => {
      const bySource = g.members_by_source || {};
      const review = g.mappings.some((m) => m.review);
      const mapped = new Set(g.mappings.map((m) => m.source));
      const buttons = can('groups.map_roles') ? [
        mapped.size < 2 ? h('button', { type: 'button', onclick: () => mappingEditor(g, null) }, 'Add mapping') : null,
      ].concat(g.mappings.map((m) => h('button', { type: 'button', class: 'secondary', onclick: () => mappingEditor(g, m.source) },
        'Edit ' + GROUP_SOURCES[m.source].short + ' mapping'))) : [];
      return h('tr', {},
        h('th', { scope: 'row' }, g.name),
        h('td', {}, String(g.members) + ' (SCIM ' + (bySource.scim || 0) + ', sign-in claims ' + (bySource.oidc || 0) + ')'),
        h('td', {}, g.mappings.length ? h('ul', { class: 'mappings' }, g.mappings.map((m) => h('li', {}, mappingSummary(m)))) : '—',
          review ? h('p', { class: 'hint why' }, 'An upgrade could not tell which source this mapping was made for and kept it for both: ' +
            'edit or remove one to choose.') : null),
        h('td', {}, buttons));
    });
    list.replaceChildren(table(count(data.groups.length, 'group'), ['Group', 'Members', 'Role mappings', ''], rows, 'groups-table'));
  }
  filter.addEventListener('input', render);
  render();
  page('User group permissions',
    h('p', { id: 'mapping-cap' }, data.mapped_groups + ' of ' + data.mapping_limit + ' groups carry role mappings.'),
    h('p', { class: 'hint' }, 'A mapping is for one source of membership: SCIM, or the groups claim of sign-ins. ' +
      'It never gives its roles to a group of the same name from the other source.'),
    field('group-search', 'Search groups by name', filter), list, h('div', { id: 'mapping-editor' }));
}

/// `source`: the mapping to edit; `null` adds one, for the source whose members the group has
/// (asked when it has both or none).
function mappingEditor(group, source) {
  const area = document.getElementById('mapping-editor');
  const bySource = group.members_by_source || {};
  const open = Object.keys(GROUP_SOURCES).filter((s) => !group.mappings.some((m) => m.source === s));
  const withMembers = open.filter((s) => (bySource[s] || 0) > 0);
  const initial = source || (withMembers.length === 1 ? withMembers[0] : open.length === 1 ? open[0] : '');
  const sourceSelect = h('select', { 'aria-describedby': 'map-source-description' },
    h('option', { value: '' }, 'Choose which members'),
    Object.entries(GROUP_SOURCES).map(([value, text]) => h('option', { value, selected: value === initial }, text.long)));
  const primaryHint = h('p', { class: 'hint', id: 'map-primary-description' });
  const primary = h('select', { 'aria-describedby': 'map-primary-description' }, h('option', { value: '' }, 'No primary role'), primaryRoles().map((r) =>
    h('option', { value: r }, label(r))));
  const showPrimary = () => primaryHint.replaceChildren(primary.value ? describeRole(primary.value) : 'Members of the group keep the primary role they have otherwise.');
  primary.addEventListener('change', showPrimary);
  const boxes = secondaryRoles().map((role) => roleChoice('checkbox', 'map', role, false, null));
  const remove = h('button', { type: 'button', class: 'danger', onclick: () => save(true) }, 'Remove mapping');
  // The fields show the chosen source's mapping, if it has one.
  function load() {
    const current = group.mappings.find((m) => m.source === sourceSelect.value);
    primary.value = current && current.primary ? current.primary : '';
    boxes.forEach((box) => { const input = box.querySelector('input'); input.checked = !!current && current.secondary.includes(input.value); });
    remove.hidden = !current;
    showPrimary();
  }
  sourceSelect.addEventListener('change', load);
  async function save(removing) {
    const body = { source: sourceSelect.value || undefined };
    if (!removing) {
      body.primary = primary.value || null;
      body.secondary = boxes.map((box) => box.querySelector('input')).filter((input) => input.checked).map((input) => input.value);
    }
    const which = sourceSelect.value ? ' (' + GROUP_SOURCES[sourceSelect.value].short + ')' : '';
    try {
      await call('PUT', '/groups/' + encodeURIComponent(group.name) + '/roles', body);
      await groupsPage();
      notice('ok', removing ? 'Mapping removed from ' + group.name + which + '.' : 'Mapping saved for ' + group.name + which + '.');
    } catch (error) { failure(error); }
  }
  area.replaceChildren(h('section', { 'aria-labelledby': 'mapping-heading' },
    h('h2', { id: 'mapping-heading' }, 'Roles for group ' + group.name),
    field('map-source', 'For which members', sourceSelect),
    h('p', { class: 'hint', id: 'map-source-description' }, 'Members: SCIM ' + (bySource.scim || 0) + ', sign-in claims ' + (bySource.oidc || 0) +
      '. The roles go only to members through this source.'),
    field('map-primary', 'Primary role', primary), primaryHint,
    h('fieldset', {}, h('legend', {}, 'Additional roles'), boxes),
    h('button', { type: 'button', onclick: () => save(false) }, 'Save mapping'),
    remove));
  load();
  area.querySelector('select').focus();
}

// ---- tokens, audit -------------------------------------------------------------------------

async function tokensPage() {
  const data = await call('GET', '/api-tokens');
  const rows = data.tokens.map((t) => h('tr', {},
    h('th', { scope: 'row' }, t.name), h('td', {}, t.owner), h('td', {}, t.scope), h('td', {}, h('code', {}, t.prefix + '…')),
    h('td', {}, when(t.created_at)), h('td', {}, when(t.expires_at)), h('td', {}, when(t.last_used_at)),
    h('td', {}, t.scope === 'global' ? String(t.act_as_count) : '—'),
    h('td', {}, t.revoked_at ? 'revoked ' + when(t.revoked_at) : h('button', { type: 'button', onclick: async () => {
      try { await call('DELETE', '/api-tokens/' + encodeURIComponent(t.id)); await tokensPage(); notice('ok', 'Token ' + t.name + ' revoked.'); }
      catch (error) { failure(error); }
    } }, 'Revoke'))));
  const name = h('input', { type: 'text', required: true, maxlength: '100' });
  const scope = h('select', {}, h('option', { value: 'user' }, 'Acts as me'),
    can('api_tokens.create_global') ? h('option', { value: 'global' }, 'Organisation-wide (global)') : null);
  const days = h('input', { type: 'number', min: '1', max: '366', value: '90' });
  const secret = h('div', { id: 'token-secret' });
  const form = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    try {
      const created = await call('POST', '/api-tokens', { name: name.value, scope: scope.value, expires_in_days: Number(days.value) });
      await tokensPage();
      const shown = h('output', { class: 'secret', id: 'token-secret-value' }, created.secret);
      document.getElementById('token-secret').replaceChildren(h('p', { role: 'status' }, 'Copy this secret now; it is not shown again: '),
        shown, ' ', h('button', { type: 'button', class: 'secondary small', id: 'copy-token-secret', onclick: async () => {
          try {
            await navigator.clipboard.writeText(created.secret);
            notice('ok', 'The secret is on the clipboard.');
          } catch (error) {
            // No clipboard (an insecure context, or permission refused): select it for Ctrl+C.
            getSelection().selectAllChildren(shown);
            notice('ok', 'The secret is selected: press Ctrl+C (or Cmd+C) to copy it.');
          }
        } }, 'Copy'));
    } catch (error) { failure(error); }
  } }, field('token-name', 'Name', name), field('token-scope', 'Scope', scope), field('token-days', 'Expires in (days)', days),
    h('button', { type: 'submit' }, 'Create token'));
  page('API tokens', form, secret, table(count(data.tokens.length, 'token'), ['Name', 'Owner', 'Scope', 'Prefix', 'Created', 'Expires', 'Last used', 'Acted as users', ''], rows, 'tokens-table'));
}

async function auditPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const actor = h('input', { type: 'text', value: params.get('actor') || '' });
  const action = h('input', { type: 'text', value: params.get('action') || '' });
  const since = h('input', { type: 'datetime-local' });
  const results = h('div', {});
  async function load() {
    const search = new URLSearchParams();
    if (actor.value) search.set('actor', actor.value);
    if (action.value) search.set('action', action.value);
    if (since.value) search.set('since', new Date(since.value).toISOString());
    try {
      const [data, verification] = await Promise.all([call('GET', '/audit?' + search.toString()), call('GET', '/audit/verify')]);
      const rows = data.entries.map((e) => h('tr', {},
        h('td', {}, when(e.at)), h('td', {}, e.actor + (e.actor_is_super_admin ? ' (super admin)' : '')), h('td', {}, e.action),
        h('td', {}, e.target), h('td', {}, e.source_ip || '—')));
      results.replaceChildren(
        h('p', { id: 'audit-chain', class: verification.problem ? 'bad' : 'good' },
          verification.problem ? 'The chain does NOT verify: ' + verification.problem : 'The chain verifies: ' + count(verification.entries, 'entry', 'entries') + ', none edited, deleted or reordered.'),
        table(count(data.entries.length, 'entry', 'entries') + ', newest first', ['When', 'Actor', 'Action', 'Target', 'Source IP'], rows, 'audit-table'));
    } catch (error) { failure(error); }
  }
  page('Audit log', h('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); load(); } },
    field('audit-actor', 'Actor', actor), field('audit-action', 'Action', action), field('audit-since', 'Since', since),
    h('button', { type: 'submit' }, 'Filter')), results);
  await load();
}

// ---- network -------------------------------------------------------------------------------

function parseEntries(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [cidr, ...rest] = line.split(/\s+/);
    return { cidr, label: rest.join(' ') };
  });
}

async function greenlistsPage() {
  const data = await call('GET', '/greenlists');
  const lists = data.greenlists.map((list) => h('section', { class: 'greenlist', 'aria-labelledby': 'list-' + list.name },
    h('h3', { id: 'list-' + list.name }, list.name, list.tenant ? ' (tenant-wide)' : '', list.source === 'config' ? ' — from the configuration file, read-only' : ''),
    h('ul', {}, list.entries.map((e) => h('li', {}, h('code', {}, e.cidr), ' ', e.label))),
    list.source === 'store' ? h('button', { type: 'button', onclick: () => greenlistEditor(list, data) }, 'Edit ' + list.name) : null));
  const tester = ipTester();
  page('IP greenlist',
    h('p', {}, data.tenant_greenlist ? 'Every request must come from the list ' + data.tenant_greenlist + (data.tenant_greenlist_source === 'config' ? ' (set in the configuration file).' : '.') : 'No tenant-wide list is set.'),
    lists,
    h('button', { type: 'button', id: 'new-greenlist', onclick: () => greenlistEditor({ name: '', entries: [], source: 'store' }, data) }, 'New list'),
    h('div', { id: 'greenlist-editor' }), tester);
}

function greenlistEditor(list, data) {
  const area = document.getElementById('greenlist-editor');
  const name = h('input', { type: 'text', value: list.name, pattern: '[A-Za-z0-9_-]{1,64}', required: true, readonly: !!list.name });
  const entries = h('textarea', { rows: '6', 'aria-describedby': 'entries-help' }, list.entries.map((e) => e.cidr + ' ' + e.label).join('\n'));
  const warning = h('div', { id: 'dry-run-result' });
  let checked = false;
  const form = h('form', { id: 'greenlist-form', onsubmit: async (event) => {
    event.preventDefault();
    const body = { entries: parseEntries(entries.value) };
    try {
      if (!checked) {
        const impact = await call('POST', '/ip-policy/dry-run', { greenlist: { name: name.value, entries: body.entries } });
        warning.replaceChildren(h('div', { role: 'alert', class: impact.sessions_cut_off.length || impact.would_lock_out_self ? 'warning' : 'good' },
          h('p', {}, count(impact.sessions_cut_off.length, 'active session') + ' would be cut off if this list were enforced tenant-wide' +
            (impact.admins_cut_off.length ? '; admins cut off: ' + impact.admins_cut_off.join(', ') : '') + '.'),
          impact.would_lock_out_self ? h('p', { id: 'lockout-warning' }, 'Your own address (' + impact.your_address + ') is not in this list: it would lock you out.') : null,
          h('ul', {}, impact.sessions_cut_off.map((s) => h('li', {}, s.email + ' from ' + s.ip + ' (' + location_(s.location) + ')')))));
        checked = true;
        submit.textContent = 'Save anyway';
        return;
      }
      await call('PUT', '/greenlists/' + encodeURIComponent(name.value), { entries: body.entries, force: true });
      await greenlistsPage();
      notice('ok', 'Greenlist ' + name.value + ' saved.');
    } catch (error) { failure(error); }
  } });
  const submit = h('button', { type: 'submit', id: 'greenlist-save' }, 'Check and save');
  entries.addEventListener('input', () => { checked = false; submit.textContent = 'Check and save'; warning.replaceChildren(); });
  form.append(field('greenlist-name', 'List name', name), field('greenlist-entries', 'Entries (one CIDR and label per line)', entries),
    h('p', { id: 'entries-help', class: 'hint' }, 'For example: 198.51.100.0/24 office'), warning, submit);
  area.replaceChildren(h('section', { 'aria-labelledby': 'editor-heading' }, h('h2', { id: 'editor-heading' }, list.name ? 'Edit ' + list.name : 'New list'), form));
  entries.focus();
}

function ipTester() {
  const ip = h('input', { type: 'text', required: true });
  const user = h('input', { type: 'email' });
  const routeName = h('input', { type: 'text' });
  const result = h('div', { id: 'ip-test-result', 'aria-live': 'polite' });
  // A result answers the fields it was asked with: any edit, or a failed test, clears it.
  for (const input of [ip, user, routeName]) input.addEventListener('input', () => result.replaceChildren());
  return h('section', { 'aria-labelledby': 'tester-heading' }, h('h2', { id: 'tester-heading' }, 'Test an address'),
    h('form', { onsubmit: async (event) => {
      event.preventDefault();
      result.replaceChildren();
      try {
        const answer = await call('POST', '/ip-policy/test', { ip: ip.value, user: user.value || undefined, route: routeName.value || undefined });
        result.replaceChildren(h('p', {}, h('strong', {}, answer.allowed ? 'Allowed' : 'Refused (' + answer.reason + ')'),
          answer.decided_by ? ' — ' + answer.decided_by.detail : '', ' · Location: ' + location_(answer.location)));
      } catch (error) { failure(error); }
    } }, field('test-ip', 'IP address', ip), field('test-user', 'User (optional)', user), field('test-route', 'Route (optional)', routeName),
      h('button', { type: 'submit' }, 'Test')), result);
}

// ---- my sessions ---------------------------------------------------------------------------

async function mySessionsPage() {
  const data = await call('GET', '/me/sessions');
  const rows = data.sessions.map((s) => h('tr', {},
    h('td', {}, when(s.created_at) + (s.current ? ' (this session)' : '')), h('td', {}, s.ip), h('td', {}, location_(s.location)),
    h('td', {}, device(s.device)), h('td', {}, when(s.last_seen_at)), h('td', {}, signedInWith(s))));
  page('My sessions', table(count(data.sessions.length, 'active session'), ['Started', 'IP address', 'Location', 'Device and browser', 'Last seen', 'Signed in with'], rows, 'my-sessions'),
    h('button', { type: 'button', id: 'sign-out-others', onclick: async () => {
      try {
        const result = await call('POST', '/me/sessions/sign-out-others');
        await mySessionsPage();
        notice('ok', result.revoked_sessions ? count(result.revoked_sessions, 'other session') + ' ended.' : 'You had no other sessions.');
      } catch (error) { failure(error); }
    } }, 'Sign out of my other sessions'));
}

// ---- start ---------------------------------------------------------------------------------

async function start() {
  const toggle = document.getElementById('nav-toggle');
  toggle.addEventListener('click', () => setMenu(toggle.getAttribute('aria-expanded') !== 'true'));
  try {
    [state.me, state.roles] = await Promise.all([call('GET', '/me'), call('GET', '/roles')]);
  } catch (error) {
    if (error.status !== 401) failure(error);
    return;
  }
  window.addEventListener('hashchange', () => { state.focusTitle = true; route(); });
  await route();
}

document.addEventListener('DOMContentLoaded', start);