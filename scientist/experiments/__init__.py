"""Experiments: running ideas in the sandbox, editing their code, checking packs."""
