"""The LLM layer: one facade over OpenAI, Anthropic, OpenAI-compatible, local and scripted
models, with structured output, retries, cost accounting, a budget and a model pool.

    from scientist.llm import open_llm, Message, Completion
    llm = open_llm(config.models, campaign=campaign, budget_usd=config.budget_usd, seed=0)
    if not llm.is_offline("ideas"):
        completion = llm.complete("ideas", [Message(role="user", content="...")], schema=Idea)
        llm.reward(completion.call_id, success=True)
"""

from scientist.llm.base import ChatModel, Completion, Message, MessageLike
from scientist.llm.factory import is_offline, open_chat_model
from scientist.llm.pool import ModelStats
from scientist.llm.retry import RetryPolicy
from scientist.llm.router import LLM, open_llm

__all__ = [
    "LLM",
    "ChatModel",
    "Completion",
    "Message",
    "MessageLike",
    "ModelStats",
    "RetryPolicy",
    "is_offline",
    "open_chat_model",
    "open_llm",
]
