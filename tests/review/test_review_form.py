"""The review form file, the `Review` record, guidelines and few-shot examples agree."""

from __future__ import annotations

import tomllib

import pytest

from scientist.errors import ConfigError
from scientist.models import Review
from scientist.review.form import (
    REVIEWS_ROOT,
    ReviewForm,
    form_mismatches,
    load_examples,
    load_form,
    load_guidelines,
)


def test_form_file_and_review_record_agree() -> None:
    form = load_form()
    assert form_mismatches(form) == []
    assert list(form.fields) == list(Review.model_fields)


def test_mismatches_are_reported_field_by_field() -> None:
    data = tomllib.loads((REVIEWS_ROOT / "form.toml").read_text(encoding="utf-8"))
    data["fields"]["soundness"]["max"] = 5
    data["fields"]["soundness"]["labels"]["5"] = "flawless"
    data["fields"]["summary"]["kind"] = "list"
    del data["fields"]["confidence"]
    data["fields"]["novelty"] = {"kind": "flag", "label": "Novelty", "ask": "new?"}

    problems = form_mismatches(ReviewForm.model_validate(data))

    assert problems == [
        "field 'confidence' is in Review but not in the form",
        "field 'novelty' is in the form but not in Review",
        "field 'soundness': the form says 1-5, the model says 1-4",
        "field 'summary': the form says list, the model says text",
    ]


def test_broken_form_file_is_a_config_error(tmp_path) -> None:
    path = tmp_path / "form.toml"
    path.write_text('name = "x"\nversion = 1\n[fields.summary]\nkind = "text"\n', "utf-8")
    with pytest.raises(ConfigError, match="is invalid"):
        load_form(path)


def test_scales_carry_the_standard_labels() -> None:
    fields = load_form().fields
    assert fields["overall"].labels[1].startswith("very strong reject")
    assert fields["overall"].labels[6].startswith("weak accept")
    assert fields["overall"].labels[10].startswith("award quality")
    for name in ("soundness", "presentation", "contribution"):
        assert list(fields[name].labels.values()) == ["poor", "fair", "good", "excellent"]
    assert sorted(fields["confidence"].labels) == [1, 2, 3, 4, 5]


def test_rendered_form_lists_every_field_with_its_scale() -> None:
    text = load_form().render()
    for name in Review.model_fields:
        assert f"- {name} (" in text
    assert "integer 1-10" in text
    assert "10 = award quality" in text


def test_examples_cover_both_decisions_and_have_paper_descriptions() -> None:
    examples = load_examples()
    assert len(examples) >= 2
    assert {example.review.decision for example in examples} == {"accept", "reject"}
    for example in examples:
        assert len(example.paper) > 200
    assert "seeds" in load_guidelines()
