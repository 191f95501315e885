"""Drives the admin console of a running `portcullis dev` with a real headless Chromium
(Selenium): sign-in through the development IdP, teammates search and filters, role changes
and refusals, sign-out-all, default member permissions, the greenlist dry run, a member's
own sessions. Saves
screenshots of the teammates page and the sessions dialog.

    python3 console_browser_check.py https://localhost:8443 SCREENSHOT_FOLDER

Prints a line per step; exits non-zero at the first failure."""
import os
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


grace, ada, sam = browser(), browser(), browser()
extra = []
try:
    # Everyone signs in once through the development IdP.
    sign_in(grace, "grace@example.com")
    wait(grace, ready.presence_of_element_located((By.ID, "teammates-table")))
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
    Select(grace.find_element(By.ID, "teammate-department")).select_by_value("")
    Select(grace.find_element(By.ID, "teammate-role")).select_by_value("super_admin")
    grace.find_element(By.ID, "teammate-filter").click()
    wait(grace, lambda d: "grace@example.com" in text_of(d, "#teammates-table") and "sam@example.com" not in text_of(d, "#teammates-table"))
    Select(grace.find_element(By.ID, "teammate-role")).select_by_value("")
    grace.find_element(By.ID, "teammate-filter").click()
    wait(grace, lambda d: "sam@example.com" in text_of(d, "#teammates-table"))
    grace.save_screenshot(os.path.join(SHOTS, "teammates.png"))
    step("found teammates by search, by department and by role")

    # Change Ada's roles and see the effective role change.
    console(grace, "#/teammates/ada%40example.com")
    assert "Member" in text_of(grace, "#effective-role")
    grace.find_element(By.ID, "primary-admin").click()
    grace.find_element(By.ID, "secondary-answers_moderator").click()
    grace.find_element(By.ID, "save-roles").click()
    notice(grace, "Roles saved")
    wait(grace, lambda d: text_of(d, "#effective-role").startswith("Admin") and "Answers moderator" in text_of(d, "#effective-role"))
    step("changed a teammate's roles and saw the effective role change")

    # A change the viewer may not make: the reason is shown.
    console(ada, "#/teammates/grace%40example.com")
    radio = ada.find_element(By.ID, "primary-member")
    assert not radio.is_enabled(), "an admin could edit a super admin"
    assert "only a super admin" in text_of(ada, "#role-editor"), text_of(ada, "#role-editor")
    console(grace, "#/teammates/grace%40example.com")
    grace.find_element(By.ID, "primary-member").click()
    grace.find_element(By.ID, "save-roles").click()
    refusal = notice(grace, "last principal")
    assert "last_role_holder" in refusal, refusal
    step("saw why a change is refused (super admin only; last holder of super_admin)")

    # Sign Sam out of all sessions; Sam's next request goes to login.
    console(grace, "#/teammates/sam%40example.com")
    grace.find_element(By.ID, "open-sessions").click()
    wait(grace, ready.visibility_of_element_located((By.ID, "sessions-dialog")))
    assert "127.0.0.1" in text_of(grace, "#sessions-table"), text_of(grace, "#sessions-table")
    grace.save_screenshot(os.path.join(SHOTS, "sessions-dialog.png"))
    grace.find_element(By.ID, "sign-out-all").click()
    wait(grace, ready.visibility_of_element_located((By.ID, "confirm-sign-out")))
    assert "This ends 1 session" in text_of(grace, "#sign-out-confirm"), text_of(grace, "#sign-out-confirm")
    grace.find_element(By.ID, "confirm-sign-out").click()
    notice(grace, "revoked")
    sam.get(BASE + "/answers/new")
    wait(sam, lambda d: ":9443/authorize" in d.current_url)
    step("signed a teammate out of all sessions; their next request went to login")

    # Default member permission: off, and Sam's next request is refused.
    Select(sam.find_element(By.ID, "email")).select_by_value("sam@example.com")
    sam.find_element(By.ID, "password").send_keys("portcullis")
    sam.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(sam, lambda d: "sam@example.com" in d.page_source)
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
        wait(grace, lambda d: expected in text_of(d, "#ip-test-result") and "located in" in text_of(d, "#ip-test-result"))
    assert "office" in text_of(grace, "#ip-test-result"), text_of(grace, "#ip-test-result")
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
    notice(sam, "1 other session(s) ended")
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
