"""Drives the admin console of a running `portcullis dev` with a real headless Chromium
(Selenium): sign-in through the development IdP, the seeded teammates, search and filters,
role changes with each role's description and refusals, sign-out-all and its visible result,
default member permissions, the greenlist dry run, a member's own sessions, the layout at
400 px, flagged sessions. Saves screenshots of the teammates page (wide and narrow), a teammate's
page, the sessions dialog and the flagged sessions page.

    python3 console_browser_check.py https://localhost:8443 SCREENSHOT_FOLDER

Prints a line per step; exits non-zero at the first failure."""
import http.client
import os
import ssl
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, SHOTS = sys.argv[1], sys.argv[2]
CONSOLE = BASE + "/_portcullis/console/"


def browser():
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--window-size=1440,1000", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    return driver


def wait(driver, condition, seconds=15):
    # Pages re-render: an element found a moment ago may be gone; look again.
    return WebDriverWait(driver, seconds, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)


def step(text):
    print("ok:", text, flush=True)


def sign_in(driver, email, start=CONSOLE):
    driver.get(start)
    wait(driver, ready.presence_of_element_located((By.ID, "password")))
    Select(driver.find_element(By.ID, "email")).select_by_value(email)
    driver.find_element(By.ID, "password").send_keys("portcullis")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.current_url.startswith(BASE))


def console(driver, hash_):
    # A fresh load each time (a hash-only navigation would keep the page and its idea of the
    # viewer's roles).
    driver.get("about:blank")
    driver.get(CONSOLE + hash_)
    wait(driver, ready.presence_of_element_located((By.ID, "page-title")))


def text_of(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def notice(driver, contains):
    wait(driver, lambda d: contains in d.find_element(By.ID, "notice").text)
    return driver.find_element(By.ID, "notice").text


def in_view(driver, element_id):
    """The element is displayed and wholly inside the viewport."""
    return driver.execute_script(
        "const e = document.getElementById(arguments[0]); if (!e || e.hidden) return false;"
        "const r = e.getBoundingClientRect();"
        "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;", element_id)


def fits_width(driver):
    """Nothing scrolls sideways."""
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def flag_adas_session():
    """Writes two flags on Ada's newest session into dev's store; answers their ids."""
    import json
    import re
    import sqlite3
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "conf", "portcullis-dev.yaml"), encoding="utf-8") as handle:
        path = re.search(r"(/[^\s\"'}]*portcullis-dev-[^\s\"'}/]+/portcullis\.sqlite)", handle.read()).group(1)
    reference = 978307200  # Swift's JSONEncoder writes dates as seconds since 2001.
    now = time.time()
    sydney = {"country_code": "AU", "city": "Sydney", "asn": 64498,
              "coordinates": {"latitude": -33.9, "longitude": 151.2, "accuracy_radius_km": 20}}
    berlin = {"country_code": "DE", "city": "Berlin", "asn": 64497,
              "coordinates": {"latitude": 52.5, "longitude": 13.4, "accuracy_radius_km": 20}}
    flags = [
        ("a1" * 16, "impossible_travel", "Sydney, AU > Berlin, DE", "Sydney, AU → Berlin, DE in 10 min (96,200 km/h)",
         {"kind": "impossible_travel", "from": sydney, "to": berlin, "from_at": now - 600 - reference, "to_at": now - reference,
          "distance_km": 16049, "uncertainty_km": 56, "speed_kmh": 96200, "max_speed_kmh": 900}),
        ("b2" * 16, "new_country", "DE", "Berlin, DE: no sign-in from DE in the last 90 days (known: AU)",
         {"kind": "new_country", "place": berlin, "known_countries": ["AU"], "window_seconds": 7776000}),
    ]
    database = sqlite3.connect(path, timeout=10)
    try:
        session, user = database.execute(
            "SELECT s.id_hash, s.user_id FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.email = 'ada@example.com' AND s.revoked_at IS NULL ORDER BY s.created_at DESC LIMIT 1").fetchone()
        for flag_id, kind, subject, reason, evidence in flags:
            database.execute(
                "INSERT INTO session_flags (id, session_id_hash, user_id, kind, subject, action, reason, evidence, raised_at) "
                "VALUES (?, ?, ?, ?, ?, 'flag', ?, ?, ?)",
                (flag_id, session, user, kind, subject, reason, json.dumps(evidence), now))
        database.commit()
    finally:
        database.close()
    return [flag[0] for flag in flags]


# Development mode sends no HSTS: a year of it for `localhost` would pin every local app to HTTPS.
host = BASE.split("//", 1)[1]
connection = http.client.HTTPSConnection(host.split(":")[0], int(host.split(":")[1]), context=ssl._create_unverified_context(), timeout=10)
connection.request("GET", "/public/")
response = connection.getresponse()
response.read()
assert response.getheader("Strict-Transport-Security") is None, response.getheader("Strict-Transport-Security")
connection.close()
step("development mode sends no HSTS for localhost")


grace, ada, sam = browser(), browser(), browser()
extra = []
try:
    # Everyone signs in once through the development IdP.
    sign_in(grace, "grace@example.com")
    wait(grace, ready.presence_of_element_located((By.ID, "teammates-table")))
    # Every user of conf/dev-users.yaml is a teammate before signing in (Edith and Alan never do).
    table = text_of(grace, "#teammates-table")
    for email in ("grace@", "ada@", "alan@", "edith@", "sam@"):
        assert email in table, table
    assert text_of(grace, "#teammates-table caption") == "5 teammates", text_of(grace, "#teammates-table caption")
    # The first page load does not put a focus ring on the title.
    assert grace.execute_script("return document.activeElement.id") != "page-title"
    step("the development users are teammates from the start")
    sign_in(ada, "ada@example.com")
    sign_in(sam, "sam@example.com", BASE + "/answers/new")
    assert "sam@example.com" in sam.page_source, "sam did not reach the upstream"
    step("signed in through the development IdP")

    # Teammates: search and filters.
    console(grace, "#/teammates")
    search = grace.find_element(By.ID, "teammate-search")
    search.send_keys("ada")
    grace.find_element(By.ID, "teammate-filter").click()
    wait(grace, lambda d: "ada@example.com" in text_of(d, "#teammates-table") and "sam@example.com" not in text_of(d, "#teammates-table"))
    search.clear()
    # The department filter lists the departments that exist.
    Select(grace.find_element(By.ID, "teammate-department")).select_by_visible_text("Sales")
    grace.find_element(By.ID, "teammate-filter").click()
    wait(grace, lambda d: "sam@example.com" in text_of(d, "#teammates-table") and "ada@example.com" not in text_of(d, "#teammates-table"))
    # The filters live in the address: a reload shows the same list (issue 28 item 6).
    wait(grace, lambda d: "department=Sales" in d.execute_script("return location.hash"))
    grace.refresh()
    wait(grace, lambda d: "sam@example.com" in text_of(d, "#teammates-table") and "ada@example.com" not in text_of(d, "#teammates-table"))
    assert Select(grace.find_element(By.ID, "teammate-department")).first_selected_option.get_attribute("value") == "Sales"
    Select(grace.find_element(By.ID, "teammate-department")).select_by_value("")
    Select(grace.find_element(By.ID, "teammate-role")).select_by_value("super_admin")
    grace.find_element(By.ID, "teammate-filter").click()
    wait(grace, lambda d: "grace@example.com" in text_of(d, "#teammates-table") and "sam@example.com" not in text_of(d, "#teammates-table"))
    Select(grace.find_element(By.ID, "teammate-role")).select_by_value("")
    grace.find_element(By.ID, "teammate-filter").click()
    wait(grace, lambda d: "sam@example.com" in text_of(d, "#teammates-table"))
    grace.save_screenshot(os.path.join(SHOTS, "teammates.png"))
    step("found teammates by search, by department and by role")

    # Each role says what it grants, from the gateway's permission matrix.
    console(grace, "#/teammates/ada%40example.com")
    descriptions = {
        "primary-member": "The default role",
        "primary-setup_admin": "What a Member may do, and: manage data sources.",
        "primary-admin": "What a Setup Admin may do, and:",
        "primary-super_admin": "Only a Super Admin may assign",
        "secondary-answers_moderator": "Lets them moderate answers.",
        "secondary-admin_search": "Only a Super Admin may assign it.",
    }
    for role, expected in descriptions.items():
        text = text_of(grace, "#" + role + "-description")
        assert expected in text, (role, text)
        assert role + "-description" in grace.find_element(By.ID, role).get_attribute("aria-describedby")
    assert len(grace.find_elements(By.CSS_SELECTOR, "#role-editor .choice-text .hint[id$=-description]")) == 17
    # "View sessions" comes before the long role editor.
    assert grace.find_element(By.ID, "open-sessions").location["y"] < grace.find_element(By.ID, "role-editor").location["y"]
    # Development keeps no refresh tokens: "Sync now" is off and says why (issue 28 item 6).
    assert not grace.find_element(By.ID, "sync-now").is_enabled()
    assert "refresh_token_key" in text_of(grace, "#sync-unavailable"), text_of(grace, "#sync-unavailable")
    grace.save_screenshot(os.path.join(SHOTS, "teammate.png"))
    step("each role in the editor says in one line what it grants")

    # Change Ada's roles and see the effective role change.
    assert "Member" in text_of(grace, "#effective-role")
    grace.find_element(By.ID, "primary-admin").click()
    grace.find_element(By.ID, "secondary-answers_moderator").click()
    grace.find_element(By.ID, "save-roles").click()
    notice(grace, "Roles saved")
    wait(grace, lambda d: text_of(d, "#effective-role").startswith("Admin") and "Answers moderator" in text_of(d, "#effective-role"))
    # The changed role is in view after saving, and the sticky notice does not cover it.
    wait(grace, lambda d: in_view(d, "effective-role"))
    overlap = grace.execute_script(
        "const a = document.getElementById('notice').getBoundingClientRect(), b = document.getElementById('effective-role').getBoundingClientRect();"
        "return a.bottom > b.top && b.bottom > a.top;")
    assert not overlap, "the notice covers the effective role"
    step("changed a teammate's roles and saw the effective role change")

    # A change the viewer may not make: the reason is shown.
    console(ada, "#/teammates/grace%40example.com")
    radio = ada.find_element(By.ID, "primary-member")
    assert not radio.is_enabled(), "an admin could edit a super admin"
    # Hints name roles as people read them, not by their ids.
    assert "only a Super Admin" in text_of(ada, "#role-editor"), text_of(ada, "#role-editor")
    assert "super_admin" not in text_of(ada, "#role-editor"), text_of(ada, "#role-editor")
    console(grace, "#/teammates/grace%40example.com")
    grace.find_element(By.ID, "primary-member").click()
    grace.find_element(By.ID, "save-roles").click()
    refusal = notice(grace, "last person")
    assert "last_role_holder" in refusal, refusal
    assert "last person holding Super Admin" in refusal, refusal
    step("saw why a change is refused (super admin only; last holder of super_admin)")

    # A plain member: the explanation says Member is the default instead of "Nothing to show".
    console(grace, "#/teammates/sam%40example.com")
    assert "Member is the default role" in text_of(grace, "#role-default"), text_of(grace, "#main")
    assert "Default for everyone" in text_of(grace, "#role-sources"), text_of(grace, "#role-sources")
    step("a plain member's role is explained as the default")

    # Sign Sam out of all sessions; the result stays in view; Sam's next request goes to login.
    grace.find_element(By.ID, "open-sessions").click()
    wait(grace, ready.visibility_of_element_located((By.ID, "sessions-dialog")))
    sessions = text_of(grace, "#sessions-table")
    assert "127.0.0.1" in sessions and "loopback (this machine)" in sessions and "Single sign-on" in sessions, sessions
    assert text_of(grace, "#sessions-table caption") == "1 active session"
    grace.save_screenshot(os.path.join(SHOTS, "sessions-dialog.png"))
    grace.find_element(By.ID, "sign-out-all").click()
    wait(grace, ready.visibility_of_element_located((By.ID, "confirm-sign-out")))
    assert not grace.find_element(By.ID, "sign-out-all").is_displayed(), "two sign-out buttons at once"
    assert "This ends 1 session" in text_of(grace, "#sign-out-confirm"), text_of(grace, "#sign-out-confirm")
    grace.find_element(By.ID, "confirm-sign-out").click()
    wait(grace, lambda d: "Signed sam@example.com out: 1 session ended" in text_of(d, "#sessions-result"))
    assert in_view(grace, "sessions-result"), "the result is not in view"
    assert text_of(grace, "#sessions-table caption") == "0 active sessions"
    assert "No active sessions" in text_of(grace, "#sessions-table")
    grace.save_screenshot(os.path.join(SHOTS, "sessions-signed-out.png"))
    grace.find_element(By.ID, "close-sessions").click()
    wait(grace, lambda d: not d.find_elements(By.ID, "sessions-dialog"))
    assert "Signed sam@example.com out" in notice(grace, "Signed sam@example.com out")
    assert in_view(grace, "notice"), "the notice is not in view after the dialog closed"
    sam.get(BASE + "/answers/new")
    wait(sam, lambda d: ":9443/authorize" in d.current_url)
    step("signed a teammate out of all sessions, saw the result in view; their next request went to login")

    # Suspicious sessions: flags on Ada's session, written into dev's store as the gateway
    # writes them after a sign-in from Sydney and one from Berlin ten minutes later (dev's
    # clients are all on loopback, which is no place), show on the Flagged sessions page with
    # their reasons in words; dismissing them empties it.
    flag_ids = flag_adas_session()
    console(grace, "#/flagged")
    wait(grace, lambda d: "Sydney, AU → Berlin, DE in 10 min (96,200 km/h)" in text_of(d, "#flagged-sessions"))
    flagged = text_of(grace, "#flagged-sessions")
    assert "ada@example.com" in flagged and "Impossible travel" in flagged and "New country" in flagged, flagged
    assert text_of(grace, "#flagged-sessions caption") == "1 flagged session", text_of(grace, "#flagged-sessions caption")
    grace.save_screenshot(os.path.join(SHOTS, "flagged-sessions.png"))
    grace.find_element(By.CSS_SELECTOR, "button[data-flag='" + flag_ids[0] + "']").click()
    notice(grace, "Impossible travel flag dismissed.")
    wait(grace, lambda d: "dismissed by grace@example.com" in text_of(d, "#flagged-sessions"))
    grace.find_element(By.CSS_SELECTOR, "button[data-flag='" + flag_ids[1] + "']").click()
    wait(grace, lambda d: "No flagged sessions" in text_of(d, "#flagged-sessions"))
    step("saw a flagged session with its reasons in words and dismissed its flags")

    # Default member permission: off, and Sam's next request is refused.
    Select(sam.find_element(By.ID, "email")).select_by_value("sam@example.com")
    sam.find_element(By.ID, "password").send_keys("portcullis")
    sam.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(sam, lambda d: "sam@example.com" in d.page_source)
    console(grace, "#/default-permissions")
    assert "Can create new public Pins" in text_of(grace, "#main"), text_of(grace, "#main")
    console(grace, "#/feature-flags")
    described = grace.find_element(By.ID, "flag-group-based").get_attribute("aria-describedby")
    assert "stop counting at the next request" in text_of(grace, "#" + described), described
    console(grace, "#/default-permissions")
    switch = grace.find_element(By.ID, "default-answers-create")
    assert switch.is_selected()
    switch.click()
    notice(grace, "is off")
    sam.get(BASE + "/answers/new")
    wait(sam, lambda d: "permission_required" in d.page_source)
    step("turned a default member permission off and saw the next request refused")

    # Greenlist: the dry run warns before saving.
    console(grace, "#/greenlists")
    grace.find_element(By.ID, "new-greenlist").click()
    grace.find_element(By.ID, "greenlist-name").send_keys("office")
    grace.find_element(By.ID, "greenlist-entries").send_keys("198.51.100.0/24 office")
    grace.find_element(By.ID, "greenlist-save").click()
    wait(grace, lambda d: "would be cut off" in text_of(d, "#dry-run-result"))
    assert "lock you out" in text_of(grace, "#dry-run-result"), text_of(grace, "#dry-run-result")
    grace.find_element(By.ID, "greenlist-save").click()
    notice(grace, "Greenlist office saved")
    wait(grace, lambda d: "198.51.100.0/24" in text_of(d, "#main"))
    step("edited the greenlist after the dry-run warning")

    # The IP-policy tester.
    for address, expected in (("203.0.113.7", "Refused (ip_not_greenlisted)"), ("198.51.100.7", "Allowed")):
        field_ = grace.find_element(By.ID, "test-ip")
        field_.clear()
        field_.send_keys(address)
        grace.find_element(By.XPATH, "//button[text()='Test']").click()
        wait(grace, lambda d: expected in text_of(d, "#ip-test-result") and "Location: " in text_of(d, "#ip-test-result"))
    assert "office" in text_of(grace, "#ip-test-result"), text_of(grace, "#ip-test-result")
    # Editing the address clears the answer to the old one (issue 28 item 6).
    grace.find_element(By.ID, "test-ip").send_keys("9")
    wait(grace, lambda d: text_of(d, "#ip-test-result") == "")
    step("tested addresses against the IP policy")

    # A member: only their own sessions, and they can end their other ones.
    sam_elsewhere = browser()
    extra.append(sam_elsewhere)
    sign_in(sam_elsewhere, "sam@example.com")
    wait(sam_elsewhere, ready.presence_of_element_located((By.ID, "my-sessions")))
    console(sam, "")
    wait(sam, ready.presence_of_element_located((By.ID, "my-sessions")))
    links = [link.text for link in sam.find_elements(By.CSS_SELECTOR, "#nav a")]
    assert links == ["My sessions"], links
    wait(sam, lambda d: "2 active sessions" in text_of(d, "#my-sessions caption"))
    console(sam, "#/teammates")
    notice(sam, "permission_required")
    console(sam, "#/me")
    sam.find_element(By.ID, "sign-out-others").click()
    notice(sam, "1 other session ended")
    assert "1 active session" in text_of(sam, "#my-sessions caption"), text_of(sam, "#my-sessions caption")
    sam_elsewhere.get(CONSOLE)
    wait(sam_elsewhere, lambda d: ":9443/authorize" in d.current_url)
    step("a member sees only their own sessions and signed out their other one")

    # Group mappings, API tokens and the audit log.
    console(grace, "#/groups")
    wait(grace, ready.presence_of_element_located((By.ID, "groups-table")))
    assert "of 1000 groups carry role mappings" in text_of(grace, "#mapping-cap"), text_of(grace, "#mapping-cap")
    grace.find_element(By.ID, "group-search").send_keys("Sal")
    wait(grace, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#groups-table tbody tr")) == 1)
    grace.find_element(By.XPATH, "//tr[th[text()='Sales']]//button").click()
    # Sales's members come through the sign-in claims: the mapping is for them, not for a SCIM
    # group of the same name.
    source = grace.find_element(By.ID, "map-source").get_attribute("value")
    assert source == "oidc", source
    grace.find_element(By.ID, "map-answers_moderator").click()
    grace.find_element(By.XPATH, "//button[text()='Save mapping']").click()
    notice(grace, "Mapping saved for Sales")
    console(grace, "#/teammates/sam%40example.com")
    wait(grace, lambda d: "Sales" in text_of(d, "#main") and "Answers moderator" in text_of(d, "#main"))
    step("mapped a group to a role and saw it in a teammate's effective role")

    console(grace, "#/api-tokens")
    grace.find_element(By.ID, "token-name").send_keys("ci")
    grace.find_element(By.XPATH, "//button[text()='Create token']").click()
    wait(grace, lambda d: "pct_" in text_of(d, "#token-secret"))
    # The one-time secret has a Copy button (clipboard, or selected for Ctrl+C without one).
    grace.find_element(By.ID, "copy-token-secret").click()
    wait(grace, lambda d: "clipboard" in text_of(d, "#notice") or "Ctrl+C" in text_of(d, "#notice"))
    # Names and dates in the token table are not broken inside words.
    wrap = grace.execute_script("return getComputedStyle(document.querySelector('#tokens-table td')).overflowWrap")
    assert wrap == "normal", wrap
    grace.find_element(By.XPATH, "//tr[th[text()='ci']]//button[text()='Revoke']").click()
    notice(grace, "Token ci revoked")
    console(grace, "#/audit")
    wait(grace, lambda d: "The chain verifies" in text_of(d, "#audit-chain"))
    everyone = len(grace.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr"))
    grace.find_element(By.ID, "audit-actor").send_keys("grace@example.com")
    grace.find_element(By.XPATH, "//button[text()='Filter']").click()

    def only_grace(d):
        actors = [cell.text for cell in d.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr td:nth-child(2)")]
        return actors and len(actors) < everyone and all(actor.startswith("grace@example.com") for actor in actors)
    wait(grace, only_grace)
    step("created and revoked an API token; the audit log verifies and filters by actor")

    # 400 px wide: the navigation collapses behind Menu and nothing scrolls sideways.
    grace.set_window_size(400, 900)
    console(grace, "#/teammates")
    wait(grace, ready.presence_of_element_located((By.ID, "teammates-table")))
    width = grace.execute_script("return window.innerWidth")
    assert width <= 400, width
    assert not grace.find_element(By.ID, "nav").is_displayed(), "the navigation takes the screen"
    assert fits_width(grace), grace.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    cells = grace.find_elements(By.CSS_SELECTOR, "#teammates-table tbody td[data-label=Email]")
    assert cells and "Email" in grace.execute_script("return getComputedStyle(arguments[0], '::before').content", cells[0])
    grace.save_screenshot(os.path.join(SHOTS, "teammates-narrow.png"))
    toggle = grace.find_element(By.ID, "nav-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    wait(grace, lambda d: d.find_element(By.ID, "nav").is_displayed())
    assert toggle.get_attribute("aria-expanded") == "true"
    grace.find_element(By.LINK_TEXT, "Audit log").click()
    wait(grace, lambda d: "The chain verifies" in text_of(d, "#audit-chain"))
    assert not grace.find_element(By.ID, "nav").is_displayed(), "the menu stays open after choosing a page"
    # A page reached by navigation takes focus on its title, without a ring.
    assert grace.execute_script("return document.activeElement.id") == "page-title"
    assert grace.execute_script("return getComputedStyle(document.activeElement).outlineStyle") == "none"
    assert fits_width(grace)
    console(grace, "#/teammates/sam%40example.com")
    grace.find_element(By.ID, "open-sessions").click()
    wait(grace, ready.visibility_of_element_located((By.ID, "sessions-dialog")))
    assert fits_width(grace)
    grace.set_window_size(1440, 1000)
    step("at 400 px the navigation collapses and nothing scrolls sideways")
    print("console browser check passed", flush=True)
except Exception:
    for name, driver in [("grace", grace), ("ada", ada), ("sam", sam)] + [("sam-elsewhere", d) for d in extra]:
        try:
            driver.save_screenshot(os.path.join(SHOTS, "failure-" + name + ".png"))
            print("---", name, driver.current_url, "\n", driver.find_element(By.TAG_NAME, "body").text[:3000], flush=True)
        except Exception as error:
            print("---", name, "no page:", error, flush=True)
    raise
finally:
    for driver in [grace, ada, sam] + extra:
        driver.quit()
