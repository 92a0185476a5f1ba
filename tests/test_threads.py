"""minigrad.threads: use_one_blas_thread() limits numpy's BLAS to one thread at run time, after
numpy has loaded, unless the user chose a number in the environment. Each case runs in a fresh
interpreter, so the BLAS starts with its own default and this test process is left alone."""
import json
import os
import subprocess
import sys

import pytest

from minigrad.threads import USER_SETTINGS

PROGRAM = """
import json
import numpy as np
import threadpoolctl
from minigrad.threads import blas_threads, use_one_blas_thread

def blas():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]

before = blas()
limiter = use_one_blas_thread()
after = blas()
a = np.random.default_rng(0).standard_normal((300, 300))
product_ok = bool(np.allclose(a @ np.eye(300), a))
restored = None
if limiter is not None:
    limiter.restore_original_limits()
    restored = blas()
print(json.dumps(dict(before=before, after=after, reported=blas_threads() if limiter is None else None,
                      limited=limiter is not None, restored=restored, product_ok=product_ok)))
"""


def run(**settings):
    env = {k: v for k, v in os.environ.items() if k not in USER_SETTINGS}
    env.update(settings)
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_thread_unless_the_user_chose():
    got = run()
    assert got["before"], "threadpoolctl finds numpy's BLAS"
    assert got["limited"] and got["after"] == [1] * len(got["before"])
    assert got["product_ok"]
    assert got["restored"] == got["before"], "the limiter gives back the BLAS's own number"


@pytest.mark.parametrize("name", USER_SETTINGS)
def test_a_thread_count_in_the_environment_stands(name):
    got = run(**{name: "2"})
    assert not got["limited"] and got["after"] == got["before"]
    assert got["reported"] == max(got["after"])


def test_import_minigrad_does_not_load_threadpoolctl():
    done = subprocess.run([sys.executable, "-c", "import sys, minigrad, minigrad.threads; "
                           "print('threadpoolctl' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
