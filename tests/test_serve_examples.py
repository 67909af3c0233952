"""Examples and hints shown to users come from the model being used, never a fixed caption.

A caption model reports an `example_caption` every word of which it knows: the card's own
`example_caption` when it has one, otherwise one derived at load time from the vocabulary.  The
API's caption errors suggest that example; class models list their classes.
"""
from __future__ import annotations

import json

import pytest

from conftest import ROOT
from test_serve_registry import CLASSES, LATENT, VOCAB, caption_loader, make_models, save_caption_stand_in, \
    tiny_text_generator

SHIPPED = ROOT / "models"
BIRD = "a small red bird with black wings"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from condgan.serve.app import create_app

    app = create_app(make_models(tmp_path_factory.mktemp("models")), background_load=False,
                     loaders={"attngan": caption_loader})
    return app.test_client()


def test_caption_model_reports_an_example_it_knows(client):
    info = client.get("/v1/models/tiny_birds").get_json()
    example = info["example_caption"]
    assert example and set(example.split()) <= set(VOCAB)
    body = client.post("/v1/models/tiny_birds:generate",
                       json={"caption": example, "seed": 1}).get_json()
    assert body["unknown_words"] == []
    # the two-object Shapes examples hold words a birds vocabulary lacks: only its own example
    assert info["example_captions"] == [example]
    cgan = client.get("/v1/models/tiny_cgan").get_json()
    assert cgan["example_caption"] is None and cgan["classes"] == CLASSES
    assert cgan["example_captions"] == []


def test_caption_errors_suggest_the_models_own_example(client):
    example = client.get("/v1/models/tiny_birds").get_json()["example_caption"]
    for caption, code in (("  ", "invalid_caption"), ("zebra xylophone", "no_known_words")):
        reply = client.post("/v1/models/tiny_birds:generate", json={"caption": caption})
        error = reply.get_json()["error"]
        assert reply.status_code == 400 and error["code"] == code
        assert example in error["message"] and BIRD not in error["message"]
    missing = client.post("/v1/models/tiny_cgan:generate", json={}).get_json()["error"]
    assert missing["valid_labels"] == CLASSES and "horse" in missing["message"]


def test_card_example_caption_is_used_as_given(tmp_path):
    from condgan.serve.app import create_app

    save_caption_stand_in(tmp_path / "tiny_birds", example_caption="a blue bird")
    app = create_app(tmp_path, background_load=False, loaders={"attngan": caption_loader})
    assert app.test_client().get("/v1/models/tiny_birds").get_json()["example_caption"] == \
        "a blue bird"


@pytest.mark.skipif(not (SHIPPED / "attngan_shapes" / "card.json").is_file(),
                    reason="needs the shipped models/attngan_shapes")
def test_shipped_shapes_model_example_is_a_shapes_caption_it_knows():
    """The shipped card has no example_caption: the example is derived, and every word of it is
    in the model's vocabulary (the bird caption is not)."""
    from condgan.serve.app import create_app

    card = json.loads((SHIPPED / "attngan_shapes" / "card.json").read_text())
    assert "example_caption" not in card  # derived at load time, the shipped files untouched
    vocabulary = set(json.loads((SHIPPED / "attngan_shapes" / "vocabulary.json").read_text())
                     ["words"])
    assert not set(BIRD.split()) <= vocabulary
    app = create_app(SHIPPED, background_load=False)
    client = app.test_client()
    example = client.get("/v1/models/attngan_shapes").get_json()["example_caption"]
    words = example.split()
    assert set(words) <= vocabulary and len(words) >= 6
    assert any(shape in words for shape in ("circle", "square", "triangle", "diamond"))
    reply = client.post("/v1/models/attngan_shapes:generate",
                        json={"caption": example, "n": 2, "seed": 3})
    assert reply.status_code == 200 and reply.get_json()["unknown_words"] == []
    # further examples: two-object captions, every word known
    examples = client.get("/v1/models/attngan_shapes").get_json()["example_captions"]
    assert examples[0] == example and len(examples) >= 2
    assert all(set(e.split()) <= vocabulary and " and " in e for e in examples[1:])
    spec = client.get("/openapi.json").get_json()
    assert {"example_caption", "example_captions"} <= set(
        spec["components"]["schemas"]["ModelInfo"]["properties"])
