"""The review form, guidelines and few-shot examples (package data from `reviews/`)."""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal, get_args, get_origin

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scientist.errors import ConfigError
from scientist.models import ClaimCheck, ClaimVerdict, Review
from scientist.resources import package_folder

REVIEWS_ROOT = package_folder("review_form")

FieldKind = Literal["text", "list", "flag", "score", "choice", "claims"]


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FieldKind
    label: str
    ask: str
    min: int | None = None
    max: int | None = None
    labels: dict[int, str] = Field(default_factory=dict)
    choices: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _scale(self) -> FormField:
        if self.kind == "score":
            if self.min is None or self.max is None or self.max <= self.min:
                raise ValueError("a score needs min < max")
            if self.labels and sorted(self.labels) != list(range(self.min, self.max + 1)):
                raise ValueError(f"labels must cover {self.min}..{self.max} exactly")
        if self.kind == "choice" and not self.choices:
            raise ValueError("a choice needs choices")
        return self

    def describe(self, name: str) -> str:
        """One block of the form as the reviewer reads it."""
        head = f"- {name} ({self.label}): {self.ask}"
        if self.kind == "score":
            scale = f"  integer {self.min}-{self.max}"
            lines = [f"{head}", scale]
            lines += [f"    {value} = {text}" for value, text in sorted(self.labels.items())]
            return "\n".join(lines)
        if self.kind == "choice":
            return f"{head}\n  one of: {', '.join(self.choices)}"
        if self.kind == "claims":
            verdicts = " | ".join(f'"{v}"' for v in get_args(ClaimVerdict))
            shape = f'{{"claim": a string, "verdict": {verdicts}, "evidence": a string}}'
            return f"{head}\n  a list of objects {shape}"
        shape = {"text": "a string", "list": "a list of strings", "flag": "true or false"}
        return f"{head}\n  {shape[self.kind]}"


class ReviewForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int
    fields: dict[str, FormField] = Field(min_length=1)

    def render(self) -> str:
        """The whole form as prompt text, in file order."""
        return "\n".join(field.describe(name) for name, field in self.fields.items())


class Example(BaseModel):
    """A few-shot example: a short description of a paper and the review it earned."""

    name: str
    paper: str
    review: Review


_KINDS: dict[object, FieldKind] = {str: "text", bool: "flag", int: "score"}


def _kind_of(annotation: object) -> FieldKind | None:
    """The form kind a `Review` field's annotation corresponds to (None: no form kind)."""
    origin = get_origin(annotation)
    if origin is Literal:
        return "choice"
    if origin is list:
        return "claims" if get_args(annotation) == (ClaimCheck,) else "list"
    return _KINDS.get(annotation)


def form_mismatches(form: ReviewForm, model: type[BaseModel] = Review) -> list[str]:
    """Every way `form` and `model` disagree (fields, kinds, score ranges, choices)."""
    problems: list[str] = []
    model_fields = model.model_fields
    for name in model_fields.keys() - form.fields.keys():
        problems.append(f"field '{name}' is in {model.__name__} but not in the form")
    for name in form.fields.keys() - model_fields.keys():
        problems.append(f"field '{name}' is in the form but not in {model.__name__}")
    for name in form.fields.keys() & model_fields.keys():
        entry, info = form.fields[name], model_fields[name]
        kind = _kind_of(info.annotation)
        if entry.kind != kind:
            problems.append(f"field '{name}': the form says {entry.kind}, the model says {kind}")
            continue
        if kind == "score":
            low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
            high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
            if (entry.min, entry.max) != (low, high):
                problems.append(
                    f"field '{name}': the form says {entry.min}-{entry.max}, "
                    f"the model says {low}-{high}"
                )
        if kind == "choice" and set(entry.choices) != set(get_args(info.annotation)):
            problems.append(f"field '{name}': choices differ from the model's")
    return sorted(problems)


@cache
def load_form(path: Path = REVIEWS_ROOT / "form.toml") -> ReviewForm:
    """Read and validate the form; raise `ConfigError` if it disagrees with `Review`."""
    try:
        form = ReviewForm.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"review form {path} does not exist") from None
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"review form {path} is invalid: {exc}") from None
    problems = form_mismatches(form)
    if problems:
        raise ConfigError(f"review form {path} disagrees with Review: {'; '.join(problems)}")
    return form


@cache
def load_guidelines(path: Path = REVIEWS_ROOT / "guidelines.md") -> str:
    return path.read_text(encoding="utf-8").strip()


@cache
def load_examples(folder: Path = REVIEWS_ROOT / "examples") -> tuple[Example, ...]:
    """Every `<name>.json` review with its `<name>.md` paper description, sorted by name."""
    examples = []
    for review_path in sorted(folder.glob("*.json")):
        paper_path = review_path.with_suffix(".md")
        if not paper_path.is_file():
            raise ConfigError(f"example review {review_path} has no paper description")
        try:
            review = Review.model_validate(json.loads(review_path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigError(f"example review {review_path} is invalid: {exc}") from None
        paper = paper_path.read_text(encoding="utf-8").strip()
        examples.append(Example(name=review_path.stem, paper=paper, review=review))
    return tuple(examples)
