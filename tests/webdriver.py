"""A small W3C WebDriver client (requests → chromedriver) for the page tests.

Why not Selenium: its dependency trio cannot be imported once eventlet has patched the socket
module (``GreenSocket`` lacks ``sendmsg``), and trio registers a hypothesis plugin, so merely
installing it broke every pytest run of this project. The protocol is plain HTTP + JSON; the
dozen commands the tests use are below (https://www.w3.org/TR/webdriver2/)."""

import base64
import subprocess
import time

import requests

from tests.infrastructure import free_port, wait_for_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
# Flags that work on this closed network: without the background-networking ones Chromium's
# own connections are refused and it stalls.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class WebDriverError(AssertionError):
    pass


class Element:
    def __init__(self, browser, element_id):
        self.browser, self.id = browser, element_id

    def _call(self, method, command, body=None):
        return self.browser.call(method, f"/element/{self.id}/{command}", body)

    def click(self):
        self._call("POST", "click", {})

    def send_keys(self, text):
        self._call("POST", "value", {"text": text})

    @property
    def text(self):
        return self._call("GET", "text")

    def get_attribute(self, name):
        return self._call("GET", f"attribute/{name}")

    def get_property(self, name):
        return self._call("GET", f"property/{name}")

    def is_displayed(self):
        return self._call("GET", "displayed")

    def find_elements(self, css):
        return [
            Element(self.browser, e[ELEMENT])
            for e in self._call("POST", "elements", {"using": "css selector", "value": css})
        ]


class Browser:
    """Headless Chromium driven through chromedriver, with a fresh profile in ``profile``; what
    the page saves goes to ``downloads``."""

    def __init__(self, chromium, chromedriver, profile, downloads, width=1360, height=1800):
        self.downloads = downloads
        port = free_port()
        self.process = subprocess.Popen(
            [chromedriver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(port)
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        options = {
            "binary": chromium,
            "args": [
                *CHROMIUM_FLAGS,
                f"--window-size={width},{height}",
                f"--user-data-dir={profile}",
            ],
            "prefs": {
                "download.default_directory": str(downloads),
                "download.prompt_for_download": False,
            },
        }
        reply = self.http.post(
            self.base + "/session",
            json={
                "capabilities": {
                    "alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}
                }
            },
            timeout=60,
        ).json()["value"]
        if "sessionId" not in reply:
            self.process.kill()
            raise WebDriverError(f"chromedriver could not start Chromium: {reply}")
        self.session = f"{self.base}/session/{reply['sessionId']}"

    def call(self, method, path, body=None):
        reply = self.http.request(method, self.session + path, json=body, timeout=60)
        value = reply.json().get("value")
        if reply.status_code != 200:
            raise WebDriverError(
                f"{method} {path}: {value.get('error')}: {value.get('message', '')[:300]}"
            )
        return value

    def get(self, url):
        self.call("POST", "/url", {"url": url})

    def execute(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        return Element(
            self, self.call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
        )

    def find_all(self, css):
        found = self.call("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, e[ELEMENT]) for e in found]

    def select(self, css, value):
        """Choose an option of a <select> as a user would (by clicking it)."""
        self.find(f'{css} option[value="{value}"]').click()

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.call("GET", "/screenshot")))

    def wait(self, condition, what, seconds=20):
        deadline = time.monotonic() + seconds
        while True:
            try:
                result = condition(self)
            except WebDriverError:
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                raise WebDriverError(f"waited {seconds} s for {what}")
            time.sleep(0.05)

    def quit(self):
        try:
            self.http.delete(self.session, timeout=30)
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)
