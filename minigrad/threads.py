"""How many threads numpy's BLAS runs: one for minigrad's small matrices, unless the user chose.

    from minigrad.threads import use_one_blas_thread
    use_one_blas_thread()      # at a program's start; OPENBLAS_NUM_THREADS=4 python x.py keeps its 4

A char-RNN's matrices are small (hidden 128-256): a second BLAS thread costs more in hand-offs
than it saves, and on a shared machine one that must wait for a busy core slows a step down many
times over. The limit is set at run time with threadpoolctl, so it works after numpy has loaded
(the environment variables only work before), on whichever BLAS numpy uses (OpenBLAS, MKL, BLIS).
It holds for the whole process, or until the returned limiter's `restore_original_limits()`.
"""
import os

# Set any of these, and the user's choice stands.
USER_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def use_one_blas_thread():
    """Limit numpy's BLAS to one thread, unless one of USER_SETTINGS is in the environment.

    Returns threadpoolctl's limiter (a context manager too), or None when nothing was changed.
    """
    if any(name in os.environ for name in USER_SETTINGS):
        return None
    # numpy, and with it its BLAS, is loaded already (minigrad imports it): threadpoolctl limits
    # the libraries the process has loaded.
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def blas_threads():
    """The number of threads numpy's BLAS runs now (the most, if there are several BLAS
    libraries); None if threadpoolctl finds no BLAS."""
    from threadpoolctl import threadpool_info

    counts = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return max(counts) if counts else None
