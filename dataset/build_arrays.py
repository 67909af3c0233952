"""Scrape folder or class folders -> NAME.npz + NAME.json (see `--help`)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install

from condgan.data.build_arrays import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
