"""Which version answers: the routing table (selector), keeping each replica in step with the
shared state (sync), routing changes (promotion) and the TF Serving model config they imply."""
