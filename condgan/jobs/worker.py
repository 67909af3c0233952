"""The job worker: claims queued jobs and runs each as child processes, the commands a user
would type: `python -m condgan train` into the job's own run directory (`--resume` when it has
one), then `python -m condgan export --new-version`, making version N of `models/<name>/`.

A job's folder, `<runs_root>/<id>-<name>/`, holds `run/` (the run directory: checkpoints,
history, samples) and `job.log` (both commands' output).  Children run in a session of their
own, so they outlive a server restart: the next worker re-attaches to a child still training
(it watches its pid and reads the run's `summary.json` when it ends), and marks a job whose
child is gone `interrupted`, resumable from its checkpoint.  Cancelling sends SIGTERM to the
child's process group (SIGKILL after a grace period); a checkpoint is atomic, so the run
resumes from its newest one.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from condgan.jobs.store import ACTIVE, JobStore
from condgan.jobs.submission import JobSettings, child_environment, disk_free_gb
from condgan.model_folder import CARD_FILE

log = logging.getLogger("condgan.jobs")
TERMINATE_GRACE_S = 15.0
# Training past its budget: the run stops itself at max_minutes; this covers start-up, the last
# epoch and the export before the worker steps in.
OVERRUN_GRACE_S = 600.0


def job_folder(settings: JobSettings, job_id: int, name: str) -> Path:
    return settings.runs_root / f"{job_id}-{name}"


def job_log(job: dict) -> Path:
    return Path(job["run_dir"]).parent / "job.log"


@dataclass
class _Child:
    job_id: int
    phase: str                      # "running" (train) or "exporting"
    pid: int
    process: subprocess.Popen | None  # None: a child re-attached after a restart
    started: float = field(default_factory=time.monotonic)
    terminating_since: float | None = None

    def exit_code(self) -> int | None:
        """The exit code once the child ended (a re-attached one: 0, its outcome is read from
        the run), None while it runs."""
        if self.process is not None:
            return self.process.poll()
        return None if _alive(self.pid) else 0


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has ended: only its parent has not collected it yet
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _runs_for(pid: int, run_dir: str) -> bool:
    """Whether process `pid` is a condgan command working on `run_dir` (pids are reused)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"condgan" in words and any(w.decode(errors="replace") == run_dir for w in words)


class JobWorker:
    """Runs queued jobs, at most `settings.max_running` at once across every worker."""

    def __init__(self, store: JobStore, settings: JobSettings,
                 on_new_version: Callable[[str, int], None] | None = None, poll_s: float = 0.5) -> None:
        self.store = store
        self.settings = settings
        self.on_new_version = on_new_version
        self.poll_s = poll_s
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.children: dict[int, _Child] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "JobWorker":
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching (children keep running: the next worker re-attaches to them)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001  the worker must outlive one bad job
                log.exception("job worker step failed")
            self._stop.wait(self.poll_s)

    def recover(self) -> None:
        """Jobs left active by a worker that is gone: re-attach to a child still working on the
        job's run, else mark the job interrupted."""
        host = socket.gethostname()
        for job in self.store.list(limit=10_000):
            if job["status"] not in ACTIVE or job["id"] in self.children:
                continue
            owner_host, _, owner_pid = (job["worker"] or ":").partition(":")
            if owner_host == host and owner_pid.isdigit() and int(owner_pid) != os.getpid() \
                    and _alive(int(owner_pid)):
                continue  # its worker is alive (another server process): its job
            if owner_host != host and owner_host:
                continue  # another machine's worker: it cannot be seen from here
            if job["pid"] and _alive(job["pid"]) and _runs_for(job["pid"], job["run_dir"]):
                self.store.update(job["id"], worker=self.identity)
                self.children[job["id"]] = _Child(job["id"], job["status"], job["pid"], None)
                log.info("job %s: re-attached to pid %s", job["id"], job["pid"])
            else:
                self.store.update(job["id"], status="interrupted",
                                  error="its worker stopped while it ran: resume it to continue "
                                        "from its newest checkpoint")

    # -- one pass --------------------------------------------------------------------------

    def step(self) -> None:
        for child in list(self.children.values()):
            self._watch(child)
        while len(self.children) < self.settings.max_running:
            if self.store.count(("queued",)) == 0:
                return
            free = disk_free_gb(self.settings.runs_root)
            if free < self.settings.min_free_gb:
                log.warning("jobs wait: %.1f GB free under the runs folder, %.1f GB needed",
                            free, self.settings.min_free_gb)
                return
            job = self.store.claim(self.identity, self.settings.max_running)
            if job is None:
                return
            self._start_training(job)

    def _watch(self, child: _Child) -> None:
        job = self.store.get(child.job_id)
        if job is None:
            self.children.pop(child.job_id, None)
            return
        overrun = time.monotonic() - child.started > self.settings.max_minutes * 60 + OVERRUN_GRACE_S
        if (job["cancel_requested"] or overrun) and child.terminating_since is None:
            self._terminate(child)
        elif child.terminating_since and time.monotonic() - child.terminating_since > TERMINATE_GRACE_S:
            self._signal(child, signal.SIGKILL)
        code = child.exit_code()
        if code is None:
            return
        self.children.pop(child.job_id)
        if job["cancel_requested"]:
            self.store.update(job["id"], status="cancelled", cancel_requested=0,
                              error="cancelled: resume it to continue from its newest checkpoint")
        elif overrun:
            self.store.update(job["id"], status="failed", error=f"stopped: ran past its "
                              f"{self.settings.max_minutes:g}-minute limit")
        elif child.phase == "running":
            if code == 0 and self._training_finished(job):
                self._start_export(job)
            else:
                self.store.update(job["id"], status="failed", error=self._failure(job, code, "training"))
        else:
            version = self._exported_version(job)
            if code == 0 and version is not None:
                if self.on_new_version is not None:  # served before the job says it succeeded
                    self.on_new_version(job["name"], version)
                self.store.update(job["id"], status="succeeded", model_version=version, error=None)
            else:
                self.store.update(job["id"], status="failed", error=self._failure(job, code, "export"))

    # -- children --------------------------------------------------------------------------

    def _spawn(self, job: dict, phase: str, command: list[str]) -> None:
        folder = Path(job["run_dir"]).parent
        folder.mkdir(parents=True, exist_ok=True)
        with open(job_log(job), "ab") as out:
            out.write(f"$ python {' '.join(command[1:])}\n".encode())
            out.flush()
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=str(self.settings.cwd) if self.settings.cwd else None,
                env=child_environment(), start_new_session=True)
        self.children[job["id"]] = _Child(job["id"], phase, process.pid, process)
        self.store.update(job["id"], status=phase, pid=process.pid)
        log.info("job %s: %s (pid %s)", job["id"], phase, process.pid)

    def _start_training(self, job: dict) -> None:
        run_dir = job["run_dir"]
        recipe = self.settings.recipes_dir / f"{job['recipe']}.py"
        command = [self.settings.python, "-m", "condgan", "train", "--config", str(recipe),
                   "--run-dir", run_dir]
        if (Path(run_dir) / "config.json").is_file():
            command.append("--resume")
        for item in job["overrides"]:
            command += ["--set", item]
        self._spawn(job, "running", command)

    def _start_export(self, job: dict) -> None:
        command = [self.settings.python, "-m", "condgan", "export", job["run_dir"],
                   "--name", job["name"], "--models-dir", str(self.settings.models_dir),
                   "--new-version"]
        self._spawn(job, "exporting", command)

    def _terminate(self, child: _Child) -> None:
        child.terminating_since = time.monotonic()
        self._signal(child, signal.SIGTERM)

    @staticmethod
    def _signal(child: _Child, sig: int) -> None:
        try:
            os.killpg(child.pid, sig)  # the child leads its own session and process group
        except (ProcessLookupError, PermissionError):
            pass

    # -- outcomes --------------------------------------------------------------------------

    @staticmethod
    def _training_finished(job: dict) -> bool:
        summary = Path(job["run_dir"]) / "summary.json"
        return summary.is_file() and summary.stat().st_mtime >= (job["started_at"] or 0) - 1

    def _exported_version(self, job: dict) -> int | None:
        """The version the job's export wrote: its `exported RUN -> FOLDER` line in the log."""
        from condgan.jobs.progress import log_tail

        folder = self.settings.models_dir / job["name"]
        for line in reversed(log_tail(job_log(job), lines=50)):
            if line.startswith("exported ") and " -> " in line:
                written = Path(line.rsplit(" -> ", 1)[1].strip())
                if written.name.isdigit() and (folder / written.name / CARD_FILE).is_file():
                    return int(written.name)
                return None
        return None

    @staticmethod
    def _failure(job: dict, code: int, what: str) -> str:
        from condgan.jobs.progress import log_tail

        tail = [line for line in log_tail(job_log(job), lines=200) if line.strip()]
        errors = [line for line in tail if line.startswith(("error:", "Error", "UserError"))
                  or "Error:" in line]
        reason = errors[-1] if errors else (tail[-1] if tail else "")
        return f"{what} exited with code {code}" + (f": {reason[:500]}" if reason else "")
