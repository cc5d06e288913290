"""Jobs on a Dask cluster: under ``joblib.parallel_config(backend="dask")`` the
cross-validation and stability-selection jobs run on the cluster's worker processes, the data
go to the cluster once per fit, results equal the threaded ones bit for bit, warnings come back
to the caller's line and Ctrl-C stops the wait at once."""

import functools
import os
import re
import signal
import threading
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastl1 import (
    ElasticNetCV,
    LassoCV,
    LogisticRegression,
    LogisticRegressionCV,
    StabilitySelection,
    _interrupt,
)
from fastl1.cv import run_jobs

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals and process spawning")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


class _JobDependencies(distributed.diagnostics.plugin.SchedulerPlugin):
    """Records, for each job task that finishes, the data keys it depends on and their
    sizes (the scheduler runs in the test's process with a LocalCluster)."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.tasks = {}

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "memory" and "_run_remote" in str(key):
            task = self.scheduler.tasks[key]
            self.tasks[key] = {dep.key: dep.nbytes for dep in task.dependencies}


def _on_cluster(client, fit):
    """Run ``fit`` under the Dask backend; return its result, the task stream's job tasks
    (each a batch of calls) and the dependencies of each job task."""
    scheduler = client.cluster.scheduler
    recorder = _JobDependencies(scheduler)
    scheduler.add_plugin(recorder, name="fastl1-job-dependencies")
    try:
        with distributed.get_task_stream(client) as stream, \
                joblib.parallel_config(backend="dask"):
            result = fit()
    finally:
        scheduler.remove_plugin(name="fastl1-job-dependencies")
    tasks = [task for task in stream.data if "_run_remote" in str(task["key"])]
    return result, tasks, recorder.tasks


def _n_calls(tasks):
    """Jobs run by the task stream's batches (joblib names them ``batch_of_f_<n>_calls``)."""
    return sum(int(re.search(r"_(\d+)_calls", str(task["key"])).group(1)) for task in tasks)


def _regression(n=300, p=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :4] @ np.array([3.0, -2.0, 1.5, 1.0]) + rng.standard_normal(n)
    return X, y


def _assert_ran_on_workers(client, tasks, n_jobs):
    workers = set(client.scheduler_info()["workers"])
    assert tasks and {task["worker"] for task in tasks} <= workers
    assert _n_calls(tasks) == n_jobs


@pytest.mark.parametrize("estimator", ["LassoCV", "ElasticNetCV"])
def test_enet_cv_jobs_run_on_the_cluster_with_the_threaded_results(client, estimator):
    X, y = _regression()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    make = {"LassoCV": lambda: LassoCV(cv=3, alphas=8, n_jobs=-1),
            "ElasticNetCV": lambda: ElasticNetCV(cv=3, alphas=6, l1_ratio=[0.3, 0.9],
                                                 n_jobs=-1)}[estimator]
    threaded = make().set_params(n_jobs=2).fit(X, y, sample_weight=sw)
    model, tasks, dependencies = _on_cluster(client, lambda: make().fit(X, y, sample_weight=sw))
    n_ratios = 1 if estimator == "LassoCV" else 2
    _assert_ran_on_workers(client, tasks, n_ratios * 4)
    for name in ("coef_", "intercept_", "alpha_", "alphas_", "mse_path_"):
        assert np.array_equal(getattr(model, name), getattr(threaded, name)), name
    # X, y and the weights went to the cluster as data every job task depends on (scattered
    # once per fit), not inside each task. Arguments of one job only (here the folds' rows,
    # above joblib's 1 kB scatter threshold) travel with their task, so any other data
    # dependency is shared by several tasks (a fold's rows, by its job for each l1_ratio).
    common = set.intersection(*(set(deps) for deps in dependencies.values()))
    sizes = {key: size for deps in dependencies.values() for key, size in deps.items()}
    assert sorted(sizes[key] for key in common) == sorted([y.nbytes, sw.nbytes, X.nbytes])
    for key in set(sizes) - common:
        assert sum(key in deps for deps in dependencies.values()) >= 2


def test_the_design_reaches_each_worker_at_most_once(client):
    X, y = _regression(n=120, p=2000, seed=2)
    model, tasks, dependencies = _on_cluster(client,
                                             lambda: LassoCV(cv=5, alphas=5).fit(X, y))
    assert _n_calls(tasks) == 6
    (x_key,) = [key for deps in dependencies.values() for key, size in deps.items()
                if size == X.nbytes][:1]
    assert all(x_key in deps for deps in dependencies.values())
    # One copy scattered from the client, then at most one worker-to-worker transfer per
    # other worker: 6 jobs, at most 2 copies of X.
    received = client.run(lambda dask_worker: sum(
        x_key in entry["keys"] for entry in dask_worker.transfer_incoming_log))
    assert sum(received.values()) <= len(received) - 1


def test_logistic_cv_jobs_run_on_the_cluster_with_the_threaded_results(client):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((150, 20))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3] + 0.5 * rng.standard_normal((150, 3)),
                                            axis=1)]
    make = functools.partial(LogisticRegressionCV, Cs=4, cv=3, l1_ratios=[1.0],
                             scoring="neg_log_loss", max_iter=1000, n_jobs=-1)
    threaded = make(n_jobs=2).fit(X, y)
    model, tasks, _ = _on_cluster(client, lambda: make().fit(X, y))
    _assert_ran_on_workers(client, tasks, 4)
    for name in ("coef_", "intercept_", "C_", "scores_", "coefs_paths_", "n_iter_"):
        ours, theirs = getattr(model, name), getattr(threaded, name)
        if isinstance(ours, dict):
            assert ours.keys() == theirs.keys(), name
            ours, theirs = list(ours.values()), list(theirs.values())
        assert np.array_equal(ours, theirs), name


@pytest.mark.parametrize("kind", ["lasso", "logistic"])
def test_stability_selection_runs_on_the_cluster_with_the_threaded_results(client, kind):
    X, y = _regression(n=80, p=30, seed=4)
    estimator = None
    if kind == "logistic":
        y = (y > 0).astype(int)
        estimator = LogisticRegression(C=1.0)
    X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0)) if kind == "lasso" else X
    make = functools.partial(StabilitySelection, estimator, alphas=5, n_resamples=4,
                             random_state=0)
    threaded = make(n_jobs=2).fit(X, y)
    model, tasks, _ = _on_cluster(client, lambda: make(n_jobs=-1).fit(X, y))
    _assert_ran_on_workers(client, tasks, 8)
    assert np.array_equal(model.stability_scores_, threaded.stability_scores_)
    assert np.array_equal(model.alphas_, threaded.alphas_)


def test_jobs_do_not_run_in_the_client_process(client):
    # n_jobs=-1 counts the cluster's workers; no job runs on threads of the client.
    with joblib.parallel_config(backend="dask"):
        pids = run_jobs([os.getpid] * 4, n_jobs=-1)
    assert os.getpid() not in pids
    assert set(pids) <= set(client.run(os.getpid).values())


def test_warnings_of_remote_jobs_point_at_the_callers_line(client):
    X, y = _regression(n=60, p=30, seed=5)
    with warnings.catch_warnings(record=True) as caught, \
            joblib.parallel_config(backend="dask"):
        warnings.simplefilter("always")
        LassoCV(cv=3, alphas=5, max_iter=1, tol=1e-12).fit(X, y)
    converge = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert converge
    assert {w.filename for w in converge} == {__file__}


def test_ctrl_c_stops_waiting_for_remote_jobs(client):
    # Remote jobs never read this process's stop flag: the wait itself must end.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    jobs = [functools.partial(time.sleep, 1.5)] * 6
    timer = threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt), joblib.parallel_config(backend="dask"):
        _interrupt.interruptible(run_jobs)(jobs, n_jobs=-1)
    timer.join()
    assert time.perf_counter() - start < 1.4  # before the first jobs end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert _interrupt.STOP[0] == 0
    client.run(lambda: None)  # the cluster still answers
