"""The kernels' on-disk cache: every kernel's stamp covers every kernel source, so an upgrade
that changes a callee's file invalidates its callers' cached machine code (Numba alone stamps a
function with its own file only, and a stale caller crashed a fit after an upgrade)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numba

import fastl1
from fastl1._kernels import KernelSourcesLocator, cd, kernel_sources_digest, prox

PACKAGE_DIR = Path(fastl1.__file__).resolve().parent


def test_digest_changes_with_any_kernel_source(tmp_path):
    kernels = tmp_path / "_kernels"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PACKAGE_DIR / "_kernels", kernels, ignore=ignore)
    before = kernel_sources_digest(str(kernels))
    assert kernel_sources_digest(str(kernels)) == before
    with open(kernels / "design.py", "a") as source:
        source.write("\n# a change in one file\n")
    assert kernel_sources_digest(str(kernels)) != before


def test_kernels_use_the_locator_and_other_functions_do_not(tmp_path):
    for kernel in (cd.enet_cd, prox.soft_threshold):
        locator = kernel._cache._impl.locator
        assert isinstance(locator, KernelSourcesLocator)
        assert locator.get_source_stamp()[1] == kernel_sources_digest()
    module = tmp_path / "user_module.py"
    module.write_text("def double(x):\n    return 2 * x\n")
    namespace = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    user_kernel = numba.njit(cache=True)(namespace["double"])
    assert not isinstance(user_kernel._cache._impl.locator, KernelSourcesLocator)


def _cache_counts(package_root, cache_dir):
    """Call a kernel from the package copy in a new process; its (cache hits, cache misses)."""
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(package_root)!r})
        from fastl1._kernels import prox
        assert prox.__file__.startswith({str(package_root)!r}), prox.__file__
        prox.soft_threshold(1.0, 0.5)
        stats = prox.soft_threshold.stats
        print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_changing_another_kernel_file_invalidates_the_cache(tmp_path):
    # A kernel in prox.py, cached, then a change in gap.py only: Numba's own stamp (prox.py's
    # contents) is unchanged, so only the all-sources stamp makes the third run recompile.
    root = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, root / "fastl1", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "numba_cache"
    assert _cache_counts(root, cache) == [0, 1]
    assert _cache_counts(root, cache) == [1, 0]
    with open(root / "fastl1" / "_kernels" / "gap.py", "a") as source:
        source.write("\n# upgraded\n")
    assert _cache_counts(root, cache) == [0, 1]
