"""Screenshots of the HTML report in a real headless browser (host side; no TensorFlow).

`find_browser()` looks for Chromium/Chrome: `ARTIFACT_BROWSER` (a command name or a path) if set,
else chromium, chromium-browser, google-chrome, google-chrome-stable on PATH. On Debian/Ubuntu:
`apt-get install chromium fonts-dejavu-core`.

`screenshot(html, png)` opens the page headless and writes a PNG of the top `height` pixels of it
(Chromium's command line captures the window, not the whole page: pass a window tall enough).
"""

import os
import shutil
import signal
import subprocess
import tempfile

from artifact.core.errors import ArtifactError, MissingInputError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENV = "ARTIFACT_BROWSER"
INSTALL_HINT = f"install one (Debian/Ubuntu: `apt-get install chromium fonts-dejavu-core`) or set {ENV}"


def find_browser():
    """The path of a Chromium-like browser, or None. `ARTIFACT_BROWSER`, when set, is the only candidate."""
    wanted = os.environ.get(ENV)
    if wanted:
        return shutil.which(wanted)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_browser():
    """`find_browser()`, or a MissingInputError saying how to get one."""
    path = find_browser()
    if path is None:
        wanted = os.environ.get(ENV)
        where = f"{ENV}={wanted!r} is not an executable" if wanted else f"none of {', '.join(CANDIDATES)} is on PATH"
        raise MissingInputError(f"no headless browser for the report screenshot: {where}; {INSTALL_HINT}")
    return path


def _tail(text, lines=8):
    """The last lines of the browser's output that are not its harmless D-Bus complaints."""
    kept = [ln for ln in text.splitlines() if ln.strip() and "dbus" not in ln]
    return " | ".join(kept[-lines:]) or "(no output)"


def screenshot(html_path, png_path, width=1280, height=1600, browser=None, timeout=60, budget_ms=5000):
    """Open `html_path` in headless Chromium and write a `width`x`height` PNG of it to `png_path`.

    `budget_ms` of virtual time lets the page load and its images decode before the capture (it is
    fast-forwarded, not waited for). Returns `png_path`; raises ArtifactError naming the browser and
    the tail of its output when it fails or runs past `timeout` seconds.
    """
    browser = browser or require_browser()
    html_path, png_path = os.path.abspath(html_path), os.path.abspath(png_path)
    if not os.path.isfile(html_path):
        raise MissingInputError(f"{html_path}: no such page to screenshot; render the report first (`invoke report`)")
    if os.path.exists(png_path):
        os.remove(png_path)
    with tempfile.TemporaryDirectory(prefix="artifact-browser-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", "--force-device-scale-factor=1",
               f"--virtual-time-budget={int(budget_ms)}", f"--window-size={int(width)},{int(height)}",
               f"--screenshot={png_path}", "file://" + html_path]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)   # the browser and the helpers it started, nothing else
            out, _ = proc.communicate()
            raise ArtifactError(f"{browser}: no screenshot of {html_path} after {timeout} s; "
                                f"browser output: {_tail(out)}")
    if proc.returncode != 0 or not os.path.isfile(png_path) or os.path.getsize(png_path) == 0:
        raise ArtifactError(f"{browser} (exit {proc.returncode}) wrote no screenshot {png_path} of {html_path}; "
                            f"browser output: {_tail(out)}")
    return png_path
