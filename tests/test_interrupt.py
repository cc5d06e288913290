"""Ctrl-C stops fits within about a second, as KeyboardInterrupt, with no job left running."""

import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from fastl1 import Lasso, _interrupt

# A fit that runs for well over a minute if not interrupted (tolerance below reach).
SCRIPT = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in an interactive session
import numpy as np
from fastl1 import Lasso, LassoCV, LogisticRegression, _interrupt
rng = np.random.default_rng(0)
X = rng.standard_normal((300, 40000))
y = X[:, :40].sum(axis=1) + rng.standard_normal(300)
Lasso(alpha=1.0).fit(X[:40, :50], y[:40])  # compile outside the timed part
LassoCV(n_jobs=2, alphas=3, cv=2).fit(X[:40, :50], y[:40])
LogisticRegression().fit(X[:40, :50], y[:40] > 0)
print("ready", flush=True)
start = time.perf_counter()
try:
    {fit}
except KeyboardInterrupt:
    print("interrupted after", time.perf_counter() - start, flush=True)
    print("running", _interrupt._WATCH.running, "stop", int(_interrupt.STOP[0]), flush=True)
    sys.exit(0)
print("finished after", time.perf_counter() - start, flush=True)
sys.exit(1)
"""

FITS = {
    "single fit": "Lasso(alpha=1e-4, tol=1e-15, max_iter=10**7).fit(X, y)",
    "LassoCV, one thread": "LassoCV(n_jobs=1, tol=1e-15, max_iter=10**7, eps=1e-5).fit(X, y)",
    "LassoCV, two threads": "LassoCV(n_jobs=2, tol=1e-15, max_iter=10**7, eps=1e-5).fit(X, y)",
    "logistic fit": "LogisticRegression(C=1e4, tol=1e-12, max_iter=10**6).fit(X, y > 0)",
}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("fit", list(FITS), ids=list(FITS))
def test_ctrl_c_stops_a_fit_within_a_second(fit):
    process = subprocess.Popen([sys.executable, "-c", SCRIPT.replace("{fit}", FITS[fit])],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()[-2000:]
        time.sleep(1.5)  # inside the kernels by now
        sent = time.perf_counter()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        elapsed = time.perf_counter() - sent
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out + err[-2000:]
    assert "interrupted after" in out
    # Process exit included: the fit itself stops within about a second.
    assert elapsed < 4.0, elapsed
    assert "running 0 stop 0" in out  # no fit left in progress, the flag cleared


def test_a_stop_request_ends_a_fit_in_another_thread_as_keyboardinterrupt():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 20000))
    y = X[:, :30].sum(axis=1) + rng.standard_normal(200)
    Lasso(alpha=1.0).fit(X[:20, :30], y[:20])
    outcome = {}

    def fit():
        start = time.perf_counter()
        try:
            Lasso(alpha=1e-4, tol=1e-15, max_iter=10**7).fit(X, y)
            outcome["result"] = "finished"
        except KeyboardInterrupt:
            outcome["result"] = "interrupted"
        outcome["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=fit)
    thread.start()
    time.sleep(0.5)
    _interrupt.STOP[0] = 1
    thread.join(30)
    assert not thread.is_alive()
    assert outcome["result"] == "interrupted"
    assert outcome["seconds"] < 3.0
    assert _interrupt.STOP[0] == 0 and _interrupt._WATCH.running == 0


def test_an_interrupt_noticed_after_the_last_fit_does_not_stop_the_next():
    _interrupt.STOP[0] = 1  # e.g. set by the watcher just after a fit ended
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 10))
    model = Lasso(alpha=0.01).fit(X, X[:, 0])
    assert model.coef_[0] > 0.5
    assert _interrupt.STOP[0] == 0


def test_signal_handling_is_restored_after_a_fit():
    before = signal.getsignal(signal.SIGINT)
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 10))
    Lasso(alpha=0.01).fit(X, X[:, 0])
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.set_wakeup_fd(wakeup) == wakeup
