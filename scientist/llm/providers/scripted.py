"""`scripted:<file>`: replay recorded answers through the real openai client.

The provider starts a `ReplayServer` on 127.0.0.1 serving the file's entries (format in
`scientist.llm.replay_server`) and drives an `OpenAIProvider` against it through
`base_url`, so scripted campaigns exercise the same request, retry, repair and cost code
as real ones. A script that runs out raises `LLMProviderError`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from scientist.config import ModelsConfig
from scientist.errors import ConfigError
from scientist.llm.base import Message, Provider, Reply
from scientist.llm.capabilities import ModelCapabilities
from scientist.llm.providers.openai import OpenAIProvider
from scientist.llm.registry import register_provider
from scientist.llm.replay_script import load_script
from scientist.llm.replay_server import ReplayServer


class ScriptedProvider:
    def __init__(
        self, script: Path, *, timeout_s: float = 30, token_limit_field: str = "max_tokens"
    ) -> None:
        script = Path(script)
        try:
            entries = load_script(script)
        except FileNotFoundError:
            raise ConfigError(f"scripted model: {script} does not exist") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            at = f" (at entry {where})" if where else ""
            raise ConfigError(
                f"scripted model: {script} is not a valid script: {first['msg']}{at}",
                hint="a JSON list of {'text': ...} or {'json': ...} entries",
            ) from None
        self.model = f"scripted:{script}"
        self.server = ReplayServer(entries).start()
        self._client = OpenAIProvider(
            "scripted",
            base_url=f"{self.server.url}/v1",
            timeout_s=timeout_s,
            api_key="scripted",
            token_limit_field=token_limit_field,
        )

    def send(
        self,
        messages: list[Message],
        schema: type[BaseModel] | None,
        *,
        temperature: float | None,
        max_tokens: int,
        seed: int | None = None,
    ) -> Reply:
        return self._client.send(
            messages, schema, temperature=temperature, max_tokens=max_tokens, seed=seed
        )

    def check(self) -> None:
        self._client.check()

    def close(self) -> None:
        self._client.close()
        self.server.close()


@register_provider("scripted", paid=False)
def open_scripted(name: str, config: ModelsConfig, capabilities: ModelCapabilities) -> Provider:
    return ScriptedProvider(
        Path(name),
        timeout_s=config.timeout_s,
        token_limit_field=capabilities.token_limit_field,
    )
