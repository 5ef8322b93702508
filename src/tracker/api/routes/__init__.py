"""The API's routers, one module per resource (`runs`, `outputs`, `jobs`) plus the
unauthenticated probes and metrics (`health`)."""
