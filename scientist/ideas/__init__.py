"""Ideas: proposing (LLM or offline), novelty checking, and choosing what runs next."""
