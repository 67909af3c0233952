"""Run the notebook series top to bottom in a real Jupyter kernel (papermill).

    python scripts/run_notebooks.py              # the full runs; their outputs go into notebooks/*.ipynb
    python scripts/run_notebooks.py --quick      # the quick runs; executed copies in runs/notebooks/quick/executed/
    python scripts/run_notebooks.py --only 03 07 --cwd root

The committed notebooks hold the outputs of the full runs, made by the first command (about
7 hours on a 2-core CPU).  Each notebook's wall time is printed and kept in
`<runs-root>/<mode>/timings.json`.  An executed notebook replaces its target only once it has
run to the end: a failed run leaves the previous file as it was.  Paths in the outputs are
written relative to the repository (the home folder as ~), so they read the same on every
machine.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from condgan.basics import write_json_atomic
from condgan.paths import project_root

NOTEBOOKS = ("01_build_dataset", "02_gan_one_class", "03_cgan_cifar10", "04_cgan_own_dataset",
             "05_attngan_damsm", "06_attngan_train", "07_evaluate", "08_bring_your_own_generator",
             "09_digits", "10_controllable", "11_stylegan")


def portable(notebook_file: Path, root: Path) -> None:
    """Name paths in an executed notebook relative to the repository (and the home folder as
    ~), in its outputs and papermill's record, so it reads the same whoever ran it."""
    prefixes = [(str(root) + os.sep, ""), (str(Path.home()) + os.sep, "~" + os.sep)]

    def clean(value):
        if isinstance(value, str):
            for prefix, replacement in prefixes:
                value = value.replace(prefix, replacement)
            return value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        return value

    notebook = json.loads(notebook_file.read_text())
    for cell in notebook["cells"]:
        if "outputs" in cell:
            cell["outputs"] = clean(cell["outputs"])
    if "papermill" in notebook.get("metadata", {}):
        notebook["metadata"]["papermill"] = clean(notebook["metadata"]["papermill"])
    notebook_file.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def run_series(quick: bool, only=(), cwd: str = "notebooks", output_dir: str | None = None,
               runs_root: str | None = None, log=print) -> dict[str, float]:
    """Execute the chosen notebooks in order; returns {notebook: minutes}."""
    import papermill

    root = project_root()
    source_dir = root / "notebooks"
    names = [n for n in NOTEBOOKS if not only or any(n.startswith(o) for o in only)]
    if not names:
        raise SystemExit(f"--only {' '.join(only)} matches none of {', '.join(NOTEBOOKS)}")
    mode = "quick" if quick else "full"
    if output_dir is None:
        target_dir = root / "runs" / "notebooks" / "quick" / "executed" if quick else source_dir
    else:
        target_dir = Path(output_dir).resolve()
    target_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"quick": quick}
    if runs_root:
        parameters["runs_root"] = str(Path(runs_root).resolve())
    workspace = Path(parameters.get("runs_root", root / "runs" / "notebooks")) / mode
    timings = {}
    for name in names:
        partial = target_dir / f".{name}.partial.ipynb"
        log(f"{name}: running ({mode}, from {cwd})")
        start = time.time()
        papermill.execute_notebook(
            str(source_dir / f"{name}.ipynb"), str(partial), parameters=parameters,
            kernel_name="python3", progress_bar=False, log_output=False,
            # The kernel starts in `cwd`; papermill's own cwd= would chdir the calling process,
            # which a caller running other work (or another series) beside it does not expect.
            resources={"metadata": {"path": str(source_dir if cwd == "notebooks" else root)}})
        timings[name] = round((time.time() - start) / 60, 2)
        portable(partial, root)
        os.replace(partial, target_dir / f"{name}.ipynb")
        log(f"{name}: {timings[name]:.1f} min -> {target_dir / (name + '.ipynb')}")
    workspace.mkdir(parents=True, exist_ok=True)
    record = workspace / "timings.json"
    previous = json.loads(record.read_text()) if record.is_file() else {}
    # atomic: another series writing into the same workspace never reads half a file
    write_json_atomic(record, {**previous, **timings})
    return timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick runs (minutes each)")
    parser.add_argument("--only", nargs="*", default=(), metavar="NN",
                        help="only these notebooks, by number prefix (e.g. 03 07)")
    parser.add_argument("--cwd", choices=("notebooks", "root"), default="notebooks",
                        help="where the kernel starts: notebooks/ (as Jupyter opened there) or the "
                             "repository root")
    parser.add_argument("--output-dir", help="where the executed notebooks go (default: "
                        "notebooks/ for the full runs, runs/notebooks/quick/executed/ for quick)")
    parser.add_argument("--runs-root", help="the series' workspace (default: runs/notebooks)")
    args = parser.parse_args(argv)
    # papermill's warnings (a parameter it could not read, say) named as such, one per line
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    timings = run_series(args.quick, args.only, args.cwd, args.output_dir, args.runs_root)
    for name, minutes in timings.items():
        print(f"{name:<22} {minutes:6.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
