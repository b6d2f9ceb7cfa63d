"""What a model's API accepts, from its row of the model-family table (`families.toml`):
the one place requests are shaped by model.

Reasoning models (OpenAI o1, o3, o4-mini, gpt-5) reject `max_tokens` and any temperature but
the default: they take `max_completion_tokens`, and no temperature is sent. Vision models
(GPT-4o, GPT-4.1, GPT-5, o1, o3, o4-mini, every Claude) accept images in a message. A sampling
`seed` is a matter of the API, not the model: OpenAI chat completions (and the `scripted:`
replay, which speaks them) take one, Anthropic's messages API and local models do not. A local
model decodes a structured answer under the JSON schema (`constrained`) where the constraint
library (`lm-format-enforcer`) is installed. A campaign config overrides or extends the table
per model spec or name, e.g.

    [models.capabilities."openai:my-reasoner"]
    reasoning = true
    vision = true
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from scientist.config import CapabilityOverride
from scientist.llm.constrained import constraint_available
from scientist.llm.families import family_of


class ModelCapabilities(BaseModel):
    """`reasoning`: tokens are capped by `max_completion_tokens`; `temperature`: the API takes
    a non-default sampling temperature; `vision`: the model accepts images in a message;
    `seed`: the API takes a sampling seed; `constrained`: a structured answer is decoded
    under its JSON schema, so it validates unless cut short (the repair loop is then only a
    fallback); `context_tokens`: the context window (None: unknown)."""

    model_config = ConfigDict(frozen=True)

    reasoning: bool = False
    temperature: bool = True
    vision: bool = False
    seed: bool = False
    constrained: bool = False
    context_tokens: int | None = None

    @property
    def token_limit_field(self) -> str:
        return "max_completion_tokens" if self.reasoning else "max_tokens"


SEEDED_KINDS = ("openai:", "scripted:")
"""The spec prefixes whose API takes a sampling `seed` (OpenAI chat completions)."""
CONSTRAINED_KINDS = ("local:",)
"""The spec prefixes whose backend decodes under a JSON-schema constraint (`llm/constrained.py`)."""


def capabilities_for(
    spec: str, overrides: dict[str, CapabilityOverride] | None = None
) -> ModelCapabilities:
    """The capabilities of model `spec`: the family table, then the config's override for
    the spec (`openai:o3`) or its bare name (`o3`)."""
    family = family_of(spec)
    found = ModelCapabilities(
        reasoning=family.reasoning,
        temperature=not family.reasoning,
        vision=family.vision,
        seed=spec.startswith(SEEDED_KINDS),
        constrained=spec.startswith(CONSTRAINED_KINDS) and constraint_available(),
        context_tokens=family.context,
    )
    overrides = overrides or {}
    override = overrides.get(spec) or overrides.get(spec.partition(":")[2])
    if override is None:
        return found
    changes = override.model_dump(exclude_none=True)
    if changes.get("reasoning") and "temperature" not in changes:
        changes["temperature"] = False
    return found.model_copy(update=changes)
