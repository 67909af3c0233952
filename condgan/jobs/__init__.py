"""Training jobs: `python -m condgan train` runs started, watched, cancelled and resumed from the
web page or the API, kept in SQLite so a server restart finds them.

- `store.py`: the jobs table (SQLite, standard library); every state change is one transaction.
- `requests.py`: a job request checked before anything runs (recipe, data under the data root,
  name, typed overrides, limits).
- `worker.py`: claims queued jobs and runs each as child processes: `python -m condgan train`
  into the job's own run directory, then `python -m condgan export --new-version`.
- `progress.py`: what a job's run directory says about it (images seen, losses, ETA, samples).

The web server never trains in its own process; the worker may run in a thread of the server
(the development server's default) or on its own (`python -m condgan jobs worker`).
"""
