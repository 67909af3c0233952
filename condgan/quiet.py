"""Keep third-party start-up noise out of what a person reads.

TensorFlow writes C++ start-up lines (oneDNN notices, "All log messages before
absl::InitializeLog()") straight to file descriptor 2 while it is imported, twice, and no
environment setting hides them.  `import_keras_quietly` imports Keras (and with it the backend)
with that descriptor pointed at /dev/null; Python errors still surface as exceptions.
TensorFlow's C++ log is kept to fatal errors by default: what it prints at run time ("remapper
failed" from its graph optimiser, for one) is nothing a user can act on, and every real failure
also raises a Python exception.  `TF_CPP_MIN_LOG_LEVEL=0` (the commands' `--verbose`) shows
everything again.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings


def configure_logs(verbose: bool = False) -> None:
    """Call before TensorFlow is imported: its log level is read once, at import."""
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def verbose_logs() -> bool:
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"


def import_keras_quietly() -> None:
    configure_logs()
    if verbose_logs():
        return
    # Keras warns when a functional model is called with a list where it was built with a
    # tuple (or the reverse); the call is correct, and the warning repeats every epoch.
    warnings.filterwarnings("ignore", message=r"The structure of `inputs` doesn't match")
    if "keras" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as sink:
                os.dup2(sink.fileno(), 2)
                import keras  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    # TensorFlow's Python-side warnings (tf.function retracing while evaluating in chunks) and
    # absl's (saving the legacy .h5 a user asked for) are about the library, not the user's run.
    # TensorFlow sets its logger to INFO in an interactive session (Jupyter) the first time it
    # is asked for it: ask first, then set the level.
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].get_logger().setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
