"""`python -m condgan.scrape <source> [options]`: the same as `dataset/scrape_<source>.py`."""
from condgan.scrape.cli import main

raise SystemExit(main())
