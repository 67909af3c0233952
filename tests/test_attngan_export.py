"""Exported AttnGAN: round trip, seed determinism, unknown words, served caption route (PNG)."""
import io

import keras
import numpy as np
import pytest
from PIL import Image

from attngan_fixtures import TINY, make_damsm_run, make_shapes
from condgan.errors import UserError
from condgan.families.attngan.data import generate_with
from condgan.families.attngan.family import build_models, save_attngan
from condgan.families.attngan.model import load_attngan
from condgan.families.damsm.family import load_damsm
from condgan.text import encode_texts

CAPTION = "a small red circle at the top on a black background"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("attngan_export")
    data = make_shapes(root / "shapes")
    text, image, vocab, damsm_cfg = load_damsm(make_damsm_run(root / "damsm", data))
    keras.utils.set_random_seed(3)
    trainer = build_models(TINY, damsm_cfg, text, image)
    out = save_attngan(trainer.generator, text, vocab, root / "models" / "tiny_attngan",
                       stages=TINY.stages, z_dim=TINY.z_dim, condition_dim=TINY.condition_dim,
                       max_len=damsm_cfg.max_len, warmup_caption="a red circle")
    return out, trainer, text, vocab


def test_round_trip_gives_identical_images(exported):
    path, trainer, text, vocab = exported
    model = load_attngan(path)
    assert model.card["kind"] == "attngan" and model.image_size == 32
    images = model.generate(captions=[CAPTION, CAPTION], seed=5)
    again = model.generate(captions=[CAPTION, CAPTION], seed=5)
    assert images.dtype == np.uint8 and images.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(images, again)
    assert model.unknown_words(CAPTION) == []
    assert not np.array_equal(images[0], images[1])  # seeds 5 and 6 differ
    # the same pixels as the in-memory generator the export came from (to rounding)
    tokens, lengths = encode_texts([CAPTION], vocab)
    direct = generate_with(trainer.generator, text, tokens, lengths, [5], TINY.z_dim,
                           TINY.condition_dim, TINY.stages)
    assert np.abs(direct.astype(int) - images[:1].astype(int)).max() <= 1
    # an image depends on its own caption and seed only, not on the rest of the batch
    mixed = model.generate_for_seeds([9, 5], ["a big blue square on white", CAPTION])
    np.testing.assert_array_equal(mixed[1], images[0])


def test_package_load_generator_loads_caption_models(exported):
    import condgan
    model = condgan.load_generator(exported[0])
    images = model.generate(captions=[CAPTION], seed=5)
    np.testing.assert_array_equal(images, load_attngan(exported[0]).generate(captions=[CAPTION], seed=5))


def test_unknown_words_are_reported_not_dropped_silently(exported):
    model = load_attngan(exported[0])
    images = model.generate(captions=["a small red zebra at the top", CAPTION], seed=1)
    assert images.shape[0] == 2
    assert [model.unknown_words(c) for c in ("a small red zebra at the top", CAPTION)] == [["zebra"], []]
    assert model.check_caption("a purple unicorn") == ["unicorn"]
    with pytest.raises(UserError, match="no word this model knows"):
        model.check_caption("zebra unicorn")
    with pytest.raises(UserError):
        model.generate(captions=["zebra"], seed=1)


def test_served_caption_route_returns_png(exported):
    from condgan.serve.app import create_app
    models_dir = exported[0].parent
    app = create_app(models_dir, background_load=False)  # the default loaders serve attngan
    client = app.test_client()
    reply = client.post("/api/v1.0/bird", json={"caption": "a small red zebra circle", "seed": 4})
    assert reply.status_code == 200 and reply.mimetype == "image/png"
    assert Image.open(io.BytesIO(reply.data)).size[0] >= 32
    reply = client.post("/v1/models/tiny_attngan:generate",
                        json={"caption": "a small red zebra circle", "n": 2, "seed": 4})
    body = reply.get_json()
    assert reply.status_code == 200 and body["unknown_words"] == ["zebra"] and len(body["images"]) == 2
    reply = client.post("/v1/models/tiny_attngan:generate", json={"caption": "zebra", "n": 1})
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "no_known_words"


def test_attention_maps_of_an_exported_model(exported):
    from condgan.attngan_viz import attention_grid
    model = load_attngan(exported[0])
    result = model.attention("a small red zebra circle", seed=2)
    assert result["words"] == ["a", "small", "red", "circle"]
    assert [im.shape for im in result["images"]] == [(16, 16, 3), (32, 32, 3)]
    (maps,) = result["maps"]
    assert maps.shape == (4, 16, 16) and result["stages"] == [2]
    np.testing.assert_allclose(maps.sum(axis=0), 1.0, rtol=1e-4)
    same = model.generate(captions=["a small red zebra circle"], seed=2)
    np.testing.assert_array_equal(same[0], result["images"][-1])
    grid = attention_grid(result)
    assert grid.dtype == np.uint8 and grid.shape[1] >= 5 * 64


def test_a_first_stage_that_reads_the_words_shows_its_attention_too(exported, tmp_path):
    """With `initial_word_attention` the first stage's 8x8 word attention comes first in
    `attention` (stage 1) and in its picture, a row above the later stage's."""
    import dataclasses

    from condgan.attngan_viz import attention_grid

    text, image, vocab, damsm_cfg = load_damsm(exported[0].parent.parent / "damsm")
    layout = dataclasses.replace(TINY, initial_word_attention=True)
    keras.utils.set_random_seed(3)
    trainer = build_models(layout, damsm_cfg, text, image)
    path = save_attngan(trainer.generator, text, vocab, tmp_path / "layout", stages=layout.stages,
                        z_dim=layout.z_dim, condition_dim=layout.condition_dim,
                        max_len=damsm_cfg.max_len, warmup_caption="a red circle")
    model = load_attngan(path)
    result = model.attention("a small red zebra circle", seed=2)
    assert result["stages"] == [1, 2]
    first, later = result["maps"]
    assert first.shape == (4, 8, 8) and later.shape == (4, 16, 16)
    np.testing.assert_allclose(first.sum(axis=0), 1.0, rtol=1e-4)
    # the cells know where they are: not every cell attends alike
    assert np.abs(first - first[:, :1, :1]).max() > 1e-4
    # the images are the generator's own, as generate draws them
    np.testing.assert_array_equal(model.generate(captions=["a small red zebra circle"], seed=2)[0],
                                  result["images"][-1])
    grid = attention_grid(result, scale=2)
    row_height = (2 * 16 + 12 + 4, 2 * 32 + 12 + 4)   # each stage's panel, label and padding
    assert grid.shape[0] == sum(row_height)


def test_served_attention_route_draws_the_library_picture(exported, tmp_path):
    """POST :attention answers the picture `attention_grid(model.attention(...))` draws, as JSON
    or PNG; a caption model without word attention, bad fields and unknown words are 400s."""
    import base64
    import dataclasses
    import shutil

    from condgan.attngan_viz import attention_grid
    from condgan.serve.app import create_app

    path, trainer, text, vocab = exported
    models_dir = tmp_path / "models"
    shutil.copytree(path, models_dir / "tiny_attngan")
    plain = dataclasses.replace(TINY, word_attention=False)  # StackGAN-style: nothing to show
    _, image, _, damsm_cfg = load_damsm(path.parent.parent / "damsm")  # the fixture's DAMSM run
    keras.utils.set_random_seed(4)
    stack = build_models(plain, damsm_cfg, text, image)
    save_attngan(stack.generator, text, vocab, models_dir / "tiny_stack", stages=plain.stages,
                 z_dim=plain.z_dim, condition_dim=plain.condition_dim, max_len=damsm_cfg.max_len,
                 warmup_caption="a red circle")
    client = create_app(models_dir, background_load=False).test_client()
    caption = "a small red zebra circle"

    info = {m["name"]: m["word_attention"] for m in client.get("/v1/models").get_json()["models"]}
    assert info == {"tiny_attngan": True, "tiny_stack": False}
    reply = client.post("/v1/models/tiny_attngan:attention", json={"caption": caption, "seed": 2})
    body = reply.get_json()
    assert reply.status_code == 200, body
    assert body["words"] == ["a", "small", "red", "circle"] and body["unknown_words"] == ["zebra"]
    assert body["stages"] == 1 and body["seed"] == 2
    expected = attention_grid(load_attngan(path).attention(caption, seed=2))
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["image"]["b64_json"]))))
    np.testing.assert_array_equal(shown, expected)
    reply = client.post("/v1/models/tiny_attngan:attention",
                        json={"caption": caption, "seed": 2, "format": "png"})
    assert reply.mimetype == "image/png" and reply.headers["X-Words"] == "a,small,red,circle"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(reply.data))), expected)

    def error(name, body):
        reply = client.post(f"/v1/models/{name}:attention", json=body)
        assert reply.status_code == 400, reply.get_data(as_text=True)
        return reply.get_json()["error"]

    refused = error("tiny_stack", {"caption": caption})
    assert refused["code"] == "no_word_attention" and "['tiny_attngan']" in refused["message"]
    assert error("tiny_attngan", {"caption": caption, "n": 2})["code"] == "invalid_field"
    assert error("tiny_attngan", {"caption": "zebra"})["code"] == "no_known_words"
    assert error("tiny_attngan", {"caption": caption, "seed": -1})["code"] == "invalid_seed"
    assert client.post("/v1/models/nope:attention", json={"caption": caption}).status_code == 404


def test_sample_of_a_caption_model_into_a_missing_folder_creates_nothing(exported, tmp_path, capsys):
    from condgan.cli import main
    missing = tmp_path / "nonexistent" / "dir"
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(exported[0]), "--caption", CAPTION, "-o", str(missing / "x.png")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "create it first" in err
    assert not (tmp_path / "nonexistent").exists()


@pytest.fixture(scope="module")
def attngan_run(exported, tmp_path_factory):
    """A train-attngan run folder (config.json, two checkpoints of different weights) around the
    tiny generator, its Shapes data and DAMSM run."""
    import json

    from condgan.train.checkpoint import save_checkpoint, variables_state

    path, trainer, _, _ = exported
    root = path.parent.parent
    run = tmp_path_factory.mktemp("attngan_run") / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "attngan", "config": TINY.to_json(),
                                                 "data": str(root / "shapes"),
                                                 "damsm": str(root / "damsm")}))
    for step in (2, 4):
        weights = [np.asarray(v) + 0.01 * step for v in trainer.generator.variables]
        save_checkpoint(run, step, {**variables_state("ema", weights),
                                    "progress": np.array([step, 16 * step], np.int64),
                                    "wall_time_s": np.array(1.0)})
    return run, root


def test_attngan_export_replaces_a_model_folder_only_on_request(attngan_run, tmp_path):
    import json

    from condgan.api import export_model
    from condgan.model_folder import merge_card_metrics, read_card

    run, root = attngan_run
    models = tmp_path / "models"
    out = export_model(run, "a", models, say=lambda line: None)
    card = read_card(out)
    assert (card["run_dir"], card["step"], card["weights"]) == ("run", 4, "ema")
    assert card["dataset"]["data"] == "shapes" and card["dataset"]["damsm"] == "damsm"
    assert card["dataset"]["data_fingerprint"].startswith("sha256:")
    assert str(root) not in (out / "card.json").read_text()
    assert str(run.parent) not in (out / "card.json").read_text()
    merge_card_metrics(out, {"r_precision_generated": {"value": 0.5, "protocol": "120 captions"}},
                       say=lambda line: None)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(UserError, match=r"already exists.*another --name.*--replace"):
        export_model(run, "a", models)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    said = []
    export_model(run, "a", models, replace=True, say=said.append)
    assert read_card(out)["metrics"]["r_precision_generated"]["value"] == 0.5
    assert "very same weights" in said[-1]
    export_model(run, "a", models, checkpoint=run / "checkpoints" / "ckpt-0000000002.npz",
                 replace=True, say=said.append)
    card = json.loads((out / "card.json").read_text())
    assert card["metrics"] == {} and card["step"] == 2
    assert "dropped" in said[-1] and "step 4 -> 2" in said[-1]
