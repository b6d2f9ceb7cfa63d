"""Learned KV-cache eviction (Neural Attention Memory Models) on a synthetic recall world."""
