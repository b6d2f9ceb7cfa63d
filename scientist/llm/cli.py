"""`scientist llm ...`: check that a model answers, and what a round trip costs."""

from __future__ import annotations

from typing import Annotated

import typer

from scientist.config import ModelsConfig, is_offline
from scientist.errors import ConfigError
from scientist.llm.base import Message
from scientist.llm.router import open_llm
from scientist.prompts import render_prompt

_EXAMPLE = "name one, e.g. openai:gpt-4o or anthropic:claude-sonnet-4-5"
llm_app = typer.Typer(no_args_is_help=True)


@llm_app.callback()
def llm() -> None:
    """Check language-model providers."""


@llm_app.command("check")
def check(
    model: Annotated[
        str,
        typer.Argument(
            help="openai:<model>, anthropic:<model>, local:<path or .gguf or smollm2>, "
            "scripted:<file>"
        ),
    ],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="an OpenAI-compatible server")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="answer length limit")] = 16,
) -> None:
    """One round trip: prints the answer, latency, tokens and cost."""
    if is_offline(model):
        raise ConfigError("'none' selects no model: there is nothing to check", hint=_EXAMPLE)
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"--base-url {base_url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8000/v1"
        )
    models = ModelsConfig(default=model, base_url=base_url, max_retries=1, format_retries=0)
    with open_llm(models) as llm:
        prompt = [Message(role="user", content=render_prompt("llm/check").strip())]
        completion = llm.complete("check", prompt, max_tokens=max_tokens)
    usage = completion.usage
    cost = f"${usage.cost_usd:.6f}" if usage.priced else "unpriced (add it to models.prices)"
    typer.echo(f"model:   {completion.model}")
    typer.echo(f"answer:  {completion.text.strip()[:200]}")
    typer.echo(f"latency: {completion.latency_s:.3f} s")
    typer.echo(f"tokens:  {usage.input_tokens} in, {usage.output_tokens} out")
    typer.echo(f"cost:    {cost}")
