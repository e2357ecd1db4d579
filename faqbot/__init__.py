"""faqbot: vetted answers about chronic pain and kratom, behind a safety guard."""

import os

# One BLAS thread per process, set before anything imports numpy. faqbot's matrix products are
# tiny (a message against ~1,100 guard exemplars), and OpenBLAS's extra threads spin-wait after
# each one: on 2 cores they doubled a server's CPU per request (benchmarks/README.md).
for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
__all__ = ["__version__"]
