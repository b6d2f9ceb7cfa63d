"""The no-LLM ("offline") strategies: honest automation driven by the pack's search space."""

from scientist.strategies.evolve import breed_ideas, describe_change

__all__ = ["breed_ideas", "describe_change"]
