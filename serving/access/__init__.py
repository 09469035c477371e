"""Who may call and how much: the API key, per-client quotas, the request body size limit."""
