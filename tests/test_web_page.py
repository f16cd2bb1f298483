"""Issue 17: the offices' page at ``/``, in a real browser — headless Chromium (Debian's
``chromium`` and ``chromium-driver``, installed by scripts/test.sh) driven over the W3C WebDriver
protocol (tests/webdriver.py says why not Selenium) — against
the embedded system (in-process memory:// transport, SQLite event stores, in-process views) loaded
with a small living sample (kjfp/sample_data.py). Every page is saved as a screenshot under the
test's temporary directory; the path is printed (pytest -s shows it)."""

import re
import shutil

import pytest
import requests

from kjfp import sample_data
from tests.http_client import start_system
from tests.webdriver import Browser

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
METRICS = (
    "federations",
    "associations",
    "experts",
    "households_paired",
    "people_in_paired_households",
    "households_lifted",
    "people_lifted",
)
CLEAR_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    service_runner, api = start_system(tmp_path_factory.mktemp("page"))
    ids = sample_data.load(
        api.base,
        lambda role, scope, subject: api.token(role, scope, subject),
        log=lambda line: None,
        households=300,
        experts=20,
    )
    yield api, ids
    service_runner.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        pytest.fail("chromium and chromedriver are needed: bash scripts/test.sh installs them")
    driver = Browser(
        CHROMIUM,
        DRIVER,
        tmp_path_factory.mktemp("chromium-profile"),
        tmp_path_factory.mktemp("downloads"),
    )
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots of the page: {folder}")
    return folder


def open_page(browser, api, token, **fragment):
    """Open ``/#token=…`` as a signed link would, and wait until the page has loaded its data."""
    browser.get("about:blank")
    browser.get(
        api.base + "/#" + "&".join(f"{k}={v}" for k, v in {"token": token, **fragment}.items())
    )
    browser.wait(
        lambda b: b.find("body").get_attribute("data-ready") == "loaded", "the page loads its data"
    )


def text(browser, selector):
    return browser.find(selector).text


def shown_figures(browser):
    return {m: text(browser, f'#figures [data-metric="{m}"]') for m in METRICS}


def save(browser, folder, name):
    path = folder / f"{name}.png"
    browser.screenshot(path)
    print(f"screenshot: {path}")


def no_clear_personal_numbers(browser):
    page = browser.find("body").text
    assert not CLEAR_ID_NUMBER.search(page), CLEAR_ID_NUMBER.search(page).group(0)


def test_the_page_and_its_assets_are_served_from_the_package_and_nothing_outside_it(system):
    """Issue 17: `/` and `/assets/…` with their content types and caching headers; a path out of
    the assets folder is refused; the page carries no inline script or handler, and says so with a
    Content-Security-Policy of default-src 'self'."""
    api, _ = system
    page = requests.get(api.base + "/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache" and page.headers["ETag"]
    # Every browser test below runs under this policy: the page works with its own files only.
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self';")
    again = requests.get(
        api.base + "/", headers={"If-None-Match": page.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304
    html = page.text
    assert "<script>" not in html and not re.search(r"\son[a-z]+=", html) and "style=" not in html
    assert not re.search(r"https?://", html)  # no CDN: everything from this server
    assets = (
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
        ("divisions.json", "application/json"),
    )
    for name, kind in assets:
        asset = requests.get(f"{api.base}/assets/{name}", timeout=10)
        assert (
            asset.status_code == 200 and asset.headers["Content-Type"] == f"{kind}; charset=utf-8"
        ), name
    assert (
        "沂南"
        in requests.get(api.base + "/assets/divisions.json", timeout=10).json()["山东"]["临沂"]
    )
    for bad in (
        "../service.py",
        "..%2Fservice.py",
        "%2e%2e/web_routes.py",
        "__init__.py",
        ".hidden.js",
        "nothing.js",
        "sub/dir.js",
        "app.py",
    ):
        refused = requests.get(f"{api.base}/assets/{bad}", timeout=10)
        assert refused.status_code == 404, bad
        assert refused.headers["Content-Type"].startswith("application/json"), bad
    assert requests.get(api.base + "/no-such-page", timeout=10).json()["error"] == "NOT_FOUND"


def test_signing_in_by_link_picking_a_province_shows_the_api_figures_and_drills_down(
    system, browser, shots
):
    """Issue 17: `/#token=` signs in and leaves no token in the address; a national office picks
    山东: each `data-metric` is the API's figure; clicking a figure lists as many records as the
    figure says, paged; no personal number in clear anywhere."""
    api, ids = system
    open_page(browser, api, api.token("national_office", "national", "office:national"), **ids)
    assert browser.execute("return location.hash") == ""
    assert "token" not in browser.execute("return location.href")
    assert browser.execute("return sessionStorage.getItem('kjfp.token')")
    as_of = browser.find("#as-of").get_property("value")

    browser.select("#unit-top", "province:山东")
    browser.find("#load-counts").click()
    browser.wait(lambda d: text(d, "#counts-unit") == "山东", "山东's figures are shown")
    expected = api.get("/two-counts", params={"unit": "province:山东", "as_of": as_of}).json()
    browser.wait(
        lambda d: shown_figures(d) == {m: str(expected[m]) for m in METRICS}, "the API's figures"
    )
    assert all(expected[m] > 0 for m in METRICS)
    browser.wait(lambda d: len(d.find_all("#trend figure")) == len(METRICS), "the monthly lines")
    assert text(browser, "#positions") == f"registry #{expected['positions']['registry']}"
    save(browser, shots, "1-two-counts-shandong")

    browser.find('#figures [data-metric="experts"]').click()
    browser.wait(
        lambda d: text(d, "#records-total") == str(expected["experts"]), "the experts' records"
    )
    assert len(browser.find_all("#records-body tr")) == expected["experts"]
    no_clear_personal_numbers(browser)
    save(browser, shots, "2-drill-down-experts")

    browser.find("#records-csv").click()  # fetched with the token in its header, saved from a Blob
    saved = browser.wait(lambda b: list(browser.downloads.glob("*.csv")), "the CSV of every record")
    lines = saved[0].read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + expected["experts"]  # a header and one line per record
    assert not CLEAR_ID_NUMBER.search(saved[0].read_text(encoding="utf-8-sig"))

    paired = expected["households_paired"]
    assert paired > 50  # more than one page
    browser.find('#figures [data-metric="households_paired"]').click()
    browser.wait(lambda d: len(d.find_all("#records-body tr")) == 50, "the first page")
    assert text(browser, "#records-total") == str(paired)
    while browser.find("#records-more").is_displayed():
        shown = len(browser.find_all("#records-body tr"))
        browser.find("#records-more").click()
        browser.wait(
            lambda d, shown=shown: len(d.find_all("#records-body tr")) > shown, "the next page"
        )
    assert len(browser.find_all("#records-body tr")) == paired
    assert "*" in text(browser, "#records-body tr:first-child")  # the head's ID number, masked
    no_clear_personal_numbers(browser)


def test_the_statistics_table_highlights_the_discrepancy_and_overdue_items_are_marked(
    system, browser, shots
):
    """Issue 17: supervision — the sample's 2017 campaign; 山西 declared more experts and
    households than it registered: those rows are marked `discrepancy`; overdue rectification
    items are marked, the verified one is not."""
    api, ids = system
    open_page(browser, api, api.token("national_office", "national", "office:national"), **ids)
    browser.find('.tabs [data-tab="supervision"]').click()
    browser.wait(
        lambda d: d.find("#campaign").get_property("value") == ids["campaign"], "the campaign"
    )
    browser.select("#table-unit", "province:山西")
    browser.find("#load-supervision").click()
    browser.wait(lambda d: d.find_all("#statistics-table tr"), "the statistics table")
    table = api.get(
        f"/campaigns/{ids['campaign']}/statistics-table", params={"unit": "province:山西"}
    ).json()
    flagged = {str(item["no"]) for item in table["items"] if item["discrepancy"]}
    assert flagged and "8" in flagged
    marked = {
        row.get_attribute("data-item")
        for row in browser.find_all("#statistics-table tr.discrepancy")
    }
    assert marked == flagged
    browser.wait(lambda d: d.find_all("#rect-columns .item"), "the rectification items")
    overdue = {
        i.get_attribute("data-rectification")
        for i in browser.find_all("#rect-columns .item.overdue")
    }
    as_of = browser.find("#rect-as-of").get_property("value")
    items = api.get("/rectifications", params={"campaign": ids["campaign"], "as_of": as_of}).json()[
        "items"
    ]
    assert overdue == {i["id"] for i in items if i["overdue"]} and overdue
    verified = browser.find_all('#rect-columns [data-status="verified"] .item')
    assert len(verified) == 1 and "overdue" not in verified[0].get_attribute("class")
    save(browser, shots, "3-supervision-shanxi")


def test_funding_quotas_and_the_award_round_are_shown(system, browser, shots):
    """Issue 17: quota used / left per region of the Shandong programme and the 2020 round's
    nominations with their notice status."""
    api, ids = system
    shandong = api.token("provincial_office", "province:山东", "office:shandong")
    open_page(browser, api, shandong, **ids)
    browser.find('.tabs [data-tab="funding"]').click()
    browser.wait(lambda d: d.find_all("#quota-table tr"), "the quota table")
    linyi = api.get("/funding/summary", params={"unit": "city:山东/临沂"}).json()["quota"]
    row = browser.find('#quota-table tr[data-region="city:山东/临沂"]')
    assert [c.text for c in row.find_elements("td")][1:4] == [
        str(linyi["total"]),
        str(linyi["used"]),
        str(linyi["left"]),
    ] and linyi["used"] > 0
    nominations = api.get(f"/award-rounds/{ids['round']}/nominations", token=shandong).json()[
        "items"
    ]
    assert len(browser.find_all("#nomination-table tr")) == len(nominations) > 0
    assert browser.find("#round-notice").get_attribute("data-round-status") == "publicized"
    save(browser, shots, "4-funding-and-awards")


def test_an_auditor_sees_the_signed_checkpoint_behind_the_figures(system, browser, shots):
    """Issue 17: the log position the figures were computed at, and for an auditor the signed
    checkpoint (a C2SP note the server serves) that covers it: the one the 两数 name (issue 16)."""
    api, ids = system
    auditor = api.token("auditor", "national", "auditor:page")
    open_page(browser, api, auditor, as_of=ids["as_of"])
    browser.wait(lambda b: b.find_all("[data-signed-checkpoint]"), "the signed checkpoint")
    served = api.get("/audit/checkpoints", params={"service": "registry"}, token=auditor).json()
    counts = api.get("/two-counts", params={"unit": "national", "as_of": ids["as_of"]}).json()
    covering = next(
        i
        for i, c in enumerate(served["signed_checkpoints"])
        if c["position"] >= counts["positions"]["registry"]
    )
    shown = text(browser, "[data-signed-checkpoint]")
    assert (
        shown
        == served["signed"][covering].strip()
        == counts["checkpoints"]["registry"]["note"].strip()
    )
    save(browser, shots, "7-auditor-checkpoint")


def test_the_sign_in_box_takes_a_token_kept_for_the_tab_only(system, browser):
    """Issue 17: without a token the page asks for one; a pasted token signs in (sessionStorage,
    so it is gone with the tab); signing out forgets it."""
    api, _ = system
    browser.get(api.base + "/")
    browser.execute("sessionStorage.clear(); localStorage.clear();")
    browser.get(api.base + "/")
    browser.wait(lambda b: b.find("#sign-in").is_displayed(), "the sign-in box")
    assert not browser.find("#workspace").is_displayed()
    browser.find("#token-input").send_keys(
        api.token("provincial_office", "province:山西", "office:shanxi")
    )
    browser.find('#sign-in-form button[type="submit"]').click()
    browser.wait(
        lambda b: b.find("body").get_attribute("data-ready") == "loaded", "the page loads its data"
    )
    assert text(browser, "#identity-scope") == "山西" and text(browser, "#counts-unit") == "山西"
    assert browser.execute("return localStorage.getItem('kjfp.token')") is None
    browser.find("#sign-out").click()
    assert browser.find("#sign-in").is_displayed()
    assert browser.execute("return sessionStorage.getItem('kjfp.token')") is None


def test_a_token_of_another_province_is_refused_and_the_page_says_so(system, browser, shots):
    """Issue 17: 山西's office opens a link to 山东's records: the server refuses (403) and the
    page shows its message; the page only offers units the token may read."""
    api, ids = system
    shanxi = api.token("provincial_office", "province:山西", "office:shanxi")
    open_page(browser, api, shanxi, unit="province:山东")
    top = [o.get_property("value") for o in browser.find_all("#unit-top option")]
    assert top == ["province:山西", "province:山东"]  # its own, and the one the link names
    if browser.find("#message").is_displayed() is False:
        # 两数 themselves are not personal: the records behind them are, and are refused.
        browser.find('#figures [data-metric="experts"]').click()
    browser.wait(lambda d: d.find("#message").get_attribute("data-status") == "403", "the refusal")
    message = text(browser, "#message")
    assert "403" in message and "province:山东" in message
    assert not browser.find("#records").is_displayed()
    save(browser, shots, "5-refused-other-province")


def test_a_household_upload_shows_each_rejected_row_with_its_reasons(
    system, browser, shots, tmp_path
):
    """Issue 17: import — a CSV upload; the per-row reasons come back as a table."""
    api, _ = system
    good = sample_data.id_number("371321", "19800101", "901")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    upload = tmp_path / "households.csv"
    upload.write_text(
        "code,head_name,head_id_number,people,province,city,county,township,village\n"
        f"371321900001,张一,{good},3,山东,临沂,沂南,依汶镇,西岭村\n"
        f"371321900002,张二,{bad},2,山东,临沂,沂南,依汶镇,西岭村\n"
        f"371321900003,张三,{sample_data.id_number('371321', '19800102', '902')},2,山东,临沂,临x,,\n",
        encoding="utf-8",
    )
    open_page(browser, api, api.token("provincial_office", "province:山东", "office:shandong"))
    browser.find('.tabs [data-tab="import"]').click()
    browser.find("#import-file").send_keys(str(upload))
    browser.find("#import-upload").click()
    browser.wait(lambda d: d.find("#import-result").is_displayed(), "the import's result")
    assert "新登记 1 户" in text(browser, "#import-counts") and "拒收 2 行" in text(
        browser, "#import-counts"
    )
    rows = [
        [c.text for c in r.find_elements("td")]
        for r in browser.find_all("#import-table tr.rejected")
    ]
    assert [r[:3] for r in rows] == [["2", "371321900002", "拒收"], ["3", "371321900003", "拒收"]]
    assert "head_id_number" in rows[0][3] and "location.county" in rows[1][3]
    no_clear_personal_numbers(browser)
    save(browser, shots, "6-import")
