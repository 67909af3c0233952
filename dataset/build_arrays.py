"""Scrape folder or class folders -> NAME.npz + NAME.json (see `--help`)."""
from condgan.data.build_arrays import main

if __name__ == "__main__":
    raise SystemExit(main())
