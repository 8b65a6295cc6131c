"""Provides the service's routers, one module per audience (kiosks; health for load balancers)."""
