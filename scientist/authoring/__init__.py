"""Making packs: a new one from the scaffold, or one from an AI Scientist (v1) template."""
