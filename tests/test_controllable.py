"""Controllable generation: directions found in a noise space, edits that move along them.

The direction finder is checked against a generator whose attributes are known functions of its
noise (a stand-in that paints Shapes images: colour = the largest of noise[0:6], size = the sign
of noise[6], position = the largest of noise[7:16], background = the largest of noise[16:19]),
read back by the real Shapes attribute classifier.  The shipped `gan_shapes` is checked through
the library, the CLI and the HTTP API.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from condgan.basics import seed_noise
from condgan.control.directions import LatentDirections, load_directions
from condgan.data.shapes import BACKGROUNDS, COLOURS, POSITIONS, SIZES, render
from condgan.errors import UserError
from tests.conftest import ROOT
from tests.helpers import run_cli

CLASSIFIER = ROOT / "models" / "classifiers" / "shapes_attributes"
SHIPPED = ROOT / "models" / "gan_shapes"


class PaintedShapes:
    """Noise in, one-object Shapes images out; each attribute an argmax of its noise slice."""

    name = "painted"
    noise_dim = 24
    conditioning = "none"
    latent_space = "z"

    def generate_moved(self, seeds, conditions, offset, space):
        assert space == "z"
        return self.generate_from_noise(self.noise_for_seeds(seeds) + offset)

    def noise_for_seeds(self, seeds):
        return seed_noise(list(seeds), self.noise_dim)

    def attributes(self, z):
        return {"colour": list(COLOURS)[int(np.argmax(z[0:6]))],
                "size": SIZES[int(z[6] > 0)],
                "position": POSITIONS[int(np.argmax(z[7:16]))],
                "background": list(BACKGROUNDS)[int(np.argmax(z[16:19]))],
                "shape": "circle"}

    def generate_from_noise(self, noise, conditions=None):
        images = []
        for i, z in enumerate(np.asarray(noise)):
            a = self.attributes(z)
            obj = {k: a[k] for k in ("colour", "size", "position", "shape")}
            images.append(render({"background": a["background"], "objects": [obj]}, 32,
                                 np.random.default_rng(i)))
        return np.stack(images).astype(np.float32)


@pytest.fixture(scope="module")
def reader():
    from condgan.control.shapes_reader import ShapesAttributeReader

    return ShapesAttributeReader(CLASSIFIER)


@pytest.fixture(scope="module")
def painted_directions(reader):
    from condgan.control.find import find_directions

    return find_directions(PaintedShapes(), reader, n=1500, seed=0, say=lambda line: None)


def test_the_reader_reads_one_object_shapes_images(reader):
    from condgan.data.shapes import one_object_shapes

    data = one_object_shapes(200, 32, seed=5)
    read = reader(data.images)
    truth = {"colour": [list(COLOURS).index(a["objects"][0]["colour"]) for a in data.attributes],
             "position": [POSITIONS.index(a["objects"][0]["position"]) for a in data.attributes],
             "background": [list(BACKGROUNDS).index(a["background"]) for a in data.attributes]}
    for attribute, values in truth.items():
        assert np.mean(read[attribute] == np.array(values)) > 0.97, attribute
    assert read["object"].mean() > 0.97


def test_each_direction_points_along_the_noise_that_decides_its_attribute(painted_directions):
    slices = {"colour": range(0, 6), "size": range(6, 7), "position": range(7, 16),
              "background": range(16, 19)}
    assert len(painted_directions.names) == 6 + 2 + 9 + 3
    for name, unit in zip(painted_directions.names, painted_directions.units):
        attribute = name.split("=")[0]
        inside = np.linalg.norm(unit[list(slices[attribute])])
        assert inside > 0.9, (name, inside)  # the rest is fitting noise
        assert abs(np.linalg.norm(unit) - 1) < 1e-5
    # The value's own noise coordinate carries the direction's largest positive weight.
    red = painted_directions.names.index("colour=red")
    assert np.argmax(painted_directions.units[red]) == 0
    assert all(acc > 0.85 for acc in painted_directions.info["held_out_boundary_accuracy"].values())


def test_orthogonal_directions_are_orthogonal_to_the_other_attributes(reader):
    from condgan.control.find import find_directions

    kwargs = dict(n=600, seed=1, attributes=["colour", "size"], say=lambda line: None)
    found = find_directions(PaintedShapes(), reader, conditional=True, **kwargs)
    boundaries = find_directions(PaintedShapes(), reader, conditional=False, **kwargs)
    colour = [k for k, n in enumerate(found.names) if n.startswith("colour=")]
    size = [k for k, n in enumerate(found.names) if n.startswith("size=")]
    # Moving along a colour direction leaves every size boundary's side unchanged, and back.
    assert np.abs(found.units[colour] @ boundaries.units[size].T).max() < 1e-5
    assert np.abs(found.units[size] @ boundaries.units[colour].T).max() < 1e-5
    assert found.info["conditional"] is True


def test_edits_turn_the_value_on_and_leave_the_other_attributes(painted_directions, reader):
    from condgan.control.find import measure_edits

    report = measure_edits(PaintedShapes(), reader, painted_directions, strengths=(0.5, 2.0),
                           n=120, names=["colour=red", "size=large", "position=center",
                                         "background=white"])
    for name in ("colour=red", "size=large", "position=center", "background=white"):
        assert report[name]["2"]["success"] > 0.8, (name, report[name])
        assert report[name]["2"]["kept"] > 0.8, (name, report[name])
    # A stronger edit succeeds more often: the measurement sees the strength.
    assert report["mean"]["2"]["success"] > report["mean"]["0.5"]["success"]


def test_edits_are_checked_and_the_files_round_trip(tmp_path, painted_directions):
    painted_directions.save(tmp_path)
    loaded = load_directions(tmp_path)
    assert loaded.names == painted_directions.names
    np.testing.assert_array_equal(loaded.units, painted_directions.units)
    assert not list(tmp_path.glob("*.partial*"))
    with pytest.raises(UserError, match="valid edits are .*colour=red"):
        loaded.check({"colour=pink": 1.0})
    with pytest.raises(UserError, match="out of range: use -3 to 3"):
        loaded.check({"colour=red": 4})
    with pytest.raises(UserError, match="must be a number"):
        loaded.check({"colour=red": "lots"})
    offset = loaded.offset(loaded.check({"colour=red": 1.0, "size=large": -0.5}))
    k, j = loaded.names.index("colour=red"), loaded.names.index("size=large")
    expected = loaded.scales[k] * loaded.units[k] - 0.5 * loaded.scales[j] * loaded.units[j]
    np.testing.assert_allclose(offset, expected, rtol=1e-6)
    with pytest.raises(UserError, match="do not match"):
        LatentDirections(["a=b"], np.zeros((2, 3)), np.ones(2))


# --- the shipped model ----------------------------------------------------------------------

def _shipped_or_skip():
    if not (SHIPPED / "directions.npz").is_file():
        pytest.skip("models/gan_shapes has no directions")
    from condgan.api import load_generator

    return load_generator(SHIPPED)


def test_the_shipped_model_moves_its_shapes_to_the_centre_when_asked(reader):
    generator = _shipped_or_skip()
    centre = POSITIONS.index("center")
    plain = reader(generator.generate(n=48, seed=100))
    edited = reader(generator.generate(n=48, seed=100, edits={"position=center": 2.0}))
    seen = plain["object"] & edited["object"]
    assert np.mean(edited["position"][seen] == centre) > np.mean(plain["position"][seen] == centre) + 0.5
    np.testing.assert_array_equal(generator.generate(n=4, seed=3, edits={}),
                                  generator.generate(n=4, seed=3))
    with pytest.raises(UserError, match="valid edits are"):
        generator.generate(n=2, seed=0, edits={"hue=red": 1})
    with pytest.raises(UserError, match="not lay that value out along a line"):
        generator.generate(n=2, seed=0, edits={"colour=red": 1})
    # Only what the noise lays out along a line is offered; the rest is said, not hidden.
    info = generator.directions.info
    assert "colour=red" in info["not_linear"] and "colour=red" not in generator.directions.names
    assert all(info["held_out_boundary_accuracy"][n] >= 0.7 for n in generator.directions.names)


def test_a_model_without_directions_says_how_to_find_them():
    from condgan.api import load_generator

    generator = load_generator(ROOT / "models" / "cgan_digits")
    with pytest.raises(UserError, match="find-directions"):
        generator.generate(labels=["3"], seed=0, edits={"colour=red": 1})


def test_find_directions_from_the_command_line(tmp_path):
    _shipped_or_skip()
    folder = tmp_path / "gan_shapes"
    shutil.copytree(SHIPPED, folder)
    refused = run_cli("find-directions", str(folder), "--n", "300", "--probe", "20", cwd=ROOT)
    assert refused.returncode != 0 and "--replace" in refused.stderr
    before = (folder / "directions.npz").read_bytes()
    done = run_cli("find-directions", str(folder), "--n", "600", "--probe", "24",
                   "--strengths", "2", "--attributes", "position,background", "--replace", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    info = json.loads((folder / "directions.json").read_text())
    assert {n.split("=")[0] for n in info["names"]} <= {"position", "background"}
    assert 0 <= info["measured"]["mean"]["2"]["success"] <= 1
    assert "--attributes position,background" in info["measured"]["command"]
    assert (folder / "directions.npz").read_bytes() != before
    assert (SHIPPED / "directions.npz").is_file()  # the shipped folder was never touched
    grid = tmp_path / "red.png"
    sampled = run_cli("sample", str(folder), "-n", "4", "--seed", "1", "--edit", "position=center:2",
                      "-o", str(grid), cwd=ROOT)
    assert sampled.returncode == 0 and grid.is_file(), sampled.stderr
    bad = run_cli("sample", str(folder), "-n", "2", "--edit", "position=center:huge", "-o",
                  str(tmp_path / "x.png"), cwd=ROOT)
    assert bad.returncode != 0 and "must be a number" in bad.stderr


# --- served: the JSON API and the page ------------------------------------------------------

@pytest.fixture(scope="module")
def served_models(tmp_path_factory):
    _shipped_or_skip()
    root = tmp_path_factory.mktemp("served") / "models"
    root.mkdir()
    shutil.copytree(SHIPPED, root / "gan_shapes")
    shutil.copytree(ROOT / "models" / "cgan_digits", root / "cgan_digits")
    return root


@pytest.fixture(scope="module")
def client(served_models):
    from condgan.serve.app import create_app

    app = create_app(served_models)
    assert app.extensions["condgan"]["registry"].wait(120)
    return app.test_client()


def _generate(client, name, body):
    return client.post(f"/v1/models/{name}:generate", json=body)


def test_the_api_lists_the_edits_and_draws_them(client, reader):
    from condgan.api import load_generator
    from test_serve_browser import png_pixels

    models = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    edits = models["gan_shapes"]["edits"]
    assert set(edits["attributes"]) == {"position", "background"}
    assert "center" in edits["attributes"]["position"] and edits["strength_range"] == [-3.0, 3.0]
    assert models["cgan_digits"]["edits"] is None
    body = {"n": 8, "seed": 40, "edits": {"position=center": 2.0, "background=white": 1.0}}
    answer = _generate(client, "gan_shapes", body)
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert result["edits"] == {"position=center": 2.0, "background=white": 1.0}
    pictures = np.stack([png_pixels(i["b64_json"]) for i in result["images"]])
    expected = load_generator(SHIPPED).generate(n=8, seed=40, edits=body["edits"])
    np.testing.assert_array_equal(pictures, expected)
    plain = _generate(client, "gan_shapes", {"n": 8, "seed": 40}).get_json()
    assert plain["edits"] is None
    assert [i["b64_json"] for i in plain["images"]] != [i["b64_json"] for i in result["images"]]


@pytest.mark.parametrize("name, edits, says", [
    ("gan_shapes", {"hue=red": 1}, "valid edits are position=top left"),
    ("gan_shapes", {"position=center": 7}, "out of range: use -3 to 3"),
    ("gan_shapes", {"position=center": True}, "must be a number"),
    ("gan_shapes", ["position=center"], "edits must be an object"),
    ("cgan_digits", {"colour=red": 1}, "has no attribute directions"),
])
def test_bad_edits_are_a_400_that_lists_the_valid_ones(client, name, edits, says):
    body = {"n": 1, "seed": 0, "edits": edits}
    if name == "cgan_digits":
        body["label"] = "3"
    answer = _generate(client, name, body)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_edit" and says in error["message"], error


def test_the_page_shows_sliders_and_redraws_the_same_seeds_when_one_moves(served_models,
                                                                          tmp_path):
    from test_serve_browser import browser_tab

    with browser_tab(served_models, tmp_path, "/?model=cgan_digits") as page:
        page.wait_for_selector("#model option[value=gan_shapes]", state="attached")
        assert page.is_hidden("#edits-field")  # a model without directions: no sliders
        page.select_option("#model", "gan_shapes")
        assert page.is_visible("#edits-field")
        assert page.eval_on_selector_all("#edits input[type=range]",
                                         "s => s.map(x => x.dataset.attribute)") == [
            "position", "background"]
        assert "Measured:" in page.inner_text("#edits-measured")
        page.fill("#n", "8")
        page.fill("#seed", "40")
        page.click("#generate")
        page.wait_for_function("document.querySelectorAll('#grid img').length === 8")
        before = page.eval_on_selector_all("#grid img", "imgs => imgs.map(i => i.src)")
        page.select_option("#edit-position-value", "center")
        page.fill("#edit-position-strength", "2")  # moving the slider redraws by itself
        page.wait_for_function(
            "src => document.querySelector('#grid img').src !== src", arg=before[0])
        page.wait_for_function("document.querySelectorAll('#grid img').length === 8")
        after = page.eval_on_selector_all("#grid img", "imgs => imgs.map(i => i.src)")
        captions = page.eval_on_selector_all("#grid figcaption", "c => c.map(x => x.textContent)")
        assert captions == [f"seed {40 + i}" for i in range(8)]
        assert page.input_value("#edit-position-strength") == "2"
        assert page.inner_text("#edit-position-strength + output") == "2"
        assert sum(a != b for a, b in zip(before, after)) >= 6
        assert page.is_hidden("#error")
        page.screenshot(path=str(tmp_path / "edits_page.png"), full_page=True)

