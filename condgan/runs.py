"""`train_run(config, run_dir)`: the one training loop, for every model family.

The run directory holds `config.json` (the family's kind and the resolved config),
`dataset.json` (what it was trained on, with a fingerprint), `history.jsonl`, checkpoints,
sample grids, the loss plot, `tensorboard/` and `summary.json`.  A run resumes from its newest
checkpoint, which may be mid-epoch: the family's data stream is rebuilt from (seed, epoch) and
fast-forwarded to the saved step, and random numbers are keyed by the optimizer step, so the
resumed run computes the same updates as one that was never stopped.  The family supplies the
data, the trainer and its hooks (`condgan.families.base.Family`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from condgan.basics import write_json_atomic
from condgan.errors import UserError
from condgan.families import family_of_config, read_run_config, write_run_config


def saved_run_config(run_dir: Path):
    """(family, config) of the run `--resume` continues."""
    if not (Path(run_dir) / "config.json").is_file():
        raise UserError(f"cannot resume: {str(run_dir)!r} has no config.json; start it without --resume")
    return read_run_config(run_dir)


def config_changes(family, before, after) -> dict:
    """{field: [before, after]} for every field in which config `after` differs from `before`."""
    old, new = family.config_to_json(before), family.config_to_json(after)
    return {k: [old.get(k), v] for k, v in new.items() if v != old.get(k)}


def resolve_run_config(run_dir: Path, config, resume: bool):
    """The config to train with: for a resumed run its own, with only the fields its family
    lets a resume change taken from `config`; else `config` for a new run directory.  Only
    checks, writes nothing: a start that fails on bad input leaves no half-made run behind."""
    if resume:
        family, saved = saved_run_config(run_dir)
        if config is None:
            return saved
        if type(config) is not type(saved):
            raise UserError(f"--resume: {str(run_dir)!r} is a {family.kind} run, but the config is a "
                            f"{type(config).__name__}: resume with the run's own kind of config")
        changes = config_changes(family, saved, config)
        refused = sorted(k for k in changes if k not in family.resumable)
        if refused:
            raise UserError(f"--resume cannot change {refused}: the run was trained with "
                            f"{ {k: changes[k][0] for k in refused} }; only {list(family.resumable)} "
                            "may change when resuming (start a new run to change the recipe)")
        return config
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(f"run directory {str(run_dir)!r} already exists: pass --resume to continue "
                        "it, or choose another --name / --run-dir")
    return config


def train_run(config, run_dir: str | os.PathLike, resume: bool | str = False, data=None,
              extra_callbacks=(), say=print) -> dict:
    """Train (or resume) a run of `config`'s family; returns its summary.  `data` may pass the
    family's data directly (an ArraySet for the GAN family) instead of loading `config.data`.
    `resume="auto"` resumes a run directory that holds a run and starts one otherwise.  `say`
    gets one line per epoch and the run's start and end."""
    run_dir = Path(run_dir)
    if resume == "auto":
        resume = (run_dir / "config.json").is_file()
    # Every check on user input comes before the first write (run dir, config.json), and the
    # run-dir checks before TensorFlow is imported, so a wrong --resume fails in a blink.
    config = resolve_run_config(run_dir, config, resume)
    family = family_of_config(config)
    family.check(config)  # before the data: a long read must not end in this error

    import keras

    from condgan.train.strategies import make_strategy

    # MultiWorkerMirroredStrategy must exist before TensorFlow runs its first op.
    strategy = make_strategy(config.strategy)
    prepared = family.prepare(config, data, run_dir, say)
    if resume and (run_dir / "dataset.json").is_file():
        trained_on = json.loads((run_dir / "dataset.json").read_text())
        if trained_on.get("fingerprint") != prepared.record.get("fingerprint"):
            raise UserError(f"--resume got different data ({prepared.record.get('fingerprint')}) "
                            f"from what {str(run_dir)!r} was trained on "
                            f"({trained_on.get('fingerprint')}): pass the same data set")
    changed = config_changes(family, saved_run_config(run_dir)[1], config) if resume else {}
    if not resume:
        resolve_run_config(run_dir, config, resume)  # still free after the data load?
        run_dir.mkdir(parents=True, exist_ok=True)
    write_run_config(run_dir, family, config)
    write_json_atomic(run_dir / "dataset.json", prepared.record)

    # Same seed, same initial weights: on every replica, worker and restart.
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        trainer = family.build(config, prepared, strategy.num_replicas_in_sync > 1)
        return _train(trainer, family, config, prepared, strategy, run_dir, resume, extra_callbacks,
                      say, changed)


def _train(trainer, family, config, prepared, strategy, run_dir: Path, resume, extra_callbacks,
           say, changed: dict) -> dict:
    """The epochs of a run (inside the strategy's scope, which keras.distribution needs);
    `changed`: the config fields this resume changed, for sessions.jsonl."""
    import keras

    from condgan.train.callbacks import (EpochEnd, ProgressReport, RunProgress, StepCheckpoint,
                                         keras_verbosity)
    from condgan.train.checkpoint import load_latest_checkpoint
    from condgan.train.history import record_session, trim_history
    from condgan.train.state import restore_training_state
    from condgan.train.trainer import backend_steps

    stream = prepared.stream
    step, images_seen, wall = 0, 0, 0.0
    restored = load_latest_checkpoint(run_dir) if resume else None
    if restored is not None:
        step, images_seen, wall = restore_training_state(trainer, restored[1], stream.global_batch)
        trim_history(run_dir, step)
        say(f"resumed {run_dir} at step {step:,} ({images_seen:,} images seen, "
            f"{wall / 60:.1f} min trained)")
        for field, (before, after) in changed.items():
            say(f"  {field}: {before!r} -> {after!r} from here on")
    else:
        family.start(trainer, prepared, config, strategy)
    record_session(run_dir, step, keras.backend.backend(), backend_steps().describe_devices(),
                   changed)

    progress = RunProgress(run_dir, stream.global_batch, stream.steps_per_epoch, step, images_seen,
                           wall, config.max_minutes)
    sampler = family.sampler(trainer, prepared, config, run_dir)
    callbacks = [progress, StepCheckpoint(progress, config.checkpoint_every_steps),
                 EpochEnd(progress, sampler, config.sample_every_epochs,
                          family.validation(trainer, prepared, config)),
                 *family.callbacks(trainer, prepared, config), *extra_callbacks]
    if config.verbose:
        callbacks.append(ProgressReport(progress, config.epochs, say))
    if config.tensorboard and _tensorflow_available():
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), update_freq="epoch"))
    elif config.tensorboard:
        say("no TensorBoard logs: they are written with TensorFlow, which is not installed here "
            "(history.jsonl and losses.png have the same numbers)")
    start_epoch, offset = divmod(step, stream.steps_per_epoch)
    if progress.budget_spent():
        say(f"nothing to train: {run_dir} has used its {config.max_minutes:g}-minute budget "
            "(raise max_minutes to train on)")
    elif start_epoch < config.epochs and config.verbose:
        say(f"training {run_dir}: {stream.num_examples:,} examples, {stream.steps_per_epoch:,} "
            f"steps of {stream.global_batch} per epoch, up to epoch {config.epochs}"
            + (f" or {config.max_minutes:g} min" if config.max_minutes else ""))
    for epoch in range(start_epoch, config.epochs if not progress.budget_spent() else 0):
        skip = offset if epoch == start_epoch else 0
        # An explicit step count: a distributed iterator of unknown length would otherwise
        # run one extra, empty step at its end, and Adam moves weights even on zero gradients.
        trainer.fit(stream.distributed(strategy, epoch, skip), epochs=epoch + 1, initial_epoch=epoch,
                    steps_per_epoch=stream.steps_per_epoch - skip, callbacks=callbacks,
                    verbose=keras_verbosity(config.verbose), shuffle=False)
        if trainer.stop_training:
            say(f"stopping: the {config.max_minutes:g}-minute budget is spent")
            break
    summary = {"kind": family.kind, "name": config.name, "step": progress.step,
               "images_seen": progress.images_seen, "wall_time_s": round(progress.wall_time_s, 2)}
    summary.update(family.finish(trainer, prepared, config, sampler))
    write_json_atomic(run_dir / "summary.json", summary)
    return summary


def _tensorflow_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None
