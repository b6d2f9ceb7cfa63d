"""Backends behind `ChatModel`: each turns a conversation into one provider request."""
