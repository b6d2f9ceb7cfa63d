"""The LLM layer: one facade over OpenAI, Anthropic, OpenAI-compatible, local and scripted
models, with structured output, retries, cost accounting, a budget and a model pool.

    from scientist.llm import open_llm, Message, Completion
    llm = open_llm(config.models, campaign=campaign, budget_usd=config.budget_usd, seed=0)
    model = llm.for_role("ideas")          # None when the role is `none`: go offline
    if model is not None:
        completion = model.complete([Message(role="user", content="...")], schema=Idea)
        model.reward(completion.call_id, success=True)
"""

from scientist.config import Role
from scientist.llm.base import ChatModel, Completion, Message, MessageLike
from scientist.llm.factory import open_chat_model
from scientist.llm.pool import ModelStats
from scientist.llm.retry import RetryPolicy
from scientist.llm.router import LLM, RoleModel, open_llm

__all__ = [
    "LLM",
    "ChatModel",
    "Completion",
    "Message",
    "MessageLike",
    "ModelStats",
    "RetryPolicy",
    "Role",
    "RoleModel",
    "open_chat_model",
    "open_llm",
]
